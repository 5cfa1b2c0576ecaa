//! IRR data: the prefixes and origin ASNs a member may announce, read from bgpq4's JSON.
//!
//! Where it sits: the IRR import check asks a member's [`Irr`] whether a path's prefix and
//! origin are registered. The files come from the tool IXPs already run per AS-SET:
//!
//! ```text
//! bgpq4 -j -A -4 -l AS-EXAMPLE AS-EXAMPLE > AS-EXAMPLE.v4.json   # prefixes (and -6)
//! bgpq4 -j -t -l AS-EXAMPLE AS-EXAMPLE > AS-EXAMPLE.asns.json    # origin ASNs
//! ```
//!
//! A prefix entry is `{"prefix": P, "exact": true}` (P itself), or with `"exact": false` a
//! range of lengths from `greater-equal` (P's own length when absent) to `less-equal`.

use std::collections::HashSet;

use ipnet::IpNet;
use serde::Deserialize;

use crate::route::Asn;

/// Why an IRR file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IrrError {
    /// Not bgpq4's JSON: one object with one list.
    #[error("not bgpq4 JSON output: {0}")]
    Json(#[from] serde_json::Error),
    /// The object holds no list, or more than one.
    #[error("expected one named list, found {0}")]
    Lists(usize),
    /// A range whose lengths do not fit the prefix.
    #[error("prefix {prefix}: lengths {min}-{max} do not fit")]
    Range { prefix: IpNet, min: u8, max: u8 },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    prefix: IpNet,
    exact: bool,
    #[serde(rename = "greater-equal")]
    greater_equal: Option<u8>,
    #[serde(rename = "less-equal")]
    less_equal: Option<u8>,
}

/// An address as the ranges hold it: an unsigned integer of the family's width.
trait Addr: Ord + Copy {
    /// The address's top `bits` bits (0 to 24), as an index.
    fn top(self, bits: u32) -> usize;
    /// Whether `self` directly follows `before` (no address between them).
    fn follows(self, before: Self) -> bool;
}

macro_rules! addr {
    ($t:ty) => {
        impl Addr for $t {
            fn top(self, bits: u32) -> usize {
                self.checked_shr(<$t>::BITS - bits).unwrap_or(0) as usize
            }
            fn follows(self, before: Self) -> bool {
                before.checked_add(1) == Some(self)
            }
        }
    };
}
addr!(u32);
addr!(u128);

/// One prefix length's address ranges, sorted and merged, looked up in one of two forms:
/// a bitmap with a bit per address block of that length where that is not much larger than
/// the ranges (one memory read per lookup: an AS-SET that registers much of the table),
/// else an index by the ranges' top bits so that a lookup searches only the few ranges that
/// start in the address's bucket (two reads).
#[derive(Clone, Debug, Default)]
struct Sorted<A> {
    /// The ranges, kept in either form: [`Ranges::merge`] rebuilds from them when another
    /// file adds to the length.
    ranges: Vec<(A, A)>,
    /// How many top bits pick a bucket: about log2 of the number of ranges, at most 16.
    bits: u32,
    /// `first[b]`: the index of the first range that starts in bucket `b` or after it;
    /// one entry more than there are buckets. Empty when `blocks` is used.
    first: Vec<u32>,
    /// The bitmap form: bit `i` is set when block `i` of the length (the address's top
    /// `len` bits) lies in a range.
    blocks: Vec<u64>,
    /// The prefix length, which picks a block for the bitmap.
    len: u32,
}

/// The longest prefix length with a bitmap (2^24 bits: 2 MiB).
const BITMAP_MAX_LEN: u32 = 24;

