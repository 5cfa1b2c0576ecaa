//! The route table's tests: which paths each receiver gets of a prefix's top, which
//! changes the dirty list notes, and which receivers a batch sets apart.

use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use super::best::{Path, PeerOrder};
use super::export::Batch;
use super::table::{Dirty, Noting, Receiver, Table, Top2};
use crate::route::{Actions, AsPath, Asn, AttrSet, Family, NextHop, PeerId, RovState, Segment};

/// Peer N (AS 64496 + N)'s path, with these large communities.
pub(in crate::rib) fn path(peer: u32, large: &[[u32; 3]]) -> Path {
    let as_path = AsPath(vec![Segment::Sequence(vec![64496 + peer])]);
    let nh = NextHop::V4([192, 0, 2, 1].into());
    let mut attrs = AttrSet::new(0, as_path, nh, None, Default::default());
    attrs.actions = Actions::read(64500, [], large.iter().copied()).map(Box::new);
    Path::new(PeerId(peer), 0, Arc::new(attrs), RovState::NotFound)
}

/// Peer N (AS 64496 + N) as a receiver.
pub(in crate::rib) fn to(peer: u32) -> Receiver {
    let asn = Asn(64496 + peer);
    Receiver {
        peer: PeerId(peer),
        asn,
    }
}

#[test]
fn a_receiver_kept_from_the_best_path_gets_the_next_best() {
    let not_to_2 = Top2::of(&[path(0, &[[64500, 0, 64498]]), path(1, &[])]);
    let none_but_own = [path(0, &[[64500, 0, 0]]), path(1, &[[64500, 0, 64498]])];
    let three = [none_but_own.to_vec(), vec![path(2, &[])]].concat();
    let (none_but_own, three) = (Top2::of(&none_but_own), Top2::of(&three));
    // (name, paths, receiver, the peer whose path it gets)
    let cases = [
        ("the best's owner gets the second", &not_to_2, 0, Some(1)),
        ("the second's owner gets the best", &not_to_2, 1, Some(0)),
        ("kept from the best: the second", &not_to_2, 2, Some(1)),
        ("anyone else: the best", &not_to_2, 3, Some(0)),
        ("never its own path", &none_but_own, 1, None),
        ("kept from both: nothing", &none_but_own, 2, None),
        ("the best to none: the second", &none_but_own, 3, Some(1)),
        (
            "the best to none, its own second: the third",
            &three,
            1,
            Some(2),
        ),
        (
            "kept from the first two, its own third: nothing",
            &three,
            2,
            None,
        ),
    ];
    for (name, top, receiver, expected) in cases {
        let got = top.for_peer(to(receiver)).map(|p| p.peer.0);
        assert_eq!(got, expected, "{name}");
    }
    assert!(Top2::of(&[path(0, &[]), path(1, &[]), path(2, &[])])
        .rest
        .is_empty());
    assert_eq!(three.rest.len(), 1, "kept from some: the rest is kept");
}

/// Expected: the owners of the best and, while a path goes to nobody unnamed, of the
/// next, and the ASes the communities of those paths name, see the batch apart; the
/// others share one encoding.
#[test]
fn receivers_named_by_action_communities_see_the_batch_apart() {
    // (the two paths' large communities, whether peers 0 to 4 share the encoding)
    let cases = [
        (
            [&[[64500, 0, 0], [64500, 1, 64499]][..], &[]],
            [false, false, true, false, true],
        ),
        (
            [&[[64500, 0, 64499]], &[]],
            [false, true, true, false, true],
        ),
        ([&[], &[[64500, 0, 64498]]], [false, true, true, true, true]),
    ];
    for ([first, second], expected) in cases {
        let after = Top2::of(&[path(0, first), path(1, second)]);
        let prefix = "192.0.2.0/24".parse().unwrap();
        let before = Top2::default();
        let batch = Batch::new(vec![Dirty {
            prefix,
            before,
            after,
        }]);
        let families = [Family::Ipv4Unicast];
        let shared = |r| batch.encoded(to(r), &families, 1, |_| Vec::new()).is_some();
        assert_eq!(
            [0, 1, 2, 3, 4].map(shared),
            expected,
            "{first:?} {second:?}"
        );
    }
}

/// Peer N's address is 127.0.0.N: the lower peer wins a tie.
struct ByPeer;

impl PeerOrder for ByPeer {
    fn address(&self, peer: PeerId) -> IpAddr {
        IpAddr::from([127, 0, 0, peer.0 as u8])
    }
}

