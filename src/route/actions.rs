//! What a member asks of the route server with communities on its route: the Euro-IX
//! announcement-control communities (do not announce to a peer, announce only to, to none,
//! prepend towards a peer) and RFC 8326 GRACEFUL_SHUTDOWN.
//!
//! Where it sits: the session reads a path's communities once, when it decodes the UPDATE
//! (`bgp::wire::read_actions`), into [`Actions`] kept on the interned `AttrSet`. The
//! decision process (`rib::best`) ranks a GRACEFUL_SHUTDOWN path last; a receiver's view of
//! a prefix (`rib::Top2::for_peer`) asks [`Actions::announces_to`] and
//! [`Actions::prepends_to`]; the encoder strips what [`strips_large`] and
//! [`strips_standard`] name before sending. A path without any of these communities has
//! no `Actions` and costs nothing.
//!
//! The values follow arouteserver's BGP control communities (`rs` is the route server's
//! AS, `peer` the receiver's): large `rs:0:peer`, `rs:1:peer`, `rs:0:0`,
//! `rs:101..103:peer`; standard `0:peer`, `rs:peer`, `0:rs` (16-bit ASNs only).

use std::sync::Arc;

use super::{Asn, AttrSet, Attrs, Segment};

/// RFC 8326 GRACEFUL_SHUTDOWN (65535:0).
pub const GRACEFUL_SHUTDOWN: u32 = 0xffff_0000;
/// Large community function: do not announce to `peer` (`rs:0:peer`; `rs:0:0`: to none).
pub const DO_NOT_ANNOUNCE: u32 = 0;
/// Large community function: announce to `peer` (`rs:1:peer`), even past `rs:0:0`.
pub const ANNOUNCE: u32 = 1;
/// Large community function: prepend the announcing AS once towards `peer`; 102 twice,
/// 103 three times.
pub const PREPEND_ONCE: u32 = 101;
/// The largest prepend function (three times).
pub const PREPEND_THRICE: u32 = 103;

/// The actions one path's communities ask for. Lists are sorted, without repeats.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Actions {
    /// The route server's AS the communities were read for (what the encoder strips).
    pub rs: u32,
    /// RFC 8326: the path is being shut down; rank it below every path without this.
    pub graceful_shutdown: bool,
    /// `rs:0:0` or `0:rs`: announce to nobody but the `announce` list.
    pub to_none: bool,
    /// `rs:1:peer` or `rs:peer`: announce to these even with `to_none`.
    pub announce: Vec<u32>,
    /// `rs:0:peer` or `0:peer`: never announce to these (wins over `announce`).
    pub deny: Vec<u32>,
    /// `rs:101..103:peer`: (peer, times) to prepend the announcing AS towards a peer.
    pub prepend: Vec<(u32, u8)>,
    /// Whether the path carries communities the encoder must strip.
    pub strip: bool,
}

impl Actions {
    /// The actions of a path with these standard (RFC 1997) and large (RFC 8092)
    /// communities, for route server `rs`; `None` when there are none (nothing to do and
    /// nothing to strip).
    pub fn read(
        rs: u32,
        standard: impl IntoIterator<Item = u32>,
        large: impl IntoIterator<Item = [u32; 3]>,
    ) -> Option<Actions> {
        let mut a = Actions {
            rs,
            ..Actions::default()
        };
        for c in standard {
            a.graceful_shutdown |= c == GRACEFUL_SHUTDOWN;
            a.strip |= strips_standard(rs, c);
            let (high, low) = (c >> 16, c & 0xffff);
            match high {
                0 if low == rs => a.to_none = true,
                0 => a.deny.push(low),
                _ if high == rs => a.announce.push(low),
                _ => {}
            }
        }
        for c in large.into_iter().filter(|c| strips_large(rs, c)) {
            a.strip = true;
            match c {
                [_, DO_NOT_ANNOUNCE, 0] => a.to_none = true,
                [_, DO_NOT_ANNOUNCE, peer] => a.deny.push(peer),
                [_, ANNOUNCE, peer] => a.announce.push(peer),
                [_, f @ PREPEND_ONCE..=PREPEND_THRICE, peer] => {
                    a.prepend.push((peer, (f - PREPEND_ONCE + 1) as u8));
                }
                _ => {}
            }
        }
        for list in [&mut a.announce, &mut a.deny] {
            list.sort_unstable();
            list.dedup();
        }
        a.prepend.sort_unstable();
        a.prepend.dedup_by_key(|(peer, _)| *peer);
        (a.strip || a.graceful_shutdown).then_some(a)
    }

