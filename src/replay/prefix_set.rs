//! A set of prefixes made for the sink's hot path: one lookup per received prefix.
//!
//! Where it sits: the sink keeps the prefixes it expects and those present in two of these.
//! A full table is almost all IPv4 prefixes of /24 or shorter; those are bits in a bitmap
//! indexed by prefix (4 MiB: every prefix of length 0..=24 has its own bit, numbered as in
//! a complete binary tree), so a lookup is one memory access instead of a hash-table probe
//! into tens of MiB. Longer IPv4 prefixes and IPv6 prefixes go into a hash set.

use foldhash::HashSet;
use ipnet::{IpNet, Ipv4Net};

/// The longest IPv4 prefix kept in the bitmap.
const BITMAP_MAX_LEN: u8 = 24;
/// Words in the bitmap: one bit per prefix of length 0..=24.
const WORDS: usize = (1 << (BITMAP_MAX_LEN + 1)) / 64;

/// A set of prefixes.
#[derive(Default)]
pub struct PrefixSet {
    /// Bit `index(p)` for each IPv4 prefix up to /24 (allocated on first insert).
    bits: Vec<u64>,
    /// Every other prefix.
    other: HashSet<IpNet>,
    len: usize,
}

/// The bit of an IPv4 prefix up to /24: (1 << length) + its network bits.
fn index(p: &IpNet) -> Option<usize> {
    let IpNet::V4(p) = p else { return None };
    let len = p.prefix_len();
    (len <= BITMAP_MAX_LEN).then(|| {
        let bits = u32::from(Ipv4Net::network(p))
            .checked_shr(32 - u32::from(len))
            .unwrap_or(0);
        (1usize << len) + bits as usize
    })
}

impl PrefixSet {
    /// Whether `p` is in the set.
    pub fn contains(&self, p: &IpNet) -> bool {
        match index(p) {
            Some(i) => (self.bits.get(i / 64)).is_some_and(|w| w & (1 << (i % 64)) != 0),
            None => self.other.contains(p),
        }
    }

    /// Adds `p`; whether it was not there yet.
    pub fn insert(&mut self, p: IpNet) -> bool {
        let added = match index(&p) {
            Some(i) => {
                if self.bits.is_empty() {
                    self.bits = vec![0; WORDS];
                }
                let (word, bit) = (&mut self.bits[i / 64], 1 << (i % 64));
                let added = *word & bit == 0;
                *word |= bit;
                added
            }
            None => self.other.insert(p),
        };
        self.len += usize::from(added);
        added
    }

    /// Removes `p`; whether it was there.
    pub fn remove(&mut self, p: &IpNet) -> bool {
        let removed = match index(p) {
            Some(i) => match self.bits.get_mut(i / 64) {
                Some(word) => {
                    let bit = 1 << (i % 64);
                    let removed = *word & bit != 0;
                    *word &= !bit;
                    removed
                }
                None => false,
            },
            None => self.other.remove(p),
        };
        self.len -= usize::from(removed);
        removed
    }

    /// How many prefixes the set holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl FromIterator<IpNet> for PrefixSet {
    fn from_iter<I: IntoIterator<Item = IpNet>>(iter: I) -> Self {
        let mut set = PrefixSet::default();
        for p in iter {
            set.insert(p);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The set agrees with a hash set on prefixes of every kind: /0, /24 and /25 at the
    /// bitmap's edge, host bits set, IPv6; inserts and removes count once.
    #[test]
    fn agrees_with_a_hash_set() {
        let prefixes: Vec<IpNet> = [
            "0.0.0.0/0",
            "128.0.0.0/1",
            "0.0.0.0/1",
            "10.0.0.0/8",
            "10.0.0.0/9",
            "192.0.2.0/24",
            "192.0.3.0/24",
            "255.255.255.0/24",
            "192.0.2.0/25",
            "192.0.2.128/25",
            "192.0.2.1/32",
            "::/0",
            "2001:db8::/32",
            "2001:db8::/48",
        ]
        .iter()
        .map(|s| s.parse().expect("prefix"))
        .collect();
        let mut set = PrefixSet::default();
        let mut reference = HashSet::default();
        for (i, p) in prefixes.iter().enumerate() {
            assert!(!set.contains(p), "{p} before insert");
            assert_eq!(set.insert(*p), reference.insert(*p));
            assert!(!set.insert(*p), "{p} inserted twice");
            for q in &prefixes[..=i] {
                assert!(set.contains(q), "{q} after inserting {p}");
            }
            for q in &prefixes[i + 1..] {
                assert!(!set.contains(q), "{q} not inserted yet, after {p}");
            }
        }
        assert_eq!(set.len(), prefixes.len());
        for p in prefixes.iter().step_by(2) {
            assert!(set.remove(p) && !set.remove(p), "{p} removed once");
            reference.remove(p);
        }
        for p in &prefixes {
            assert_eq!(set.contains(p), reference.contains(p), "{p}");
        }
        assert_eq!(set.len(), reference.len());
    }
}
