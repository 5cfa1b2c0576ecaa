//! The IXP import checks beside ROV (MANRS for IXPs, action 1): each is a reason a route
//! may be filtered, with its Euro-IX filtered-reason code (`rs_asn:1101:N`).
//!
//! Where it sits: the RIB runs [`check`] on every path a peer sends, beside ROV; the answer
//! is the set of checks the path fails ([`Failed`]). What a failure does (accept, tag,
//! shadow, drop) is the peer's mode for that check, as for ROV. Pure: no I/O.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use super::aspa::{verify, AspaProcedure, AspaState};
use super::bogons::{asn_bogon, prefix_bogon};
use super::irr::Irr;
use super::modes::CheckModes;
use crate::route::{AsPath, Asn, Family, RovState, Segment};
use crate::rpki::AspaTable;

/// One import check, by its Euro-IX filtered-reason code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Check {
    /// The prefix is longer than the family's bound (IPv4 /24, IPv6 /48 by default).
    PrefixTooLong = 1,
    /// The prefix is shorter than the family's bound (IPv4 /8, IPv6 /16 by default).
    PrefixTooShort = 2,
    /// A bogon prefix, the default route, or IPv6 outside global unicast.
    Bogon = 3,
    /// A bogon or reserved AS number anywhere in the AS_PATH.
    BogonAsn = 4,
    /// The AS_PATH is longer than the bound (64 by default), or holds an AS_SET.
    AsPathTooLong = 5,
    /// The next hop is not one the peer may use.
    NextHop = 8,
    /// The prefix is not in the peer's AS-SET.
    IrrPrefix = 9,
    /// The origin AS is not in the peer's AS-SET.
    IrrOrigin = 10,
    /// A transit-free ("never via route servers") AS after the peer's own.
    TransitFree = 14,
    /// ASPA verification finds the AS_PATH Invalid (a route leak). Not in the Euro-IX
    /// list (which ends at 15); 16 is arouteserver's code for "ASPA INVALID AS_PATH".
    Aspa = 16,
}

impl Check {
    /// Every check, in code order.
    pub const ALL: [Check; 10] = [
        Check::PrefixTooLong,
        Check::PrefixTooShort,
        Check::Bogon,
        Check::BogonAsn,
        Check::AsPathTooLong,
        Check::NextHop,
        Check::IrrPrefix,
        Check::IrrOrigin,
        Check::TransitFree,
        Check::Aspa,
    ];

    /// The `N` of `rs_asn:1101:N`.
    pub fn code(self) -> u32 {
        u32::from(self as u8)
    }

    /// The check's name in counts, reports and logs.
    pub fn name(self) -> &'static str {
        match self {
            Check::PrefixTooLong => "prefix_too_long",
            Check::PrefixTooShort => "prefix_too_short",
            Check::Bogon => "bogon_prefix",
            Check::BogonAsn => "bogon_asn",
            Check::AsPathTooLong => "as_path",
            Check::NextHop => "next_hop",
            Check::IrrPrefix => "irr_prefix",
            Check::IrrOrigin => "irr_origin",
            Check::TransitFree => "transit_free",
            Check::Aspa => "aspa_invalid",
        }
    }

    /// What the member can do about it, for the what-if report.
    pub fn advice(self) -> &'static str {
        match self {
            Check::PrefixTooLong | Check::PrefixTooShort => {
                "announce the covering prefix within the length bounds instead"
            }
            Check::Bogon => "stop announcing this special-purpose prefix (a leak)",
            Check::BogonAsn => "remove private or reserved ASNs from the path (a leak)",
            Check::AsPathTooLong => "shorten the path (less prepending, no AS_SET)",
            Check::NextHop => "set the next hop to the router's own address on the peering LAN",
            Check::IrrPrefix => "register a route object in the AS-SET (or sign a ROA)",
            Check::IrrOrigin => "add the origin AS to the AS-SET",
            Check::TransitFree => "do not pass routes learned from a transit-free network",
            Check::Aspa => {
                "stop passing routes learned from a peer or provider (a leak), or have the AS \
                 named add its provider to its ASPA"
            }
        }
    }
}

/// The checks a path failed, as a bit set by code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Failed(u32);

impl std::ops::BitOr for Failed {
    type Output = Failed;

    /// The checks either failed.
    fn bitor(self, other: Failed) -> Failed {
        Failed(self.0 | other.0)
    }
}

