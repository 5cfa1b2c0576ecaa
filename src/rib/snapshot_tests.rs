//! The report and looking-glass snapshots: which invalid paths leave their destination
//! reachable, and what a lookup shows.

use super::rov_tests::{vrp, Lab, NO_HOLD};
use super::tests::net;
use super::*;
use crate::policy::RovMode;

#[tokio::test]
async fn invalid_paths_know_whether_their_destination_stays_reachable() {
    // Only AS 65001 may originate in 192.0.2.0/24 (up to /25).
    let vrps = [vrp("192.0.2.0/24", 25, 65001)];
    let mut lab = Lab::new(RovMode::Shadow, &vrps, NO_HOLD).await;
    // Peer 0 (shadow): two invalid routes. Peer 1: the /24 from the right origin (valid).
    lab.announce(0, &[64496, 65002], &["192.0.2.0/25", "192.0.2.128/25"])
        .await;
    lab.announce(0, &[64496, 65002], &["192.0.2.0/24"]).await;
    lab.announce(1, &[64497, 65001], &["192.0.2.0/24"]).await;
    let invalid = lab.rib.invalid_paths();
    let got: Vec<(IpNet, bool, bool)> = invalid
        .iter()
        .map(|p| (p.prefix, p.dropped, p.reachable))
        .collect();
    assert_eq!(
        got,
        vec![
            // The /24 from peer 1 is valid: every destination stays reachable.
            (net("192.0.2.0/24"), false, true),
            (net("192.0.2.0/25"), false, true),
            (net("192.0.2.128/25"), false, true),
        ]
    );
    let update = Update {
        withdrawn: vec![net("192.0.2.0/24")],
        ..Default::default()
    };
    let peer = PeerId(1);
    lab.rib.handle(RibEvent::Update { peer, update });
    // Without the valid /24 nothing else covers them.
    assert!(lab.rib.invalid_paths().iter().all(|p| !p.reachable));
}

#[tokio::test]
async fn lookup_shows_every_path_of_the_longest_matching_prefix() {
    let vrps = [vrp("192.0.2.0/24", 24, 65001)];
    let mut lab = Lab::new(RovMode::Drop, &vrps, NO_HOLD).await;
    lab.announce(0, &[64496, 65002], &["192.0.2.0/24"]).await;
    lab.announce(1, &[64497, 65001], &["192.0.2.0/24"]).await;
    let (found, paths) = lab.rib.lookup(net("192.0.2.128/25"));
    assert_eq!(found, Some(net("192.0.2.0/24")));
    let got: Vec<_> = paths
        .iter()
        .map(|p| (p.peer.as_str(), p.state, p.eligible, p.best))
        .collect();
    assert_eq!(
        got,
        vec![
            ("p1", RovState::Valid, true, true),
            ("p0", RovState::Invalid, false, false),
        ]
    );
    assert_eq!(paths[1].added_large_communities, vec!["64500:1101:13"]);
    let (found, paths) = lab.rib.lookup(net("198.51.100.0/24"));
    assert!(found.is_none() && paths.is_empty());
}

/// The report's paths as the RIB task answers the query (`busy`: UPDATEs waiting).
fn asked(rib: &mut Rib, busy: bool) -> InvalidPaths {
    let (reply, mut answer) = tokio::sync::oneshot::channel();
    rib.answer(RibQuery::Report { reply }, busy);
    answer.try_recv().expect("answered at once")
}

#[tokio::test]
async fn invalid_paths_are_collected_again_only_when_the_table_changed() {
    let vrps = [vrp("192.0.2.0/24", 24, 65001)];
    let mut lab = Lab::new(RovMode::Shadow, &vrps, NO_HOLD).await;
    lab.announce(0, &[64496, 65002], &["192.0.2.0/24"]).await;
    lab.rib.flush();
    let first = asked(&mut lab.rib, false);
    assert_eq!(first.paths.len(), 1);
    assert_eq!(first.generation, lab.rib.view().load().generation);
    // Nothing changed: the same collection, even when idle.
    let again = asked(&mut lab.rib, false);
    assert!(Arc::ptr_eq(&first.paths, &again.paths));
    // Withdrawing a prefix the peer never sent changes nothing.
    let nothing = Update {
        withdrawn: vec![net("198.51.100.0/24")],
        ..Default::default()
    };
    lab.rib.handle(RibEvent::Update {
        peer: PeerId(0),
        update: nothing,
    });
    lab.rib.flush();
    assert_eq!(asked(&mut lab.rib, false).generation, first.generation);
    // A second invalid route moves the generation, in the view too, and is collected.
    lab.announce(1, &[64497, 65002], &["192.0.2.0/24"]).await;
    lab.rib.flush();
    let changed = asked(&mut lab.rib, false);
    assert!(changed.generation > first.generation);
    assert_eq!(changed.generation, lab.rib.view().load().generation);
    assert_eq!(changed.paths.len(), 2);
}
