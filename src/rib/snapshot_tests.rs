//! The report and looking-glass snapshots: which invalid paths leave their destination
//! reachable, and what a lookup shows.

use super::rov_tests::{vrp, Lab, NO_HOLD};
use super::snapshot::FailedCheck;
use super::tests::net;
use super::*;
use crate::policy::{Check, CheckGroup, CheckModes, Filters, NextHopPolicy, RovMode};
use crate::route::Asn;
use crate::route::{RovState, Update};
use ipnet::IpNet;
use std::net::IpAddr;

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

/// Sets peer 0's import checks, any next hop allowed (the tests' paths carry 192.0.2.1).
fn set_checks(lab: &mut Lab, checks: CheckModes) {
    let filters = Filters {
        next_hop: NextHopPolicy::Off,
        ..Filters::ixp_defaults(Asn(64496), IpAddr::from([127, 0, 0, 1]))
    };
    let (peer, filters) = (PeerId(0), Arc::new(filters));
    lab.rib.handle(RibEvent::SetChecks {
        peer,
        checks,
        filters,
    });
}

/// (prefix, RPKI invalid, failed codes, dropped, reachable) of every listed path.
fn listed(rib: &Rib) -> Vec<(IpNet, bool, Vec<u32>, bool, bool)> {
    (rib.invalid_paths().iter())
        .map(|p| {
            let codes = p.failed.iter().map(Check::code).collect();
            (p.prefix, p.rpki_invalid, codes, p.dropped, p.reachable)
        })
        .collect()
}

#[tokio::test]
async fn paths_failing_a_check_are_listed_with_their_checks() {
    // AS 3333 may originate 193.0.0.0/16 up to /24.
    let vrps = [vrp("193.0.0.0/16", 24, 3333)];
    let mut lab = Lab::new(RovMode::Shadow, &vrps, NO_HOLD).await;
    // Every check in shadow but the prefix length, in drop.
    let mut checks = CheckModes::all(RovMode::Shadow);
    checks.set(CheckGroup::PrefixLength, RovMode::Drop);
    set_checks(&mut lab, checks);
    // Peer 0: a clean route, a /25 (too long: dropped, and RPKI-invalid), a path through
    // AS 174 (transit-free), and two bogons, the /24 inside the /16.
    lab.announce(0, &[64496, 3333], &["193.0.0.0/24"]).await;
    lab.announce(0, &[64496, 3333], &["193.0.1.0/25"]).await;
    lab.announce(0, &[64496, 174, 3333], &["193.0.2.0/24"])
        .await;
    lab.announce(0, &[64496, 3333], &["10.1.0.0/16", "10.1.2.0/24"])
        .await;
    // Peer 1 (no checks) reaches 193.0.2.0/24 too, through AS 174: not a failure for it.
    lab.announce(1, &[64497, 174, 3333], &["193.0.2.0/24"])
        .await;
    let (bogon, too_long, transit) = (Check::Bogon.code(), 1, Check::TransitFree.code());
    assert_eq!(
        listed(&lab.rib),
        vec![
            // The /16 fails a check itself: it reaches nothing in the what-if.
            (net("10.1.0.0/16"), false, vec![bogon], false, false),
            (net("10.1.2.0/24"), false, vec![bogon], false, false),
            (net("193.0.1.0/25"), true, vec![too_long], true, false),
            (net("193.0.2.0/24"), false, vec![transit], false, true),
        ]
    );
    let counts = lab.rib.view().load().peers[0].counts;
    assert_eq!(counts.failed.get(Check::Bogon), 2);
    // The looking glass names the failed checks beside the RPKI state.
    let (_, paths) = lab.rib.lookup(net("193.0.2.0/24"));
    let got: Vec<_> = (paths.iter())
        .map(|p| (p.peer.as_str(), p.state, p.failed_checks.clone()))
        .collect();
    let failed = FailedCheck {
        code: transit,
        name: "transit_free",
    };
    assert_eq!(
        got,
        vec![
            // Shadow: the path stays best (the lower address wins the tie).
            ("p0", RovState::Valid, vec![failed]),
            ("p1", RovState::Valid, vec![]),
        ]
    );
    // Every check in drop: the same paths, all dropped now.
    set_checks(&mut lab, CheckModes::ALL_DROP);
    assert!(
        listed(&lab.rib).iter().all(|p| p.3),
        "{:?}",
        listed(&lab.rib)
    );
    assert_eq!(listed(&lab.rib).len(), 4);
    // Every check off: only the RPKI-invalid /25 is listed, and it passes.
    set_checks(&mut lab, CheckModes::default());
    let (p25, none) = (net("193.0.1.0/25"), vec![]);
    assert_eq!(listed(&lab.rib), vec![(p25, true, none, false, false)]);
}
