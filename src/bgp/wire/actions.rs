//! The communities a member steers its route with, on the wire: read once when the
//! session decodes an UPDATE ([`read_actions`]), stripped when the route is encoded for
//! a peer ([`strip_actions`]).
//!
//! Where it sits: the session calls [`read_actions`] on each received attribute set
//! (after `scrub`), so the RIB finds `AttrSet::actions` ready; the encoder (`encode.rs`)
//! calls [`strip_actions`] when it encodes a set that has some, once per set and
//! AS-number width. What they mean is `route::actions`.

use bytes::Bytes;

use super::attr::{self, RawAttrs, COMMUNITIES, LARGE_COMMUNITIES};
use crate::route::actions::{strips_large, strips_standard, GRACEFUL_SHUTDOWN};
use crate::route::Actions;

/// The actions the COMMUNITIES and LARGE_COMMUNITY attributes of `other` ask of route
/// server `rs`; `None`: none (the common case). From a peer that is no route-server
/// `client`, only GRACEFUL_SHUTDOWN.
pub fn read_actions(other: &[u8], rs: u32, client: bool) -> Option<Box<Actions>> {
    let values = |code: u8, width: usize| {
        RawAttrs::new(other)
            .map_while(Result::ok)
            .filter(move |a| a.code == code)
            .flat_map(move |a| a.value.chunks_exact(width))
    };
    let standard = values(COMMUNITIES, 4).map(|c| word(c, 0));
    let standard = standard.filter(|&c| client || c == GRACEFUL_SHUTDOWN);
    let large = values(LARGE_COMMUNITIES, 12).map(|c| [word(c, 0), word(c, 4), word(c, 8)]);
    let large = large.filter(|_| client);
    Actions::read(rs, standard, large).map(Box::new)
}

/// `other` without the communities addressed to the route server that `actions` were read
/// for ([`strips_large`], [`strips_standard`]); `None` when it has none.
pub fn strip_actions(other: &[u8], actions: &Actions) -> Option<Bytes> {
    let rs = actions.rs;
    attr::remove_values(other, |code, c| match code {
        COMMUNITIES => strips_standard(rs, word(c, 0)),
        LARGE_COMMUNITIES => strips_large(rs, &[word(c, 0), word(c, 4), word(c, 8)]),
        _ => false,
    })
}

/// The big-endian word at `at` of a community value (0 past its end).
fn word(c: &[u8], at: usize) -> u32 {
    c.get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::wire::attr::{OPTIONAL, TRANSITIVE};

    const RS: u32 = 64500;

    fn attrs(standard: &[u32], large: &[[u32; 3]]) -> Vec<u8> {
        let mut out = Vec::new();
        let std: Vec<u8> = standard.iter().flat_map(|c| c.to_be_bytes()).collect();
        let lc: Vec<u8> = large
            .iter()
            .flatten()
            .flat_map(|w| w.to_be_bytes())
            .collect();
        let flags = OPTIONAL | TRANSITIVE;
        for (code, value) in [(COMMUNITIES, std), (LARGE_COMMUNITIES, lc)] {
            if !value.is_empty() {
                attr::write(&mut out, flags, code, &value);
            }
        }
        out
    }

    #[test]
    fn actions_are_read_from_both_community_attributes() {
        let zero_rs = RS; // 0:64500, to none
        let other = attrs(
            &[zero_rs],
            &[[RS, 1, 64497], [RS, 102, 64498], [64497, 0, 1]],
        );
        let a = read_actions(&other, RS, true).expect("actions");
        assert!(a.to_none && a.announces_to(64497) && !a.announces_to(64498));
        assert_eq!(a.prepends_to(64498), 2);
        assert_eq!(a.named().collect::<Vec<_>>(), [64497, 64498]);
        assert_eq!(
            read_actions(&attrs(&[65000 << 16 | 1], &[[1, 2, 3]]), RS, true),
            None
        );
    }

    /// Every `rs:*` large community, `0:*` and `rs:*` go; others' communities, GRACEFUL_SHUTDOWN
    /// and BLACKHOLE stay; an attribute left empty goes.
    #[test]
    fn action_communities_are_stripped_and_others_kept() {
        let gshut = 0xffff_0000;
        let blackhole = 0xffff_029a;
        let other = attrs(
            &[64497, RS << 16 | 64498, gshut, blackhole],
            &[[RS, 0, 0], [RS, 101, 64497], [RS, 7, 7], [64497, 0, 64498]],
        );
        let a = read_actions(&other, RS, true).expect("actions");
        let kept = strip_actions(&other, &a).expect("stripped");
        assert_eq!(
            kept[..],
            attrs(&[gshut, blackhole], &[[64497, 0, 64498]])[..]
        );
        let only_ours = attrs(&[], &[[RS, 0, 0]]);
        let a = read_actions(&only_ours, RS, true).expect("actions");
        assert_eq!(strip_actions(&only_ours, &a).as_deref(), Some(&[][..]));
        let nothing = attrs(&[gshut], &[]);
        let a = read_actions(&nothing, RS, true).expect("graceful shutdown");
        assert_eq!(strip_actions(&nothing, &a), None);
    }

    /// A transit feed's `0:*` and `rs:*` are not addressed to rovgate: only
    /// GRACEFUL_SHUTDOWN is read from a peer that is no route-server client.
    #[test]
    fn only_graceful_shutdown_is_read_from_other_peers() {
        let gshut = 0xffff_0000;
        let feed = attrs(&[6939, RS << 16 | 64498, 0xffff_029a], &[[RS, 0, 0]]);
        assert_eq!(read_actions(&feed, RS, false), None);
        let shut = attrs(&[6939, gshut], &[[RS, 0, 0]]);
        let a = read_actions(&shut, RS, false).expect("graceful shutdown");
        assert!(a.graceful_shutdown && !a.strip && !a.to_none && !a.blackhole);
    }
}