impl<A: Addr> Sorted<A> {
    /// Sorts the ranges of prefix length `len`, merges those that overlap or touch, and
    /// indexes them.
    fn build(len: u32, mut ranges: Vec<(A, A)>) -> Self {
        ranges.sort_unstable();
        ranges.dedup_by(|next, kept| {
            let joins = next.0 <= kept.1 || next.0.follows(kept.1);
            if joins {
                kept.1 = kept.1.max(next.1);
            }
            joins
        });
        let words = (1_usize << len.min(BITMAP_MAX_LEN)).div_ceil(64);
        let dense = len <= BITMAP_MAX_LEN
            && !ranges.is_empty()
            && words * 8 <= 2 * std::mem::size_of_val(ranges.as_slice());
        let (mut bits, mut first, mut blocks) = (0, Vec::new(), Vec::new());
        if dense {
            blocks = vec![0_u64; words];
            for &(start, end) in &ranges {
                for block in start.top(len)..=end.top(len) {
                    blocks[block / 64] |= 1 << (block % 64);
                }
            }
        } else {
            bits = ranges.len().max(1).ilog2().min(16);
            first = Vec::with_capacity((1 << bits) + 1);
            for (i, range) in ranges.iter().enumerate() {
                first.resize(first.len().max(range.0.top(bits) + 1), i as u32);
            }
            first.resize((1 << bits) + 1, ranges.len() as u32);
        }
        Sorted {
            ranges,
            bits,
            first,
            blocks,
            len,
        }
    }

    /// Whether `addr` falls in one of the ranges.
    fn contains(&self, addr: A) -> bool {
        if !self.blocks.is_empty() {
            let block = addr.top(self.len);
            return self.blocks[block / 64] & 1 << (block % 64) != 0;
        }
        let bucket = addr.top(self.bits);
        let (from, to) = (self.first[bucket] as usize, self.first[bucket + 1] as usize);
        // The last range starting at or before `addr`: in the bucket, or just before it.
        let last = from + self.ranges[from..to].partition_point(|&(start, _)| start <= addr);
        last > 0 && addr <= self.ranges[last - 1].1
    }
}

/// Address ranges per prefix length, sorted and merged, so that whether an address falls
/// in one is a short search in one bucket (a prefix trie walks every covering node
/// instead, and an AS-SET may register a large part of the table).
#[derive(Clone, Debug, Default)]
struct Ranges<A> {
    /// Index: a prefix length; value: the ranges listed for that length, as added.
    added: Vec<Vec<(A, A)>>,
    /// The same, sorted, merged and indexed by [`Ranges::merge`].
    by_length: Vec<Sorted<A>>,
}

impl<A: Addr> Ranges<A> {
    fn add(&mut self, len: u8, range: (A, A)) {
        let len = usize::from(len);
        if self.added.len() <= len {
            self.added.resize_with(len + 1, Vec::new);
        }
        self.added[len].push(range);
    }

    /// Sorts each length's ranges, merges those that overlap and indexes them.
    fn merge(&mut self) {
        let merged = std::mem::take(&mut self.by_length).into_iter();
        let mut all: Vec<Vec<(A, A)>> = merged.map(|sorted| sorted.ranges).collect();
        all.resize_with(all.len().max(self.added.len()), Vec::new);
        for (len, added) in std::mem::take(&mut self.added).into_iter().enumerate() {
            all[len].extend(added);
        }
        self.by_length = (all.into_iter().enumerate())
            .map(|(len, ranges)| Sorted::build(len as u32, ranges))
            .collect();
    }

    /// Whether `addr` falls in a range listed for `len`.
    fn contains(&self, len: u8, addr: A) -> bool {
        (self.by_length.get(usize::from(len))).is_some_and(|s| s.contains(addr))
    }
}

/// One family's registered prefixes.
#[derive(Clone, Debug, Default)]
struct Registered<A> {
    /// By the lengths a route may have: `allowed[L]` holds every range registered for /L.
    allowed: Ranges<A>,
    /// By the registered prefix's own length.
    own: Ranges<A>,
}

impl<A: Addr> Registered<A> {
    fn add(&mut self, (own, (min, max)): (u8, (u8, u8)), range: (A, A)) {
        self.own.add(own, range);
        for len in min..=max {
            self.allowed.add(len, range);
        }
    }

