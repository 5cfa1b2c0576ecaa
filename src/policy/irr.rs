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

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use serde::Deserialize;
use smallvec::SmallVec;

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

/// The lengths registered under one prefix, as inclusive ranges.
type Lengths = SmallVec<[(u8, u8); 1]>;

/// What one member's AS-SET registers.
#[derive(Clone, Debug, Default)]
pub struct Irr {
    v4: PrefixMap<Ipv4Net, Lengths>,
    v6: PrefixMap<Ipv6Net, Lengths>,
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
            let lengths = match e.prefix.trunc() {
                IpNet::V4(p) => self.v4.entry(p).or_default(),
                IpNet::V6(p) => self.v6.entry(p).or_default(),
            };
            lengths.push((min, max));
        }
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
        let len = prefix.prefix_len();
        let fits = |lengths: &Lengths| lengths.iter().any(|&(min, max)| min <= len && len <= max);
        match prefix {
            IpNet::V4(p) => self.v4.cover(p).any(|(_, l)| fits(l)),
            IpNet::V6(p) => self.v6.cover(p).any(|(_, l)| fits(l)),
        }
    }

    /// Whether `origin` is one of the AS-SET's members.
    pub fn has_origin(&self, origin: Asn) -> bool {
        self.origins.contains(&origin)
    }
}

#[cfg(test)]
mod tests {
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