impl Failed {
    /// Adds `check`.
    pub fn add(&mut self, check: Check) {
        self.0 |= 1 << check.code();
    }

    /// `self` without `check`.
    pub fn without(self, check: Check) -> Failed {
        Failed(self.0 & !(1 << check.code()))
    }

    /// Whether no check failed.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `check` failed.
    pub fn has(self, check: Check) -> bool {
        self.0 & (1 << check.code()) != 0
    }

    /// The failed checks, in code order.
    pub fn iter(self) -> impl Iterator<Item = Check> {
        Check::ALL.into_iter().filter(move |c| self.has(*c))
    }
}

/// Which next hops a peer may announce (RFC 7947 §2.3 leaves it to the operator).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NextHopPolicy {
    /// Only the peer's own address.
    Strict,
    /// Any address of the peer's AS on the peering LAN (these, besides its own).
    SameAs(Vec<IpAddr>),
    /// Any.
    Off,
}

/// What one peer's routes are checked against.
#[derive(Clone, Debug)]
pub struct Filters {
    /// The peer's AS: never a bogon (test peers use documentation ASNs).
    pub asn: Asn,
    /// The peer's address.
    pub address: IpAddr,
    /// Which next hops it may use.
    pub next_hop: NextHopPolicy,
    /// Inclusive prefix length bounds for IPv4 and IPv6.
    pub v4_lengths: (u8, u8),
    /// Inclusive prefix length bounds for IPv6.
    pub v6_lengths: (u8, u8),
    /// The longest AS_PATH accepted.
    pub max_as_path: usize,
    /// ASNs that must not appear after the peer's own, sorted.
    pub transit_free: Vec<Asn>,
    /// The peer's AS-SET; none: no IRR check.
    pub irr: Option<Irr>,
    /// A route with a valid ROA passes the IRR prefix check (arouteserver's
    /// `use_rpki_roas_as_route_objects`).
    pub roa_as_route_object: bool,
    /// Where IPv4 blackhole requests are sent; none: BLACKHOLE is an ordinary community.
    pub blackhole_v4: Option<Ipv4Addr>,
    /// Where IPv6 blackhole requests are sent.
    pub blackhole_v6: Option<Ipv6Addr>,
    /// How ASPA verifies the peer's paths (from its role).
    pub aspa: AspaProcedure,
}

/// The transit-free networks an IXP route server refuses behind a member by default: the
/// usual "tier-1" set (arouteserver's and IXP Manager's lists).
pub const TRANSIT_FREE: [u32; 17] = [
    174, 209, 701, 1239, 1299, 2914, 3257, 3320, 3356, 3491, 5511, 6453, 6461, 6762, 6830, 7018,
    12956,
];

impl Filters {
    /// What an IXP ships for a member of AS `asn` at `address`: next hop strict, IPv4
    /// /8-/24, IPv6 /16-/48, at most 64 ASNs, [`TRANSIT_FREE`], no AS-SET, ROAs as route
    /// objects.
    pub fn ixp_defaults(asn: Asn, address: IpAddr) -> Filters {
        Filters {
            asn,
            address,
            next_hop: NextHopPolicy::Strict,
            v4_lengths: (8, 24),
            v6_lengths: (16, 48),
            max_as_path: 64,
            transit_free: TRANSIT_FREE.into_iter().map(Asn).collect(),
            irr: None,
            roa_as_route_object: true,
            blackhole_v4: None,
            blackhole_v6: None,
            aspa: AspaProcedure::Upstream,
        }
    }

    /// Where a blackhole request for a route of `family` is sent, if the peer may make one.
    pub fn blackhole(&self, family: Family) -> Option<IpAddr> {
        match family {
            Family::Ipv4Unicast => self.blackhole_v4.map(IpAddr::V4),
            Family::Ipv6Unicast => self.blackhole_v6.map(IpAddr::V6),
        }
    }
}

impl Filters {
    /// Whether a route's RPKI state changes what it fails: a valid ROA stands in for a
    /// missing route object.
    pub fn roa_stands_in(&self) -> bool {
        self.roa_as_route_object && self.irr.is_some()
    }
}