    /// Whether the path may go to a peer of AS `peer`: never to a denied peer; to a peer
    /// named in `announce`; else to everyone unless `to_none`.
    pub fn announces_to(&self, peer: u32) -> bool {
        if self.deny.binary_search(&peer).is_ok() {
            return false;
        }
        !self.to_none || self.announce.binary_search(&peer).is_ok()
    }

    /// How many times to prepend the announcing AS towards a peer of AS `peer` (0: none);
    /// the fewest asked wins, as the first matching rule in arouteserver's order.
    pub fn prepends_to(&self, peer: u32) -> u8 {
        let at = self.prepend.partition_point(|(p, _)| *p < peer);
        match self.prepend.get(at) {
            Some(&(p, times)) if p == peer => times,
            _ => 0,
        }
    }

    /// Every peer AS the actions name: receivers that see the path unlike the others.
    pub fn named(&self) -> impl Iterator<Item = u32> + '_ {
        let prepend = self.prepend.iter().map(|(peer, _)| *peer);
        (self.announce.iter().chain(&self.deny).copied()).chain(prepend)
    }
}

impl AttrSet {
    /// Whether the path carries RFC 8326 GRACEFUL_SHUTDOWN.
    pub fn graceful_shutdown(&self) -> bool {
        self.actions.as_ref().is_some_and(|a| a.graceful_shutdown)
    }

    /// Whether the path's action communities let it go to a peer of AS `peer`.
    pub fn announced_to(&self, peer: Asn) -> bool {
        self.actions.as_ref().is_none_or(|a| a.announces_to(peer.0))
    }

    /// The set as a peer of AS `peer` gets it: itself, or a copy whose AS_PATH repeats its
    /// first AS as many more times as the path's prepend communities ask towards `peer`.
    pub fn towards(self: Arc<Self>, peer: Asn) -> Attrs {
        let times = self.actions.as_ref().map_or(0, |a| a.prepends_to(peer.0));
        let Some(first) = self.as_path.first().filter(|_| times > 0) else {
            return self;
        };
        let mut as_path = self.as_path.clone();
        if let Some(Segment::Sequence(v)) = as_path.0.first_mut() {
            v.splice(0..0, std::iter::repeat_n(first.0, usize::from(times)));
        }
        Arc::new(AttrSet {
            tags: self.tags.clone(),
            actions: self.actions.clone(),
            ..AttrSet::new(
                self.origin,
                as_path,
                self.next_hop,
                self.med,
                self.other.clone(),
            )
        })
    }
}

/// Whether a large community is stripped before sending: every one addressed to the route
/// server (global administrator `rs`). rovgate's own tags are added after stripping.
pub fn strips_large(rs: u32, c: &[u32; 3]) -> bool {
    c[0] == rs
}