    fn merge(&mut self) {
        self.allowed.merge();
        self.own.merge();
    }

    fn covers(&self, len: u8, addr: A) -> bool {
        self.allowed.contains(len, addr)
    }

    fn covers_any_length(&self, len: u8, addr: A) -> bool {
        (0..=len).any(|own| self.own.contains(own, addr))
    }
}

/// What one member's AS-SET registers.
#[derive(Clone, Debug, Default)]
pub struct Irr {
    v4: Registered<u32>,
    v6: Registered<u128>,
    origins: HashSet<Asn>,
    /// Whether a prefix list / an origin list was read (a check without one is not run).
    lists: (bool, bool),
}

/// The one list in a bgpq4 JSON object (`{"NAME": [...]}`).
fn the_list<T: for<'de> Deserialize<'de>>(json: &str) -> Result<Vec<T>, IrrError> {
    let mut object: std::collections::HashMap<String, Vec<T>> = serde_json::from_str(json)?;
    let lists = object.len();
    let list = object.drain().next().filter(|_| lists == 1);
    list.map(|(_, list)| list).ok_or(IrrError::Lists(lists))
}

impl Irr {
    /// Adds a `bgpq4 -j` file of either kind: a prefix list, or (`-t`) origin ASNs.
    pub fn add_file(&mut self, json: &str) -> Result<(), IrrError> {
        match the_list::<serde_json::Value>(json)?.first() {
            Some(serde_json::Value::Number(_)) => self.add_origins(json),
            _ => self.add_prefixes(json),
        }
    }

    /// Adds the prefixes of a `bgpq4 -j` file.
    pub fn add_prefixes(&mut self, json: &str) -> Result<(), IrrError> {
        self.lists.0 = true;
        for e in the_list::<Entry>(json)? {
            let own = e.prefix.prefix_len();
            let (min, max) = match e.exact {
                true => (own, own),
                false => (e.greater_equal.unwrap_or(own), e.less_equal.unwrap_or(own)),
            };
            if min < own || max < min || max > e.prefix.max_prefix_len() {
                return Err(IrrError::Range {
                    prefix: e.prefix,
                    min,
                    max,
                });
            }
            let lengths = (own, (min, max));
            match e.prefix.trunc() {
                IpNet::V4(p) => (self.v4).add(lengths, (p.network().into(), p.broadcast().into())),
                IpNet::V6(p) => (self.v6).add(lengths, (p.network().into(), p.broadcast().into())),
            }
        }
        self.v4.merge();
        self.v6.merge();
        Ok(())
    }

    /// Adds the origin ASNs of a `bgpq4 -j -t` file.
    pub fn add_origins(&mut self, json: &str) -> Result<(), IrrError> {
        self.lists.1 = true;
        self.origins
            .extend(the_list::<u32>(json)?.into_iter().map(Asn));
        Ok(())
    }

    /// Whether a prefix list was read, and whether an origin list was.
    pub fn lists(&self) -> (bool, bool) {
        self.lists
    }

    /// Whether some registered range covers `prefix` at its length.
    pub fn covers(&self, prefix: &IpNet) -> bool {
        match prefix {
            IpNet::V4(p) => self.v4.covers(p.prefix_len(), p.network().into()),
            IpNet::V6(p) => self.v6.covers(p.prefix_len(), p.network().into()),
        }
    }

    /// Whether a registered prefix covers `prefix` at any length (a blackhole request may
    /// be as long as a host route).
    pub fn covers_any_length(&self, prefix: &IpNet) -> bool {
        match prefix {
            IpNet::V4(p) => (self.v4).covers_any_length(p.prefix_len(), p.network().into()),
            IpNet::V6(p) => (self.v6).covers_any_length(p.prefix_len(), p.network().into()),
        }
    }

    /// Whether `origin` is one of the AS-SET's members.
    pub fn has_origin(&self, origin: Asn) -> bool {
        self.origins.contains(&origin)
    }
}

#[cfg(test)]
#[path = "irr_tests.rs"]
mod tests;