/// A route as the checks see it: its prefix, AS_PATH, next hop, and whether it carries an
/// RFC 7999 BLACKHOLE request.
#[derive(Clone, Copy, Debug)]
pub struct Route<'a> {
    /// The prefix.
    pub prefix: &'a IpNet,
    /// The AS_PATH.
    pub path: &'a AsPath,
    /// The next hop as received.
    pub next_hop: IpAddr,
    /// BLACKHOLE (65535:666) is on it.
    pub blackhole: bool,
    /// Its RPKI state: a valid ROA stands in for a missing route object when
    /// `roa_as_route_object` is set.
    pub state: RovState,
}

/// The checks that `modes` runs and that `route` from the peer of `filters` fails. A
/// blackhole request the peer may make ([`Filters::blackhole`]) may be longer than the
/// length bound, up to a host route, and within any length of a registered prefix.
pub fn check(filters: &Filters, modes: &CheckModes, aspas: &AspaTable, route: Route) -> Failed {
    let path = check_path(filters, modes, aspas, route.path, route.next_hop);
    path | check_prefix(filters, modes, route)
}

/// The checks of [`check`] that look at the AS_PATH and next hop alone, the same for every
/// prefix of an UPDATE: bogon ASNs, AS_PATH length and sets, next hop, IRR origin,
/// transit-free, ASPA (against `aspas`).
pub fn check_path(
    filters: &Filters,
    modes: &CheckModes,
    aspas: &AspaTable,
    path: &AsPath,
    next_hop: IpAddr,
) -> Failed {
    let mut failed = Failed::default();
    if *modes == CheckModes::default() {
        return failed;
    }
    let own = |a: u32| Asn(a) == filters.asn;
    let mut fails = |c: Check, test: &dyn Fn() -> bool| {
        if modes.runs(c) && test() {
            failed.add(c);
        }
    };
    fails(Check::BogonAsn, &|| {
        path.asns().any(|a| !own(a) && asn_bogon(Asn(a)).is_some())
    });
    fails(Check::AsPathTooLong, &|| {
        let has_set = path.0.iter().any(|s| matches!(s, Segment::Set(_)));
        path.len() > filters.max_as_path || has_set
    });
    fails(Check::NextHop, &|| match &filters.next_hop {
        NextHopPolicy::Strict => next_hop != filters.address,
        NextHopPolicy::SameAs(others) => next_hop != filters.address && !others.contains(&next_hop),
        NextHopPolicy::Off => false,
    });
    fails(Check::IrrOrigin, &|| match &filters.irr {
        Some(irr) if irr.lists().1 => !path.origin().is_some_and(|o| irr.has_origin(o)),
        _ => false,
    });
    fails(Check::TransitFree, &|| {
        let mut after_own = path.asns().skip_while(|&a| own(a));
        after_own.any(|a| filters.transit_free.binary_search(&Asn(a)).is_ok())
    });
    fails(Check::Aspa, &|| {
        verify(aspas, path, filters.asn, filters.aspa).state == AspaState::Invalid
    });
    failed
}

/// The checks of [`check`] that look at the prefix: length bounds, bogons, IRR prefix
/// (a valid ROA standing in, a blackhole request within any length of registered space).
pub fn check_prefix(filters: &Filters, modes: &CheckModes, route: Route) -> Failed {
    let mut failed = Failed::default();
    if *modes == CheckModes::default() {
        return failed;
    }
    let prefix = route.prefix;
    let blackhole = route.blackhole && filters.blackhole(Family::of(prefix)).is_some();
    let (min, max) = match prefix {
        IpNet::V4(_) => filters.v4_lengths,
        IpNet::V6(_) => filters.v6_lengths,
    };
    let len = prefix.prefix_len();
    let mut fails = |c: Check, test: &dyn Fn() -> bool| {
        if modes.runs(c) && test() {
            failed.add(c);
        }
    };
    fails(Check::PrefixTooLong, &|| len > max && !blackhole);
    fails(Check::PrefixTooShort, &|| len < min);
    fails(Check::Bogon, &|| prefix_bogon(prefix).is_some());
    fails(Check::IrrPrefix, &|| match &filters.irr {
        Some(irr) if irr.lists().0 => {
            // A valid ROA that stands in spares the lookups.
            let roa = filters.roa_as_route_object && route.state == RovState::Valid;
            !(roa || irr.covers(prefix) || blackhole && irr.covers_any_length(prefix))
        }
        _ => false,
    });
    failed
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
