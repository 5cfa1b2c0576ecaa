//! VRPs and route origin validation (RFC 6811).
//!
//! Where it sits: the RPKI sources (RTR caches, files, SLURM) produce [`Vrp`]s; the store
//! (`store.rs`) keeps them in a [`VrpTable`] inside an immutable snapshot; the RIB, the CLI
//! and reports call [`VrpTable::state`] (hot path, no allocation) or [`VrpTable::validate`]
//! (with reasons).

use std::fmt;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::{Prefix, PrefixMap};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::route::{Asn, RovState};

/// A validated ROA payload: `prefix` may be announced by `asn` up to `max_length`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Vrp {
    /// The prefix the ROA covers.
    pub prefix: IpNet,
    /// The longest prefix length the ROA authorises.
    pub max_length: u8,
    /// The authorised origin AS.
    pub asn: Asn,
}

/// Why a VRP cannot be built: the max length does not fit the prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("max length {max_length} is outside {prefix}'s length..={max}")]
pub struct VrpError {
    prefix: IpNet,
    max_length: u8,
    max: u8,
}

impl Vrp {
    /// Builds a VRP, checking `prefix.len <= max_length <= address bits`; host bits are cleared.
    pub fn new(prefix: IpNet, max_length: u8, asn: Asn) -> Result<Self, VrpError> {
        let max = prefix.max_prefix_len();
        if max_length < prefix.prefix_len() || max_length > max {
            return Err(VrpError {
                prefix,
                max_length,
                max,
            });
        }
        Ok(Vrp {
            prefix: prefix.trunc(),
            max_length,
            asn,
        })
    }
}

impl fmt::Display for Vrp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{} {}", self.prefix, self.max_length, self.asn)
    }
}

/// A validation state with its reasons: the VRPs that match, and the covering VRPs that do
/// not, split by why (wrong origin AS, or route longer than max length).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// The RFC 6811 state.
    pub state: RovState,
    /// VRPs that match the route.
    pub matched: Vec<Vrp>,
    /// Covering VRPs whose AS is not the route's origin (or the origin is an AS_SET, or AS0).
    pub bad_asn: Vec<Vrp>,
    /// Covering VRPs with the right AS whose max length is shorter than the route.
    pub bad_length: Vec<Vrp>,
}

/// What the table stores per prefix: (max length, AS). Most prefixes have one VRP.
type Entries = SmallVec<[(u8, Asn); 1]>;

/// All VRPs, in one prefix trie per address family.
#[derive(Clone, Default, Debug)]
pub struct VrpTable {
    v4: PrefixMap<Ipv4Net, Entries>,
    v6: PrefixMap<Ipv6Net, Entries>,
    len: usize,
}

impl FromIterator<Vrp> for VrpTable {
    fn from_iter<I: IntoIterator<Item = Vrp>>(vrps: I) -> Self {
        let mut table = VrpTable::new();
        for vrp in vrps {
            table.insert(vrp);
        }
        table
    }
}

