//! Best-path selection as a route server applies it (RFC 4271 §9.1.2.2, RFC 7947).
//!
//! Where it sits: `table.rs` keeps every prefix's paths sorted with [`better`], best first;
//! export then reads the first two paths. Pure: no I/O, table-driven tests below.

use std::cmp::Ordering;

use crate::policy::Failed;
use crate::route::{AttrSet, Attrs, PeerId, RovState};

/// One peer's path for a prefix, as the RIB stores it.
#[derive(Clone, Debug)]
pub struct Path {
    /// The peer it came from.
    pub peer: PeerId,
    /// Its ADD-PATH path identifier (RFC 7911), 0 without: a peer has one path per prefix
    /// and path id. Only BMP-monitored neighbours send several, and their paths are never
    /// selected, so an exported path is still the only one of its peer.
    pub path_id: u32,
    /// Its interned attributes. Replaced only by a tagged copy of the same set (the
    /// fields [`Rank`] reads are the same).
    pub attrs: Attrs,
    /// Its RFC 6811 state against the VRP snapshot it was last validated with.
    pub state: RovState,
    /// Whether it may be selected and exported (false: filtered, kept for re-evaluation).
    pub eligible: bool,
    /// Kept from a restarting peer (graceful restart) or before a route refresh, until the
    /// peer re-sends it or the stale timer ends.
    pub stale: bool,
    /// Invalid under `drop`, but kept eligible because the VRP update that invalidated it
    /// is held as a mass invalidation.
    pub held: bool,
    /// The import checks it failed (of those its peer's modes run).
    pub failed: Failed,
    /// What the decision process compares of `attrs`, read once.
    rank: Rank,
}

/// What [`better`] compares of a path's attributes before MED, kept in the path itself:
/// sorting a prefix's paths then reads the path list alone, not each path's attributes,
/// AS_PATH and its first segment (three more places in memory per path compared).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rank {
    /// GRACEFUL_SHUTDOWN (bit 31), the AS_PATH length (bits 2 to 30, saturating) and
    /// ORIGIN (bits 0 and 1): lower is better, in that order.
    order: u32,
    /// The neighbour AS (the AS_PATH's first), 0 without one (AS 0 never reaches the
    /// RIB, RFC 7607): MED is compared only between paths with the same.
    neighbour: u32,
}

impl Rank {
    fn of(attrs: &AttrSet) -> Rank {
        let length = attrs.as_path.len().min(MAX_LENGTH) as u32;
        let shutdown = u32::from(attrs.graceful_shutdown()) << 31;
        Rank {
            order: shutdown | length << 2 | u32::from(attrs.origin.min(3)),
            neighbour: attrs.as_path.first().map_or(0, |a| a.0),
        }
    }
}

/// The longest AS_PATH [`Rank`] tells apart: longer than any a BGP message can carry.
const MAX_LENGTH: usize = (1 << 29) - 1;

impl Path {
    /// `peer`'s path `path_id` with `attrs`, in RPKI `state`: eligible, neither stale nor
    /// held, failing no check.
    pub fn new(peer: PeerId, path_id: u32, attrs: Attrs, state: RovState) -> Path {
        Path {
            peer,
            path_id,
            rank: Rank::of(&attrs),
            attrs,
            state,
            eligible: true,
            stale: false,
            held: false,
            failed: Failed::default(),
        }
    }
}

/// What the decision process needs to know about a peer beyond the path itself.
pub trait PeerOrder {
    /// The peer's address, the last tie-breaker (lower wins).
    fn address(&self, peer: PeerId) -> std::net::IpAddr;
}

