//! RIB scenarios driven through `Rib::handle`/`flush`, checking what each peer is sent.

use std::net::IpAddr;

use bytes::Bytes;

use super::*;
use crate::route::Update;
use crate::route::{AsPath, NextHop, Segment};
use crate::route::{Asn, AttrSet};
use ipnet::IpNet;

pub(super) fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

pub(super) fn info(i: u8, asn: u32, max: Option<u64>) -> PeerInfo {
    let (address, rov) = (IpAddr::from([127, 0, 0, i]), crate::policy::RovMode::Accept);
    PeerInfo {
        max_prefixes: max,
        ..PeerInfo::new(format!("p{i}"), address, Asn(asn), rov)
    }
}

pub(super) fn attrs(path: &[u32], community: u8) -> AttrSet {
    let other = Bytes::from(vec![0xc0, 8, 4, 0, 0, 0, community]);
    AttrSet::new(
        0,
        AsPath(vec![Segment::Sequence(path.to_vec())]),
        NextHop::V4([192, 0, 2, 1].into()),
        None,
        other,
    )
}

pub(super) fn announce(path: &[u32], prefixes: &[&str]) -> Update {
    Update {
        announced: vec![(attrs(path, 1), prefixes.iter().map(|p| net(p)).collect())],
        ..Default::default()
    }
}

pub(super) fn withdraw(prefixes: &[&str]) -> Update {
    Update {
        withdrawn: prefixes.iter().map(|p| net(p)).collect(),
        ..Default::default()
    }
}

/// Three peers (AS 64496, 64497, 64498), all up with IPv4 and IPv6; returns their receivers.
pub(super) async fn rib3(max: Option<u64>) -> (Rib, Vec<mpsc::Receiver<Outgoing>>) {
    let infos = vec![
        info(1, 64496, max),
        info(2, 64497, None),
        info(3, 64498, None),
    ];
    let tagging = Tagging::euro_ix(64500);
    let mut rib = Rib::new(infos, VrpStore::new(), tagging, MassInvalidation::default());
    let mut rxs = Vec::new();
    for i in 0..3 {
        let (tx, rx) = mpsc::channel(16);
        rib.handle(RibEvent::PeerUp {
            peer: PeerId(i),
            families: Family::ALL.to_vec(),
            add_path: vec![],
            out: tx,
            session: Default::default(),
        });
        rxs.push(rx);
    }
    rib.flush();
    for rx in &mut rxs {
        // An empty table: just End-of-RIB for both families.
        let got = rx.try_recv().unwrap().into_exports();
        assert!(
            matches!(
                got[..],
                [
                    Export::EndOfRib(Family::Ipv4Unicast),
                    Export::EndOfRib(Family::Ipv6Unicast)
                ]
            ),
            "{got:?}"
        );
    }
    (rib, rxs)
}

/// Every announced prefix with the AS path it carries, and every withdrawn prefix.
pub(super) fn received(rx: &mut mpsc::Receiver<Outgoing>) -> (Vec<(IpNet, String)>, Vec<IpNet>) {
    let (mut ann, mut wd) = (Vec::new(), Vec::new());
    while let Ok(batch) = rx.try_recv() {
        for e in batch.into_exports() {
            match e {
                Export::Announce(a, ps) => {
                    ann.extend(ps.into_iter().map(|p| (p, a.as_path.to_string())))
                }
                Export::Withdraw(ps) => wd.extend(ps),
                _ => {}
            }
        }
    }
    ann.sort();
    wd.sort();
    (ann, wd)
}

pub(super) async fn send(rib: &mut Rib, peer: u32, update: Update) {
    rib.handle(RibEvent::Update {
        peer: PeerId(peer),
        update,
    });
    rib.flush();
}

#[tokio::test]
async fn a_route_goes_to_every_other_peer_and_never_back() {
    let (mut rib, mut rx) = rib3(None).await;
    send(
        &mut rib,
        0,
        announce(&[64496, 65001], &["192.0.2.0/24", "2001:db8::/32"]),
    )
    .await;
    let expected = vec![
        (net("192.0.2.0/24"), "64496 65001".to_string()),
        (net("2001:db8::/32"), "64496 65001".to_string()),
    ];
    assert_eq!(received(&mut rx[1]).0, expected);
    assert_eq!(received(&mut rx[2]).0, expected);
    assert_eq!(received(&mut rx[0]), (vec![], vec![]));
}

