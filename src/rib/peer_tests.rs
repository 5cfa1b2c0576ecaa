//! The RIB as peers come and go: withdrawals when a peer goes down, the table for a peer
//! that comes up, the maximum-prefix limit, and graceful restart's stale routes.

use super::tests::{announce, net, received, rib3, send, withdraw};
use super::*;
use crate::route::Update;

/// Three peers up (see `rib3`); peer 0 announced 192.0.2.0/24 and 198.51.100.0/24, and what
/// peer 1 was sent is read.
async fn two_routes_from_peer0() -> (Rib, Vec<mpsc::Receiver<Outgoing>>) {
    let (mut rib, mut rx) = rib3(None).await;
    let update = announce(&[64496], &["192.0.2.0/24", "198.51.100.0/24"]);
    send(&mut rib, 0, update).await;
    received(&mut rx[1]);
    (rib, rx)
}

#[tokio::test]
async fn withdraw_and_peer_down_propagate() {
    let (mut rib, mut rx) = two_routes_from_peer0().await;
    send(&mut rib, 0, withdraw(&["192.0.2.0/24"])).await;
    assert_eq!(received(&mut rx[1]).1, vec![net("192.0.2.0/24")]);
    rib.handle(RibEvent::PeerDown {
        peer: PeerId(0),
        restart: None,
        reason: "test".into(),
    });
    rib.flush();
    assert_eq!(
        received(&mut rx[2]).1,
        vec![net("192.0.2.0/24"), net("198.51.100.0/24")]
    );
    assert_eq!(received(&mut rx[1]).1, vec![net("198.51.100.0/24")]);
}

#[tokio::test]
async fn a_new_peer_gets_the_table_then_end_of_rib() {
    let (mut rib, _rx) = rib3(None).await;
    send(
        &mut rib,
        0,
        announce(&[64496], &["192.0.2.0/24", "2001:db8::/32"]),
    )
    .await;
    rib.handle(RibEvent::PeerDown {
        peer: PeerId(2),
        restart: None,
        reason: "test".into(),
    });
    let (tx, mut rx) = mpsc::channel(16);
    rib.handle(RibEvent::PeerUp {
        peer: PeerId(2),
        families: vec![Family::Ipv4Unicast],
        add_path: vec![],
        out: tx,
        session: Default::default(),
    });
    rib.flush();
    let mut batch = Vec::new();
    while let Ok(item) = rx.try_recv() {
        batch.extend(item.into_exports());
    }
    assert!(
        matches!(&batch[..], [Export::Announce(_, p), Export::EndOfRib(Family::Ipv4Unicast)] if p == &vec![net("192.0.2.0/24")]),
        "{batch:?}"
    );
}

#[tokio::test]
async fn max_prefixes_exceeded_asks_the_session_to_close() {
    let (mut rib, mut rx) = rib3(Some(2)).await;
    send(
        &mut rib,
        0,
        announce(
            &[64496],
            &["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"],
        ),
    )
    .await;
    let mut limit = None;
    while let Ok(batch) = rx[0].try_recv() {
        limit = batch
            .into_exports()
            .into_iter()
            .find_map(|e| match e {
                Export::LimitReached(l) => Some(l),
                _ => None,
            })
            .or(limit);
    }
    assert_eq!(limit, Some(2));
    // The session closes; its routes are withdrawn everywhere.
    rib.handle(RibEvent::PeerDown {
        peer: PeerId(0),
        restart: None,
        reason: "test".into(),
    });
    rib.flush();
    let (ann, wd) = received(&mut rx[1]);
    assert_eq!(ann.len(), 2, "routes beyond the limit are not taken");
    assert_eq!(wd.len(), 2);
}

#[tokio::test]
async fn graceful_restart_keeps_stale_routes_until_end_of_rib() {
    let (mut rib, mut rx) = two_routes_from_peer0().await;
    rib.handle(RibEvent::PeerDown {
        peer: PeerId(0),
        restart: Some(Duration::from_secs(120)),
        reason: "test".into(),
    });
    rib.flush();
    assert_eq!(
        received(&mut rx[1]),
        (vec![], vec![]),
        "nothing withdrawn while restarting"
    );
    let (tx, _rx0) = mpsc::channel(16);
    rib.handle(RibEvent::PeerUp {
        peer: PeerId(0),
        families: Family::ALL.to_vec(),
        add_path: vec![],
        out: tx,
        session: Default::default(),
    });
    send(&mut rib, 0, announce(&[64496], &["192.0.2.0/24"])).await;
    let eor = Update {
        end_of_rib: Some(Family::Ipv4Unicast),
        ..Default::default()
    };
    send(&mut rib, 0, eor).await;
    assert_eq!(
        received(&mut rx[1]).1,
        vec![net("198.51.100.0/24")],
        "only the route not re-sent is withdrawn"
    );
}

#[tokio::test]
async fn stale_routes_go_when_the_restart_time_ends() {
    let (mut rib, mut rx) = rib3(None).await;
    send(&mut rib, 0, announce(&[64496], &["192.0.2.0/24"])).await;
    received(&mut rx[1]);
    rib.handle(RibEvent::PeerDown {
        peer: PeerId(0),
        restart: Some(Duration::from_secs(5)),
        reason: "test".into(),
    });
    let deadline = rib.peers.next_stale_deadline().unwrap();
    rib.tick(deadline);
    rib.flush();
    assert_eq!(received(&mut rx[1]).1, vec![net("192.0.2.0/24")]);
}
