//! The table feed BMP export reads (`monitor.rs`).

use tokio::sync::broadcast::error::TryRecvError;
use tokio::sync::oneshot;

use super::tests::{announce, net, received, rib3, send, withdraw};
use super::*;
use ipnet::IpNet;

/// The peers of each prefix in a change, by prefix.
fn peers_of(changes: &TableChanges) -> Vec<(IpNet, Vec<u32>)> {
    let peers = |paths: &Vec<Path>| paths.iter().map(|p| p.peer.0).collect();
    (changes.prefixes.iter())
        .map(|(prefix, paths)| (*prefix, peers(paths)))
        .collect()
}

/// Expected: each batch's changed prefixes come with every member's path (best first),
/// at a generation that grows, a change below the two best paths too (what a peer is sent
/// does not change); a withdrawn prefix comes with none; the snapshot holds the
/// table at the last generation sent.
#[tokio::test]
async fn changes_carry_every_path_of_a_prefix_and_the_snapshot_is_where_they_left() {
    let (mut rib, _rx) = rib3(None).await;
    let mut feed = rib.table_feed().subscribe();
    let p = "192.0.2.0/24";
    send(&mut rib, 0, announce(&[64496], &[p, "198.51.100.0/24"])).await;
    let first = feed.try_recv().unwrap();
    assert_eq!(peers_of(&first).len(), 2);
    send(&mut rib, 1, announce(&[64497, 64510], &[p])).await;
    let second = feed.try_recv().unwrap();
    assert_eq!(peers_of(&second), [(net(p), vec![0, 1])], "best first");
    assert!(second.generation > first.generation);
    send(&mut rib, 2, announce(&[64498, 64510, 64511], &[p])).await;
    let third_path = feed.try_recv().unwrap();
    assert_eq!(peers_of(&third_path), [(net(p), vec![0, 1, 2])]);
    send(&mut rib, 0, withdraw(&["198.51.100.0/24"])).await;
    let third = feed.try_recv().unwrap();
    assert_eq!(peers_of(&third), [(net("198.51.100.0/24"), vec![])]);
    let (reply, snapshot) = oneshot::channel();
    rib.answer(RibQuery::Table { reply }, false);
    let snapshot = snapshot.await.unwrap();
    assert_eq!(snapshot.generation, third.generation);
    assert_eq!(peers_of(&snapshot), [(net(p), vec![0, 1, 2])]);
}

/// Expected: a subscriber that never reads holds nothing up: every UPDATE still reaches
/// the other members, and the subscriber is told it missed some (then resyncs).
#[tokio::test]
async fn a_subscriber_that_never_reads_holds_nothing_up() {
    let (mut rib, mut rx) = rib3(None).await;
    let mut stuck = rib.table_feed().subscribe();
    let mut delivered = 0;
    for i in 0..TABLE_FEED + 10 {
        let prefix = format!("10.{}.{}.0/24", i / 256, i % 256);
        send(&mut rib, 0, announce(&[64496], &[&prefix])).await;
        delivered += received(&mut rx[1]).0.len();
    }
    assert_eq!(delivered, TABLE_FEED + 10, "every route reached member 1");
    assert!(matches!(stuck.try_recv(), Err(TryRecvError::Lagged(10))));
}