#[tokio::test]
async fn best_path_moves_and_its_owner_gets_the_second_best() {
    let (mut rib, mut rx) = rib3(None).await;
    send(
        &mut rib,
        0,
        announce(&[64496, 65001, 65002], &["192.0.2.0/24"]),
    )
    .await;
    send(&mut rib, 1, announce(&[64497, 65002], &["192.0.2.0/24"])).await;
    // Peer 2 sees the shorter path replace the longer one.
    assert_eq!(
        received(&mut rx[2]).0,
        vec![
            (net("192.0.2.0/24"), "64496 65001 65002".into()),
            (net("192.0.2.0/24"), "64497 65002".into())
        ]
    );
    // Peer 1 owns the best path: it is given peer 0's path instead.
    assert_eq!(
        received(&mut rx[1]).0,
        vec![(net("192.0.2.0/24"), "64496 65001 65002".into())]
    );
    // Peer 0 gets peer 1's better path.
    assert_eq!(
        received(&mut rx[0]).0,
        vec![(net("192.0.2.0/24"), "64497 65002".into())]
    );
    // The best path's peer withdraws: peer 2 falls back to peer 0's path; peer 0 loses its.
    send(&mut rib, 1, withdraw(&["192.0.2.0/24"])).await;
    assert_eq!(
        received(&mut rx[2]).0,
        vec![(net("192.0.2.0/24"), "64496 65001 65002".into())]
    );
    assert_eq!(received(&mut rx[0]).1, vec![net("192.0.2.0/24")]);
}

#[tokio::test]
async fn first_as_must_be_the_peers() {
    let (mut rib, mut rx) = rib3(None).await;
    send(&mut rib, 0, announce(&[65001, 64496], &["192.0.2.0/24"])).await;
    assert_eq!(received(&mut rx[1]), (vec![], vec![]));
}

#[tokio::test]
async fn identical_attributes_are_stored_once() {
    let (mut rib, _rx) = rib3(None).await;
    send(&mut rib, 0, announce(&[64496], &["192.0.2.0/24"])).await;
    send(&mut rib, 0, announce(&[64496], &["198.51.100.0/24"])).await;
    let a = &rib.table.paths(&net("192.0.2.0/24"))[0].attrs;
    let b = &rib.table.paths(&net("198.51.100.0/24"))[0].attrs;
    assert!(std::sync::Arc::ptr_eq(a, b));
}

/// Within one batch only a prefix's final state is sent; a prefix withdrawn and added again
/// in it is withdrawn, then announced with its new path.
#[tokio::test]
async fn a_batch_sends_each_prefix_once_in_its_final_state() {
    let (mut rib, mut rx) = rib3(None).await;
    let update = |peer: u32, update: Update| RibEvent::Update {
        peer: PeerId(peer),
        update,
    };
    for event in [
        update(0, announce(&[64496, 65001, 65002], &["192.0.2.0/24"])),
        update(1, announce(&[64497], &["192.0.2.0/24", "198.51.100.0/24"])),
        update(1, withdraw(&["192.0.2.0/24"])),
        update(0, announce(&[64496, 65003], &["192.0.2.0/24"])),
    ] {
        rib.handle(event);
    }
    rib.flush();
    let batch = rx[2].try_recv().unwrap().into_exports();
    let sent: Vec<String> = batch.iter().map(|e| format!("{e:?}")).collect();
    assert_eq!(
        batch.len(),
        2,
        "one announcement per attribute set: {sent:?}"
    );
    assert_eq!(
        received(&mut mpsc_of(batch)),
        (
            vec![
                (net("192.0.2.0/24"), "64496 65003".to_string()),
                (net("198.51.100.0/24"), "64497".to_string()),
            ],
            vec![]
        )
    );

    rib.handle(update(0, withdraw(&["192.0.2.0/24"])));
    rib.handle(update(0, announce(&[64496, 65004], &["192.0.2.0/24"])));
    rib.flush();
    let batch = rx[2].try_recv().unwrap().into_exports();
    assert!(
        matches!(&batch[..], [Export::Withdraw(w), Export::Announce(a, p)]
            if w == &vec![net("192.0.2.0/24")] && p == w && a.as_path.to_string() == "64496 65004"),
        "{batch:?}"
    );
}

/// A receiver holding one batch, for `received`.
fn mpsc_of(batch: Vec<Export>) -> mpsc::Receiver<Outgoing> {
    let (tx, rx) = mpsc::channel(1);
    tx.try_send(Outgoing::Own(batch)).unwrap();
    rx
}

/// A prefix's place in the dirty list is only good for the batch it was noted in: in the
/// next batch another prefix may hold that place, and both are still sent.
#[tokio::test]
async fn each_batch_notes_its_own_prefixes() {
    let (mut rib, mut rx) = rib3(None).await;
    send(&mut rib, 0, announce(&[64496, 1], &["192.0.2.0/24"])).await;
    send(&mut rib, 0, announce(&[64496, 2], &["198.51.100.0/24"])).await;
    received(&mut rx[1]);
    // 198.51.100.0/24 takes the first place of this batch's list, the place 192.0.2.0/24
    // had in the first batch.
    rib.handle(RibEvent::Update {
        peer: PeerId(0),
        update: announce(&[64496, 3], &["198.51.100.0/24"]),
    });
    send(&mut rib, 0, announce(&[64496, 4], &["192.0.2.0/24"])).await;
    assert_eq!(
        received(&mut rx[1]).0,
        vec![
            (net("192.0.2.0/24"), "64496 4".to_string()),
            (net("198.51.100.0/24"), "64496 3".to_string()),
        ]
    );
}