/// Whether a standard community is stripped before sending: `0:*` (do not announce) and,
/// for a 16-bit `rs`, `rs:*` (announce to).
pub fn strips_standard(rs: u32, c: u32) -> bool {
    let high = c >> 16;
    high == 0 || high == rs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::{AsPath, NextHop};

    const RS: u32 = 64500;

    /// (name, standard, large, peer, announced to peer, prepends towards peer)
    type Case = (&'static str, Vec<u32>, Vec<[u32; 3]>, u32, bool, u8);

    #[test]
    fn who_gets_a_path_and_with_how_many_prepends() {
        let cases: [Case; 12] = [
            (
                "do not announce to peer",
                vec![],
                vec![[RS, 0, 64497]],
                64497,
                false,
                0,
            ),
            (
                "... others still get it",
                vec![],
                vec![[RS, 0, 64497]],
                64498,
                true,
                0,
            ),
            ("to none", vec![], vec![[RS, 0, 0]], 64497, false, 0),
            (
                "to none but one: the one",
                vec![],
                vec![[RS, 0, 0], [RS, 1, 64497]],
                64497,
                true,
                0,
            ),
            (
                "to none but one: another",
                vec![],
                vec![[RS, 0, 0], [RS, 1, 64497]],
                64498,
                false,
                0,
            ),
            (
                "announce alone changes nothing (arouteserver)",
                vec![],
                vec![[RS, 1, 64497]],
                64498,
                true,
                0,
            ),
            (
                "deny wins over announce",
                vec![],
                vec![[RS, 0, 64497], [RS, 1, 64497]],
                64497,
                false,
                0,
            ),
            (
                "standard 0:peer",
                vec![std_of(0, 64497)],
                vec![],
                64497,
                false,
                0,
            ),
            (
                "standard 0:rs, rs:peer",
                vec![std_of(0, RS), std_of(RS, 64497)],
                vec![],
                64497,
                true,
                0,
            ),
            (
                "standard 0:rs to another",
                vec![std_of(0, RS), std_of(RS, 64497)],
                vec![],
                64498,
                false,
                0,
            ),
            (
                "prepend twice, 32-bit peer",
                vec![],
                vec![[RS, 102, 65551]],
                65551,
                true,
                2,
            ),
            (
                "once wins over thrice",
                vec![],
                vec![[RS, 103, 64497], [RS, 101, 64497]],
                64497,
                true,
                1,
            ),
        ];
        for (name, standard, large, peer, announced, prepends) in cases {
            let a = Actions::read(RS, standard, large).expect(name);
            assert!(a.strip, "{name}: stripped");
            assert_eq!(a.announces_to(peer), announced, "{name}: announced");
            assert_eq!(a.prepends_to(peer), prepends, "{name}: prepends");
        }
    }

    #[test]
    fn other_communities_ask_nothing() {
        let none = Actions::read(RS, [std_of(64497, 100), 0xffff_029a], [[64497, 0, 64498]]);
        assert_eq!(
            none, None,
            "another AS's communities and BLACKHOLE are no action"
        );
        let unknown = Actions::read(RS, [], [[RS, 7, 7]]).expect("unknown rs:* is stripped");
        assert!(unknown.strip && unknown.announces_to(64497) && unknown.named().count() == 0);
        let gshut = Actions::read(RS, [GRACEFUL_SHUTDOWN], []).expect("graceful shutdown");
        assert!(
            gshut.graceful_shutdown && !gshut.strip,
            "65535:0 passes through"
        );
    }

    #[test]
    fn strip_rules() {
        assert!(strips_large(RS, &[RS, 1000, 4]), "rs:* from a peer");
        assert!(!strips_large(RS, &[64497, 0, 64498]));
        assert!(strips_standard(RS, std_of(0, 64497)));
        assert!(strips_standard(RS, std_of(RS, 64497)));
        assert!(!strips_standard(RS, GRACEFUL_SHUTDOWN));
        assert!(
            !strips_standard(4_200_000_000, std_of(64100, 1)),
            "32-bit rs: no rs:peer"
        );
    }

    #[test]
    fn prepends_repeat_the_first_as_towards_the_peer_named() {
        let as_path = AsPath(vec![Segment::Sequence(vec![64496, 64511])]);
        let nh = NextHop::V4([192, 0, 2, 1].into());
        let mut set = AttrSet::new(0, as_path, nh, None, Default::default());
        set.actions = Actions::read(RS, [], [[RS, 102, 64497]]).map(Box::new);
        let set = Arc::new(set);
        let to_named = set.clone().towards(Asn(64497));
        assert_eq!(to_named.as_path.to_string(), "64496 64496 64496 64511");
        assert_eq!(to_named.actions, set.actions, "still stripped on encode");
        let to_others = set.clone().towards(Asn(64498));
        assert!(Arc::ptr_eq(&to_others, &set), "others: the set itself");
    }

    fn std_of(high: u32, low: u32) -> u32 {
        high << 16 | low
    }
}
