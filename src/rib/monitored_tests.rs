//! A BMP-monitored neighbour (`PeerInfo::monitored`): its paths are validated, counted,
//! re-validated and reported like a session's, and never selected for or sent to anyone.

use super::rov_tests::{vrp, Lab, NO_HOLD};
use super::tests::net;
use super::*;
use crate::policy::RovMode;
use crate::route::Update;
use crate::route::{Asn, PathNlri};
use tokio::sync::oneshot;

/// A Lab (peers 0..2 up) with a monitored neighbour added as peer 3; 192.0.2.0/24 may only
/// be originated by AS 65001.
async fn lab_with_monitored() -> (Lab, u32) {
    let mut lab = Lab::new(RovMode::Accept, &[vrp("192.0.2.0/24", 24, 65001)], NO_HOLD).await;
    let address = "192.0.2.9".parse().unwrap();
    let mut info = PeerInfo::new(
        "edge1/192.0.2.9".into(),
        address,
        Asn(64499),
        RovMode::Shadow,
    );
    info.monitored = true;
    let (reply, mut id) = oneshot::channel();
    lab.event(RibEvent::AddPeer { info, reply }).await;
    (lab, id.try_recv().expect("an id").0)
}

/// The monitored neighbour's view, after checking that no peer was sent anything.
fn checked_view(lab: &mut Lab, monitored: u32) -> PeerView {
    for i in 0..3 {
        assert_eq!(lab.routes(i), (vec![], vec![]), "peer {i} is sent nothing");
    }
    let view = lab.rib.view().load();
    let mut peers = view.peers.iter();
    peers.find(|p| p.id.0 == monitored).expect("listed").clone()
}

#[tokio::test]
async fn a_monitored_neighbours_routes_are_reported_but_never_exported() {
    let (mut lab, monitored) = lab_with_monitored().await;
    lab.announce(monitored, &[64499, 65002], &["192.0.2.0/24"])
        .await;
    lab.announce(monitored, &[64499, 65001], &["198.51.100.0/24"])
        .await;
    let peer = checked_view(&mut lab, monitored);
    assert!(peer.up, "a monitored neighbour with routes shows up");
    assert_eq!((peer.counts.routes, peer.counts.invalid), (2, 1));
    assert_eq!(
        (peer.counts.dropped, peer.would_drop),
        (0, 1),
        "shadow: would drop 1"
    );
    let invalid = lab.rib.invalid_paths();
    assert_eq!(invalid.len(), 1);
    assert!(!invalid[0].dropped, "reported as would-drop, not dropped");

    // A member's path for the same prefix is the best and is exported; the monitored one
    // never is, even when it is better.
    lab.announce(0, &[64496, 64501, 64502, 65001], &["192.0.2.0/24"])
        .await;
    assert_eq!(lab.routes(1).0.len(), 1);
    let (_, paths) = lab.rib.lookup(net("192.0.2.0/24"));
    let best: Vec<_> = paths
        .iter()
        .filter(|p| p.best)
        .map(|p| p.peer.as_str())
        .collect();
    assert_eq!(best, ["p0"]);
}

#[tokio::test]
async fn a_monitored_neighbours_routes_are_revalidated_on_vrp_change() {
    let (mut lab, monitored) = lab_with_monitored().await;
    lab.announce(monitored, &[64499, 65002], &["192.0.2.0/24"])
        .await;
    lab.change_vrps(vec![vrp("192.0.2.0/24", 24, 65002)], vec![])
        .await;
    let peer = checked_view(&mut lab, monitored);
    assert_eq!((peer.counts.valid, peer.counts.invalid), (1, 0));
}

/// The monitored neighbour's path `id` for `prefix` with this AS path (ADD-PATH).
fn path_update(id: u32, path: &[u32], prefix: &str) -> Update<PathNlri> {
    let nlri = PathNlri {
        id,
        prefix: net(prefix),
    };
    Update {
        announced: vec![(super::tests::attrs(path, 1), vec![nlri])],
        ..Default::default()
    }
}

/// Expected: a neighbour that sends two paths of one prefix (ADD-PATH) has two paths, each
/// validated and counted; withdrawing one path id removes only that one; its Peer Down
/// removes the other.
#[tokio::test]
async fn each_add_path_identifier_is_a_path_of_its_own() {
    let (mut lab, monitored) = lab_with_monitored().await;
    let peer = PeerId(monitored);
    for (id, path) in [(1, [64499, 65001]), (2, [64499, 65002])] {
        let update = path_update(id, &path, "192.0.2.0/24");
        lab.event(RibEvent::PathUpdate { peer, update }).await;
    }
    let view = checked_view(&mut lab, monitored);
    let counts = (view.counts.routes, view.counts.valid, view.counts.invalid);
    assert_eq!(counts, (2, 1, 1), "both paths, each validated");
    let (_, paths) = lab.rib.lookup(net("192.0.2.0/24"));
    assert_eq!(paths.len(), 2);

    let withdraw = Update {
        withdrawn: vec![PathNlri {
            id: 2,
            prefix: net("192.0.2.0/24"),
        }],
        ..Default::default()
    };
    lab.event(RibEvent::PathUpdate {
        peer,
        update: withdraw,
    })
    .await;
    let view = checked_view(&mut lab, monitored);
    let counts = (view.counts.routes, view.counts.valid, view.counts.invalid);
    assert_eq!(
        counts,
        (1, 1, 0),
        "path 2 (the invalid one) withdrawn, path 1 kept"
    );

    let down = RibEvent::PeerDown {
        peer,
        restart: None,
        reason: "BMP peer down".into(),
    };
    lab.event(down).await;
    assert_eq!(checked_view(&mut lab, monitored).counts.routes, 0);
    assert!(lab.rib.lookup(net("192.0.2.0/24")).1.is_empty());
}
