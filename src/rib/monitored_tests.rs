//! A BMP-monitored neighbour (`PeerInfo::monitored`): its paths are validated, counted,
//! re-validated and reported like a session's, and never selected for or sent to anyone.

use super::rov_tests::{vrp, Lab, NO_HOLD};
use super::tests::net;
use super::*;
use crate::policy::RovMode;
use crate::route::Asn;
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
