//! Best-path selection as a route server applies it (RFC 4271 §9.1.2.2, RFC 7947).
//!
//! Where it sits: `table.rs` keeps every prefix's paths sorted with [`better`], best first;
//! export then reads the first two paths. Pure: no I/O, table-driven tests below.

use std::cmp::Ordering;

use crate::policy::Failed;
use crate::route::{Attrs, PeerId, RovState};

/// One peer's path for a prefix, as the RIB stores it.
#[derive(Clone, Debug)]
pub struct Path {
    /// The peer it came from.
    pub peer: PeerId,
    /// Its ADD-PATH path identifier (RFC 7911), 0 without: a peer has one path per prefix
    /// and path id. Only BMP-monitored neighbours send several, and their paths are never
    /// selected, so an exported path is still the only one of its peer.
    pub path_id: u32,
    /// Its interned attributes.
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
    let (x, y) = (&a.attrs, &b.attrs);
    b.eligible
        .cmp(&a.eligible)
        .then_with(|| x.graceful_shutdown().cmp(&y.graceful_shutdown()))
        .then_with(|| x.as_path.len().cmp(&y.as_path.len()))
        .then_with(|| x.origin.cmp(&y.origin))
        .then_with(|| {
            if x.as_path.first() == y.as_path.first() {
                x.med.unwrap_or(0).cmp(&y.med.unwrap_or(0))
            } else {
                Ordering::Equal
            }
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
        Path {
            peer: PeerId(peer),
            path_id: 0,
            attrs: Arc::new(AttrSet::new(origin, as_path, nh, med, Default::default())),
            state: RovState::NotFound,
            eligible: true,
            stale: false,
            held: false,
            failed: Failed::default(),
        }
    }

    #[test]
    fn decision_process_cases() {
        use Ordering::{Greater, Less};
        let ineligible = Path {
            eligible: false,
            ..path(1, &[1], 0, None)
        };
        let set_path = Path {
            attrs: Arc::new(AttrSet::new(
                0,
                AsPath(vec![
                    Segment::Sequence(vec![1]),
                    Segment::Set(vec![2, 3, 4]),
                ]),
                NextHop::V4([192, 0, 2, 1].into()),
                None,
                Default::default(),
            )),
            ..path(1, &[1], 0, None)
        };
        let mut shutting_down = AttrSet::new(
            0,
            AsPath(vec![Segment::Sequence(vec![1])]),
            NextHop::V4([192, 0, 2, 1].into()),
            None,
            Default::default(),
        );
        let gshut = [actions::GRACEFUL_SHUTDOWN];
        shutting_down.actions = Actions::read(64500, gshut, []).map(Box::new);
        let shutting_down = Path {
            attrs: Arc::new(shutting_down),
            ..path(1, &[1], 0, None)
        };
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