impl VrpTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of VRPs.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table holds no VRPs.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a VRP; returns false if it was already there.
    pub fn insert(&mut self, vrp: Vrp) -> bool {
        let entry = (vrp.max_length, vrp.asn);
        let entries = match vrp.prefix {
            IpNet::V4(p) => self.v4.entry(p).or_default(),
            IpNet::V6(p) => self.v6.entry(p).or_default(),
        };
        if entries.contains(&entry) {
            return false;
        }
        entries.push(entry);
        self.len += 1;
        true
    }

    /// Removes a VRP; returns false if it was not there.
    pub fn remove(&mut self, vrp: &Vrp) -> bool {
        let removed = match vrp.prefix {
            IpNet::V4(p) => remove_entry(&mut self.v4, &p, vrp),
            IpNet::V6(p) => remove_entry(&mut self.v6, &p, vrp),
        };
        if removed {
            self.len -= 1;
        }
        removed
    }

    /// Whether the table holds exactly this VRP.
    pub fn contains(&self, vrp: &Vrp) -> bool {
        let entry = (vrp.max_length, vrp.asn);
        match vrp.prefix {
            IpNet::V4(p) => self.v4.get(&p).is_some_and(|e| e.contains(&entry)),
            IpNet::V6(p) => self.v6.get(&p).is_some_and(|e| e.contains(&entry)),
        }
    }

    /// Every VRP, IPv4 first, each family in trie order.
    pub fn iter(&self) -> impl Iterator<Item = Vrp> + '_ {
        let v4 = self
            .v4
            .iter()
            .flat_map(|(p, e)| e.iter().map(move |&(m, a)| vrp(IpNet::V4(p), m, a)));
        let v6 = self
            .v6
            .iter()
            .flat_map(|(p, e)| e.iter().map(move |&(m, a)| vrp(IpNet::V6(p), m, a)));
        v4.chain(v6)
    }

    /// The RFC 6811 state of `prefix` announced by `origin` (`None`: the path ends in an
    /// AS_SET). The hot path, allocation-free for most routes: one longest-match lookup
    /// settles not-found routes, and valid routes whose most specific covering VRP matches;
    /// only the rest walk every covering VRP.
    pub fn state(&self, prefix: &IpNet, origin: Option<Asn>) -> RovState {
        let len = prefix.prefix_len();
        let Some(lpm) = self.longest_covering(prefix) else {
            return RovState::NotFound;
        };
        if lpm
            .iter()
            .any(|&(max_len, asn)| matches(len, origin, max_len, asn))
        {
            return RovState::Valid;
        }
        let found =
            self.each_covering(prefix, |_, max_len, asn| matches(len, origin, max_len, asn));
        if found {
            RovState::Valid
        } else {
            RovState::Invalid
        }
    }

    /// The VRPs of the most specific VRP prefix covering `prefix`.
    fn longest_covering(&self, prefix: &IpNet) -> Option<&Entries> {
        match prefix {
            IpNet::V4(p) => self.v4.get_lpm(p).map(|(_, e)| e),
            IpNet::V6(p) => self.v6.get_lpm(p).map(|(_, e)| e),
        }
    }

    /// The RFC 6811 verdict with its reasons.
    pub fn validate(&self, prefix: &IpNet, origin: Option<Asn>) -> Verdict {
        let mut verdict = Verdict {
            state: RovState::NotFound,
            matched: Vec::new(),
            bad_asn: Vec::new(),
            bad_length: Vec::new(),
        };
        if self.longest_covering(prefix).is_none() {
            return verdict;
        }
        let len = prefix.prefix_len();
        self.each_covering(prefix, |covering, max_len, asn| {
            let v = vrp(covering, max_len, asn);
            if matches(len, origin, max_len, asn) {
                verdict.matched.push(v);
            } else if asn.0 != 0 && Some(asn) == origin {
                verdict.bad_length.push(v);
            } else {
                verdict.bad_asn.push(v);
            }
            false
        });
        verdict.state = if !verdict.matched.is_empty() {
            RovState::Valid
        } else if verdict.bad_asn.is_empty() && verdict.bad_length.is_empty() {
            RovState::NotFound
        } else {
            RovState::Invalid
        };
        verdict
    }

    /// Calls `f(covering prefix, max length, asn)` for every VRP whose prefix covers `prefix`,
    /// stopping early when `f` returns true; returns whether it stopped early.
    fn each_covering(&self, prefix: &IpNet, mut f: impl FnMut(IpNet, u8, Asn) -> bool) -> bool {
        match prefix {
            IpNet::V4(p) => scan(&self.v4, p, |c, m, a| f(IpNet::V4(c), m, a)),
            IpNet::V6(p) => scan(&self.v6, p, |c, m, a| f(IpNet::V6(c), m, a)),
        }
    }
}

fn scan<P: Prefix + Copy>(
    map: &PrefixMap<P, Entries>,
    prefix: &P,
    mut f: impl FnMut(P, u8, Asn) -> bool,
) -> bool {
    for (covering, entries) in map.cover(prefix) {
        for &(max_len, asn) in entries {
            if f(covering, max_len, asn) {
                return true;
            }
        }
    }
    false
}

/// RFC 6811 match of one covering VRP: same origin (never AS0, never an AS_SET) and the
/// route no longer than max length.
fn matches(route_len: u8, origin: Option<Asn>, max_len: u8, asn: Asn) -> bool {
    asn.0 != 0 && Some(asn) == origin && route_len <= max_len
}

fn vrp(prefix: IpNet, max_length: u8, asn: Asn) -> Vrp {
    Vrp {
        prefix,
        max_length,
        asn,
    }
}

fn remove_entry<P: Prefix>(map: &mut PrefixMap<P, Entries>, p: &P, vrp: &Vrp) -> bool {
    let Some(entries) = map.get_mut(p) else {
        return false;
    };
    let Some(pos) = entries.iter().position(|&e| e == (vrp.max_length, vrp.asn)) else {
        return false;
    };
    entries.swap_remove(pos);
    if entries.is_empty() {
        map.remove(p);
    }
    true
}

#[cfg(test)]
#[path = "vrp_tests.rs"]
mod tests;