/// Peer N's path with two ASes more than [`path`]'s: it loses to every one of those.
fn longer(peer: u32) -> Path {
    let asns = vec![64496 + peer, 64511, 64511];
    let nh = NextHop::V4([192, 0, 2, 1].into());
    let attrs = AttrSet::new(
        0,
        AsPath(vec![Segment::Sequence(asns)]),
        nh,
        None,
        Default::default(),
    );
    Path::new(PeerId(peer), 0, Arc::new(attrs), RovState::NotFound)
}

/// What a batch's change does to a prefix's paths.
enum Op {
    Upsert(Path),
    Remove(u32),
}

/// Expected: a change is noted in the dirty list when it replaces, removes or goes before
/// one of the two best paths, when fewer than two are there or one of them is kept from
/// some peers; always while every change is noted, never while nothing is; the paths stay
/// sorted.
#[test]
fn the_dirty_list_notes_the_changes_that_reach_the_top_two() {
    let kept = || path(1, &[[64500, 0, 64499]]);
    // (name, which changes are noted, paths before, the change, noted, peers after, best
    // first)
    let cases = [
        (
            "a third path",
            Noting::Top,
            vec![path(1, &[]), path(2, &[])],
            Op::Upsert(path(5, &[])),
            false,
            vec![1, 2, 5],
        ),
        (
            "a new best",
            Noting::Top,
            vec![path(1, &[]), path(2, &[])],
            Op::Upsert(path(0, &[])),
            true,
            vec![0, 1, 2],
        ),
        (
            "a new second",
            Noting::Top,
            vec![path(1, &[]), path(3, &[])],
            Op::Upsert(path(2, &[])),
            true,
            vec![1, 2, 3],
        ),
        (
            "the second path",
            Noting::Top,
            vec![path(1, &[])],
            Op::Upsert(path(5, &[])),
            true,
            vec![1, 5],
        ),
        (
            "the third replaced",
            Noting::Top,
            vec![path(1, &[]), path(2, &[]), path(3, &[])],
            Op::Upsert(longer(3)),
            false,
            vec![1, 2, 3],
        ),
        (
            "the best replaced, now last",
            Noting::Top,
            vec![path(1, &[]), path(2, &[]), path(3, &[])],
            Op::Upsert(longer(1)),
            true,
            vec![2, 3, 1],
        ),
        (
            "the third replaced, now best",
            Noting::Top,
            vec![longer(1), longer(2), longer(3)],
            Op::Upsert(path(3, &[])),
            true,
            vec![3, 1, 2],
        ),
        (
            "the third removed",
            Noting::Top,
            vec![path(1, &[]), path(2, &[]), path(3, &[])],
            Op::Remove(3),
            false,
            vec![1, 2],
        ),
        (
            "the second removed",
            Noting::Top,
            vec![path(1, &[]), path(2, &[]), path(3, &[])],
            Op::Remove(2),
            true,
            vec![1, 3],
        ),
        (
            "a path it has not",
            Noting::Top,
            vec![path(1, &[]), path(2, &[])],
            Op::Remove(4),
            false,
            vec![1, 2],
        ),
        (
            "a third behind a kept best",
            Noting::Top,
            vec![kept(), path(2, &[])],
            Op::Upsert(path(5, &[])),
            true,
            vec![1, 2, 5],
        ),
        (
            "a new best, nothing noted",
            Noting::Nothing,
            vec![path(1, &[]), path(2, &[])],
            Op::Upsert(path(0, &[])),
            false,
            vec![0, 1, 2],
        ),
        (
            "a third, every change noted",
            Noting::Every,
            vec![path(1, &[]), path(2, &[])],
            Op::Upsert(path(5, &[])),
            true,
            vec![1, 2, 5],
        ),
    ];
    let prefix: IpNet = "192.0.2.0/24".parse().unwrap();
    for (name, noting, paths, op, noted, after) in cases {
        let mut table = Table::default();
        paths
            .into_iter()
            .for_each(|p| drop(table.upsert(prefix, p, &ByPeer)));
        table.take_dirty();
        table.note(noting);
        match op {
            Op::Upsert(p) => drop(table.upsert(prefix, p, &ByPeer)),
            Op::Remove(peer) => drop(table.remove(prefix, PeerId(peer), 0)),
        }
        let dirty = table.take_dirty();
        assert_eq!(!dirty.is_empty(), noted, "{name}: noted");
        let peers: Vec<u32> = table.paths(&prefix).iter().map(|p| p.peer.0).collect();
        assert_eq!(peers, after, "{name}: the paths");
        if let Some(d) = dirty.first() {
            let top: Vec<u32> = d.after.paths().map(|p| p.peer.0).take(2).collect();
            assert_eq!(top, after[..after.len().min(2)], "{name}: the top after");
        }
    }
}