/// The route server's decision process; `Less` means `a` is better:
/// eligible first, then a path without RFC 8326 GRACEFUL_SHUTDOWN (as LOCAL_PREF 0 would
/// rank it), then shortest AS_PATH, lowest ORIGIN, lowest MED among paths from the same
/// neighbour AS (a missing MED counts as 0), then the lowest peer address.
pub fn better(a: &Path, b: &Path, peers: &impl PeerOrder) -> Ordering {
    let (x, y) = (a.rank, b.rank);
    b.eligible
        .cmp(&a.eligible)
        .then(x.order.cmp(&y.order))
        .then_with(|| match x.neighbour == y.neighbour {
            true => (a.attrs.med.unwrap_or(0)).cmp(&b.attrs.med.unwrap_or(0)),
            false => Ordering::Equal,
        })
        .then_with(|| peers.address(a.peer).cmp(&peers.address(b.peer)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::actions;
    use crate::route::{Actions, AsPath, AttrSet, NextHop, Segment};
    use std::net::IpAddr;
    use std::sync::Arc;

    struct Addrs;
    impl PeerOrder for Addrs {
        fn address(&self, peer: PeerId) -> IpAddr {
            IpAddr::from([127, 0, 0, peer.0 as u8])
        }
    }

    fn path(peer: u32, asns: &[u32], origin: u8, med: Option<u32>) -> Path {
        let as_path = AsPath(vec![Segment::Sequence(asns.to_vec())]);
        let nh = NextHop::V4([192, 0, 2, 1].into());
        let attrs = AttrSet::new(origin, as_path, nh, med, Default::default());
        Path::new(PeerId(peer), 0, Arc::new(attrs), RovState::NotFound)
    }

    #[test]
    fn decision_process_cases() {
        use Ordering::{Greater, Less};
        let ineligible = Path {
            eligible: false,
            ..path(1, &[1], 0, None)
        };
        let set_path = AttrSet::new(
            0,
            AsPath(vec![
                Segment::Sequence(vec![1]),
                Segment::Set(vec![2, 3, 4]),
            ]),
            NextHop::V4([192, 0, 2, 1].into()),
            None,
            Default::default(),
        );
        let set_path = Path::new(PeerId(1), 0, Arc::new(set_path), RovState::NotFound);
        let mut shutting_down = AttrSet::new(
            0,
            AsPath(vec![Segment::Sequence(vec![1])]),
            NextHop::V4([192, 0, 2, 1].into()),
            None,
            Default::default(),
        );
        let gshut = [actions::GRACEFUL_SHUTDOWN];
        shutting_down.actions = Actions::read(64500, gshut, []).map(Box::new);
        let shutting_down = Path::new(PeerId(1), 0, Arc::new(shutting_down), RovState::NotFound);
        let cases = [
            (
                "GRACEFUL_SHUTDOWN loses to a longer path",
                path(9, &[1, 2, 3], 2, None),
                shutting_down.clone(),
                Less,
            ),
            (
                "... but still beats an ineligible one",
                shutting_down,
                Path {
                    eligible: false,
                    ..path(2, &[2], 0, None)
                },
                Less,
            ),
            (
                "shorter AS_PATH wins",
                path(9, &[1], 2, Some(9)),
                path(1, &[1, 2], 0, None),
                Less,
            ),
            (
                "eligible beats shorter",
                path(9, &[1, 2, 3], 0, None),
                ineligible,
                Less,
            ),
            (
                "lower ORIGIN wins",
                path(9, &[1, 2], 0, None),
                path(1, &[3, 4], 1, None),
                Less,
            ),
            (
                "MED compared within one neighbour AS",
                path(9, &[1, 2], 0, Some(5)),
                path(1, &[1, 3], 0, Some(10)),
                Less,
            ),
            (
                "missing MED counts as 0",
                path(9, &[1, 2], 0, None),
                path(1, &[1, 3], 0, Some(1)),
                Less,
            ),
            (
                "MED ignored across neighbour ASes",
                path(2, &[1, 2], 0, Some(50)),
                path(1, &[7, 3], 0, Some(1)),
                Greater,
            ),
            (
                "lowest peer address breaks ties",
                path(1, &[1, 2], 0, None),
                path(2, &[3, 4], 0, None),
                Less,
            ),
            (
                "an AS_SET counts as one",
                set_path,
                path(2, &[5, 6, 7], 0, None),
                Less,
            ),
        ];
        for (name, a, b, expected) in cases {
            assert_eq!(better(&a, &b, &Addrs), expected, "{name}");
            assert_eq!(
                better(&b, &a, &Addrs),
                expected.reverse(),
                "{name} (reversed)"
            );
        }
    }
}
