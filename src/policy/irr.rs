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

/// Address ranges per prefix length, sorted and merged, so that whether an address falls
/// in one is a single binary search (a prefix trie walks every covering node instead, and
/// an AS-SET may register a large part of the table).
#[derive(Clone, Debug, Default)]
struct Ranges<A> {
    /// Index: a prefix length; value: the address ranges listed for that length.
    by_length: Vec<Vec<(A, A)>>,
}

impl<A: Ord + Copy> Ranges<A> {
    fn add(&mut self, len: u8, range: (A, A)) {
        let len = usize::from(len);
        if self.by_length.len() <= len {
            self.by_length.resize_with(len + 1, Vec::new);
        }
        self.by_length[len].push(range);
    }

    /// Sorts each length's ranges and merges those that overlap.
    fn merge(&mut self) {
        for ranges in &mut self.by_length {
            ranges.sort_unstable();
            ranges.dedup_by(|next, kept| {
                let overlaps = next.0 <= kept.1;
                if overlaps {
                    kept.1 = kept.1.max(next.1);
                }
                overlaps
            });
        }
    }

    /// Whether `addr` falls in a range listed for `len`.
    fn contains(&self, len: u8, addr: A) -> bool {
        let Some(ranges) = self.by_length.get(usize::from(len)) else {
            return false;
        };
        let after = ranges.partition_point(|&(start, _)| start <= addr);
        after > 0 && addr <= ranges[after - 1].1
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

impl<A: Ord + Copy> Registered<A> {
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
mod tests {
    use ipnet::Ipv4Net;

    use super::*;

    // The three entry forms bgpq4 writes (its printer's format strings), with -A aggregation.
    const PREFIXES: &str = r#"{ "AS-EXAMPLE": [
    { "prefix": "192.0.2.0/24", "exact": true },
    { "prefix": "198.51.100.0/22", "exact": false,
      "greater-equal": 23, "less-equal": 24 },
    { "prefix": "2001:db8::/32", "exact": false, "less-equal": 48 }
] }"#;

    fn irr() -> Irr {
        let mut irr = Irr::default();
        irr.add_prefixes(PREFIXES).unwrap();
        irr.add_origins("{\"AS-EXAMPLE\": [\n  64496,\n  64497\n]}")
            .unwrap();
        irr
    }

    #[test]
    fn prefixes_are_covered_by_their_ranges() {
        let irr = irr();
        let covered = |p: &str| irr.covers(&p.parse().unwrap());
        assert!(covered("192.0.2.0/24"));
        assert!(!covered("192.0.2.0/25"), "exact means exactly /24");
        assert!(!covered("198.51.100.0/22"), "below greater-equal");
        assert!(covered("198.51.100.0/23") && covered("198.51.102.0/24"));
        assert!(!covered("198.51.100.0/25"), "above less-equal");
        assert!(covered("2001:db8::/32") && covered("2001:db8:ff::/48"));
        assert!(!covered("2001:db8::/49") && !covered("2001:db9::/48"));
        assert!(!covered("203.0.113.0/24"));
    }

    #[test]
    fn every_prefix_agrees_with_a_scan_of_the_entries() {
        // Overlapping, nested and adjacent entries, merged per length.
        let entries = [
            ("10.0.0.0/9", 9, 11),
            ("10.0.0.0/10", 12, 12),
            ("10.64.0.0/10", 10, 10),
            ("10.96.0.0/11", 11, 14),
            ("10.128.0.0/12", 14, 14),
            ("10.144.0.0/12", 13, 14),
            ("10.192.0.0/12", 14, 14),
        ];
        let mut irr = Irr::default();
        for (prefix, min, max) in entries {
            let entry = format!(
                r#"{{"prefix": "{prefix}", "exact": false, "greater-equal": {min}, "less-equal": {max}}}"#
            );
            irr.add_prefixes(&format!(r#"{{"A": [{entry}]}}"#)).unwrap();
        }
        let eight: Ipv4Net = "10.0.0.0/8".parse().unwrap();
        for len in 8..=16 {
            for prefix in eight.subnets(len).unwrap() {
                let within = |e: &(&str, u8, u8)| e.0.parse::<Ipv4Net>().unwrap().contains(&prefix);
                let scan = entries
                    .iter()
                    .any(|e| within(e) && (e.1..=e.2).contains(&len));
                let registered = entries.iter().any(within);
                let p = IpNet::V4(prefix);
                assert_eq!(irr.covers(&p), scan, "{prefix}");
                assert_eq!(irr.covers_any_length(&p), registered, "{prefix}");
            }
        }
    }

    #[test]
    fn origins() {
        let irr = irr();
        assert!(irr.has_origin(Asn(64496)) && irr.has_origin(Asn(64497)));
        assert!(!irr.has_origin(Asn(64498)));
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let mut irr = Irr::default();
        let err = |json: &str| Irr::default().add_prefixes(json).unwrap_err().to_string();
        assert!(err("[]").starts_with("not bgpq4 JSON"));
        assert_eq!(err("{}"), "expected one named list, found 0");
        assert_eq!(
            err(r#"{"A": [], "B": []}"#),
            "expected one named list, found 2"
        );
        let wide = r#"{"A": [{"prefix": "192.0.2.0/24", "exact": false, "less-equal": 33}]}"#;
        assert_eq!(err(wide), "prefix 192.0.2.0/24: lengths 24-33 do not fit");
        let typo = r#"{"A": [{"prefix": "192.0.2.0/24", "exact": true, "ge": 25}]}"#;
        assert!(err(typo).contains("unknown field `ge`"));
        assert!(irr.add_origins(r#"{"A": ["AS1"]}"#).is_err());
    }
}
