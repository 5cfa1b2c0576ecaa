//! One source's VRPs, held compactly: a sorted array per family, 12 bytes an IPv4 VRP
//! and 24 an IPv6 one, where a hash set of [`Vrp`]s took about 31 (24 and a control
//! byte, at most 7/8 full). Every cache and VRP file keeps its own set beside the merged
//! [`VrpTable`](super::vrp::VrpTable); at 424k VRPs the hash set was 12.5 MiB of the
//! 83-member peak (BENCHMARKS.md).
//!
//! Where it sits: `sources.rs` holds one per cache and per file. It asks whether a VRP
//! is in one, walks one, and changes one by whole updates ([`VrpSet::apply`], a merge of
//! sorted lists), whose changes it then checks against the effective set.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use itertools::{Either, EitherOrBoth, Itertools};

use super::vrp::Vrp;
use crate::route::Asn;

/// A set of VRPs (see the module doc).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VrpSet {
    v4: Vec<V4>,
    v6: Vec<V6>,
}

/// An IPv4 VRP, packed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct V4 {
    addr: u32,
    len: u8,
    max_length: u8,
    asn: u32,
}

/// An IPv6 VRP, packed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct V6 {
    addr: [u8; 16],
    len: u8,
    max_length: u8,
    asn: u32,
}

impl From<V4> for Vrp {
    fn from(v: V4) -> Vrp {
        // The length came from an `Ipv4Net`.
        let prefix = Ipv4Net::new_assert(Ipv4Addr::from(v.addr), v.len);
        Vrp {
            prefix: IpNet::V4(prefix),
            max_length: v.max_length,
            asn: Asn(v.asn),
        }
    }
}

impl From<V6> for Vrp {
    fn from(v: V6) -> Vrp {
        // The length came from an `Ipv6Net`.
        let prefix = Ipv6Net::new_assert(Ipv6Addr::from(v.addr), v.len);
        Vrp {
            prefix: IpNet::V6(prefix),
            max_length: v.max_length,
            asn: Asn(v.asn),
        }
    }
}

/// `vrp` packed, as an IPv4 or an IPv6 one.
fn pack(vrp: &Vrp) -> Either<V4, V6> {
    let (max_length, asn) = (vrp.max_length, vrp.asn.0);
    match vrp.prefix {
        IpNet::V4(p) => Either::Left(V4 {
            addr: p.addr().into(),
            len: p.prefix_len(),
            max_length,
            asn,
        }),
        IpNet::V6(p) => Either::Right(V6 {
            addr: p.addr().octets(),
            len: p.prefix_len(),
            max_length,
            asn,
        }),
    }
}

/// `vrps` packed, by family.
fn split(vrps: Vec<Vrp>) -> (Vec<V4>, Vec<V6>) {
    vrps.iter().map(pack).partition_map(|p| p)
}

/// `items` sorted, each once, without spare capacity.
fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort_unstable();
    items.dedup();
    items.shrink_to_fit();
    items
}

impl VrpSet {
    /// The set of `vrps` (one held twice is held once).
    pub fn of(vrps: Vec<Vrp>) -> VrpSet {
        let (v4, v6) = split(vrps);
        VrpSet {
            v4: sorted(v4),
            v6: sorted(v6),
        }
    }

    /// How many VRPs it holds.
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Whether it holds `vrp`.
    pub fn contains(&self, vrp: &Vrp) -> bool {
        match pack(vrp) {
            Either::Left(v) => self.v4.binary_search(&v).is_ok(),
            Either::Right(v) => self.v6.binary_search(&v).is_ok(),
        }
    }

    /// Every VRP it holds, IPv4 first, each family in a fixed order.
    pub fn iter(&self) -> impl Iterator<Item = Vrp> + '_ {
        let v4 = self.v4.iter().map(|&v| Vrp::from(v));
        v4.chain(self.v6.iter().map(|&v| Vrp::from(v)))
    }

    /// Empties it, and gives its memory back.
    pub fn clear(&mut self) {
        *self = VrpSet::default();
    }

    /// Removes `withdrawn`, then adds `announced`, as an RTR update does; calls `changed`
    /// with each VRP held before and not after, or after and not before.
    pub fn apply(
        &mut self,
        withdrawn: Vec<Vrp>,
        announced: Vec<Vrp>,
        mut changed: impl FnMut(Vrp),
    ) {
        let (out4, out6) = split(withdrawn);
        let (in4, in6) = split(announced);
        apply(&mut self.v4, out4, in4, &mut changed);
        apply(&mut self.v6, out6, in6, &mut changed);
    }

    /// The VRPs held by one of `self` and `other` only.
    pub fn symmetric_difference<'a>(&'a self, other: &'a VrpSet) -> impl Iterator<Item = Vrp> + 'a {
        let v4 = differences(&self.v4, &other.v4).map(Vrp::from);
        v4.chain(differences(&self.v6, &other.v6).map(Vrp::from))
    }
}

/// One family of [`VrpSet::apply`].
fn apply<T>(set: &mut Vec<T>, withdrawn: Vec<T>, announced: Vec<T>, changed: &mut impl FnMut(Vrp))
where
    T: Ord + Copy + Into<Vrp>,
{
    if withdrawn.is_empty() && announced.is_empty() {
        return;
    }
    let withdrawn = sorted(withdrawn);
    let kept = set
        .iter()
        .copied()
        .filter(|v| withdrawn.binary_search(v).is_err());
    let mut after = Vec::with_capacity(set.len() + announced.len());
    let merged = kept.merge_join_by(sorted(announced), Ord::cmp);
    after.extend(merged.map(|v| v.reduce(|kept, _| kept)));
    after.shrink_to_fit();
    differences(set, &after).for_each(|v| changed(v.into()));
    *set = after;
}

/// The items of one of two sorted lists only.
fn differences<'a, T: Ord + Copy>(a: &'a [T], b: &'a [T]) -> impl Iterator<Item = T> + 'a {
    a.iter().merge_join_by(b, Ord::cmp).filter_map(|e| match e {
        EitherOrBoth::Left(&v) | EitherOrBoth::Right(&v) => Some(v),
        EitherOrBoth::Both(..) => None,
    })
}

#[cfg(test)]
#[path = "vrp_set_tests.rs"]
mod tests;
