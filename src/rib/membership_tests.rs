//! Peers added and removed at run time: a removed peer's routes are withdrawn from
//! everyone and it leaves the view; an added peer gets a new id (never a removed one's) and
//! the table when it comes up; events still naming a removed peer change nothing.

use super::tests::{announce, info, net, received, rib3, send};
use super::*;
use crate::route::Update;

fn add(rib: &mut Rib, info: PeerInfo) -> PeerId {
    let (reply, mut answer) = tokio::sync::oneshot::channel();
    rib.handle(RibEvent::AddPeer { info, reply });
    rib.flush();
    answer.try_recv().unwrap()
}

fn up(rib: &mut Rib, peer: PeerId) -> mpsc::Receiver<Outgoing> {
    let (tx, rx) = mpsc::channel(16);
    rib.handle(RibEvent::PeerUp {
        peer,
        families: Family::ALL.to_vec(),
        add_path: vec![],
        out: tx,
        session: Default::default(),
    });
    rib.flush();
    rx
}

fn names(rib: &Rib) -> Vec<(PeerId, String)> {
    let view = rib.view().load();
    view.peers.iter().map(|p| (p.id, p.name.clone())).collect()
}

#[tokio::test]
async fn a_removed_peers_routes_are_withdrawn_and_it_leaves_the_view() {
    let (mut rib, mut rx) = rib3(None).await;
    send(&mut rib, 0, announce(&[64496], &["192.0.2.0/24"])).await;
    send(&mut rib, 1, announce(&[64497], &["198.51.100.0/24"])).await;
    for rx in &mut rx {
        received(rx);
    }
    rib.handle(RibEvent::RemovePeer { peer: PeerId(0) });
    rib.flush();
    assert_eq!(received(&mut rx[2]).1, vec![net("192.0.2.0/24")]);
    assert_eq!(received(&mut rx[1]).1, vec![net("192.0.2.0/24")]);
    assert!(
        rx[0].try_recv().is_err(),
        "the removed peer is sent nothing"
    );
    let names = names(&rib);
    assert_eq!(names, [(PeerId(1), "p2".into()), (PeerId(2), "p3".into())]);
}

#[tokio::test]
async fn events_for_a_removed_peer_change_nothing() {
    let (mut rib, mut rx) = rib3(None).await;
    rib.handle(RibEvent::RemovePeer { peer: PeerId(0) });
    send(&mut rib, 0, announce(&[64496], &["192.0.2.0/24"])).await;
    rib.handle(RibEvent::PeerDown {
        peer: PeerId(0),
        restart: None,
        reason: "closed".into(),
    });
    rib.handle(RibEvent::RemovePeer { peer: PeerId(0) });
    rib.flush();
    assert_eq!(received(&mut rx[1]), (vec![], vec![]));
    assert_eq!(rib.view().load().peers.len(), 2);
}

#[tokio::test]
async fn an_added_peer_gets_a_new_id_and_the_table() {
    let (mut rib, mut rx) = rib3(None).await;
    send(&mut rib, 0, announce(&[64496], &["192.0.2.0/24"])).await;
    received(&mut rx[1]);
    rib.handle(RibEvent::RemovePeer { peer: PeerId(2) });
    let id = add(&mut rib, info(9, 64509, None));
    assert_eq!(id, PeerId(3), "the removed peer's id is not reused");
    assert_eq!(names(&rib).last(), Some(&(PeerId(3), "p9".to_string())));
    let mut out = up(&mut rib, id);
    assert_eq!(
        received(&mut out).0,
        vec![(net("192.0.2.0/24"), "64496".to_string())]
    );
    // Its routes go to the others.
    send(&mut rib, 3, announce(&[64509], &["203.0.113.0/24"])).await;
    assert_eq!(
        received(&mut rx[1]).0,
        vec![(net("203.0.113.0/24"), "64509".to_string())]
    );
}

#[tokio::test]
async fn the_update_delay_waits_for_an_added_peer_not_for_a_removed_one() {
    let infos = vec![info(1, 64496, None), info(2, 64497, None)];
    let tagging = Tagging::euro_ix(64500);
    let mut rib = Rib::new(infos, VrpStore::new(), tagging, MassInvalidation::default());
    rib.set_update_delay(Duration::from_secs(600));
    let added = add(&mut rib, info(3, 64498, None));
    rib.handle(RibEvent::RemovePeer { peer: PeerId(1) });
    rib.flush();
    assert_eq!(rib.view().load().update_delay, Some(2));
    for peer in [PeerId(0), added] {
        let _out = up(&mut rib, peer);
        for family in Family::ALL {
            let update = Update {
                end_of_rib: Some(family),
                ..Default::default()
            };
            send(&mut rib, peer.0, update).await;
        }
    }
    assert_eq!(rib.view().load().update_delay, None, "the delay is over");
}
