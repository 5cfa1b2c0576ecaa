//! Tests of the metrics module: what `render` prints parses as Prometheus text and says
//! what the snapshots say.

use super::*;
use crate::bgp::counters::*;
use std::sync::Arc;

use crate::policy::{Failed, RovMode};
use crate::rib::{HoldView, Path, PeerView, ReevaluationView, RovCounts, Timings};
use crate::route::abuse::{Malformed, Refusal};
use crate::route::{AsPath, Asn, AttrSet, NextHop, PeerId, RovState, Segment};
use crate::rpki::server::RtrServerView;
use crate::rpki::server_clients::RtrClient;
use crate::rpki::status::{SourceStatus, Validation};
use crate::rpki::Vrp;

/// The one Prometheus text parser of the tests, and its self-test.
#[path = "../tests/support/prom.rs"]
mod prom;

fn peer(name: &str, up: bool, counts: RovCounts, would_drop: u64) -> PeerView {
    PeerView {
        id: crate::route::PeerId(0),
        name: name.into(),
        address: "192.0.2.1".parse().unwrap(),
        asn: Asn(64500),
        monitored: false,
        rov: RovMode::Shadow,
        checks: Default::default(),
        up,
        families: Default::default(),
        pending: 0,
        last_down: None,
        session: None,
        counts,
        would_drop,
        abuse: Default::default(),
    }
}

/// Counts of not-found paths failing these checks, one path per slice.
fn failing(paths: &[&[Check]]) -> RovCounts {
    let mut counts = RovCounts::default();
    for checks in paths {
        let mut failed = Failed::default();
        checks.iter().for_each(|&c| failed.add(c));
        let as_path = AsPath(vec![Segment::Sequence(vec![64500])]);
        let next_hop = NextHop::V4([192, 0, 2, 1].into());
        let attrs = AttrSet::new(0, as_path, next_hop, None, Default::default());
        let mut path = Path::new(PeerId(2), 0, Arc::new(attrs), RovState::NotFound);
        path.failed = failed;
        counts.count(&path, 1);
    }
    counts
}

/// Expect: every gauge equals the snapshot it came from; the histograms and the counter
/// grow by what the RIB's view says was recorded; the text is valid Prometheus exposition format.
#[test]
fn render_reports_snapshots_and_recorded_times() {
    let before = prom::parse(&install().render()).unwrap();
    let count = |e: &prom::Exposition, name: &str| e.get(name, &[]).unwrap_or(0.0);
    let mut timings = Timings::default();
    timings.update.record(Duration::from_micros(40));
    timings.reevaluation.record(Duration::from_millis(120));
    send_hold_expired("metrics-p1");
    update_malformed("metrics-p1", Malformed::TreatAsWithdraw);
    notification_sent("metrics-p1", 3, 1);
    notification_received("metrics-p1", 6, 2);
    connection_refused(Refusal::UnknownAddress);

    let c1 = RovCounts {
        routes: 10,
        valid: 6,
        invalid: 3,
        not_found: 1,
        dropped: 2,
        held: 1,
        stale: 0,
        failed: Default::default(),
    };
    // 4 not-found paths, two of them failing import checks.
    let c2 = failing(&[&[Check::Bogon], &[Check::Bogon, Check::NextHop], &[], &[]]);
    let held = HoldView {
        since: None,
        serial: 9,
        routes: 17,
        peers: 1,
        until: None,
    };
    let rib = RibView {
        peers: vec![
            peer("metrics-p1", true, c1, 5),
            peer("metrics-p2", false, c2, 0),
        ],
        held_update: Some(held),
        reevaluation: ReevaluationView {
            changes: 3,
            ..Default::default()
        },
        update_delay: None,
        waiting_for_vrps: false,
        generation: 0,
        timings,
    };
    let mut cache = SourceStatus::new("rtr", "127.0.0.1:8282".into(), Some(1));
    cache.state = SourceState::Up;
    cache.vrps = 2;
    cache.serial = Some(42);
    cache.last_update = Some(SystemTime::now() - Duration::from_secs(30));
    let rpki = RpkiStatus {
        sources: vec![cache],
        stale: false,
        complete: true,
        validation: Validation::default().next(0, false, false, SystemTime::now()),
    };
    let vrp = |p: &str| Vrp {
        prefix: p.parse().unwrap(),
        max_length: 24,
        asn: Asn(64500),
    };
    let vrps = VrpSnapshot {
        table: [vrp("192.0.2.0/24"), vrp("198.51.100.0/24")]
            .into_iter()
            .collect(),
        serial: 7,
        ..Default::default()
    };

    // A second install shares the first recorder: it sees what was recorded above.
    let router = RtrClient {
        address: "192.0.2.7:40000".parse().unwrap(),
        listen: "192.0.2.1:3323".parse().unwrap(),
        version: Some(2),
        serial: Some(5),
        connected: None,
        last_update: None,
        resets: 1,
        serial_updates: 0,
    };
    let server = RtrServerView {
        serial: 5,
        refused: 3,
        clients: vec![
            router.clone(),
            RtrClient {
                version: Some(0),
                serial: Some(4),
                ..router
            },
        ],
        ..Default::default()
    };
    let text = render(&install(), &rib, &rpki, &vrps, Some(&server));
    let after = prom::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let get = |name: &str, labels: &[(&str, &str)]| {
        (after.get(name, labels)).unwrap_or_else(|| panic!("no {name} {labels:?}\n{text}"))
    };
    for (state, n) in [("valid", 6.0), ("invalid", 3.0), ("not_found", 1.0)] {
        assert_eq!(get(ROUTES, &[("peer", "metrics-p1"), ("state", state)]), n);
    }
    assert_eq!(
        get(ROUTES, &[("peer", "metrics-p2"), ("state", "not_found")]),
        4.0
    );
    assert_eq!(get(ROUTES_DROPPED, &[("peer", "metrics-p1")]), 2.0);
    assert_eq!(get(ROUTES_HELD, &[("peer", "metrics-p1")]), 1.0);
    let failed = |peer, check: Check| {
        let code = format!("1101:{}", check.code());
        let labels = [("peer", peer), ("check", check.name()), ("code", &code)];
        get(PEER_PATHS_FAILED, &labels)
    };
    assert_eq!(failed("metrics-p2", Check::Bogon), 2.0);
    assert_eq!(failed("metrics-p2", Check::NextHop), 1.0);
    assert_eq!(failed("metrics-p2", Check::TransitFree), 0.0);
    assert_eq!(failed("metrics-p1", Check::Bogon), 0.0);
    assert_eq!(get(WOULD_DROP, &[("peer", "metrics-p1")]), 5.0);
    assert_eq!(get(PEER_UP, &[("peer", "metrics-p1")]), 1.0);
    assert_eq!(get(PEER_UP, &[("peer", "metrics-p2")]), 0.0);
    assert_eq!(get(SESSIONS, &[("state", "established")]), 1.0);
    assert_eq!(get(SESSIONS, &[("state", "down")]), 1.0);
    let source = [("source", "127.0.0.1:8282"), ("kind", "rtr")];
    assert_eq!(get(SOURCE_VRPS, &source), 2.0);
    assert_eq!(get(SOURCE_SERIAL, &source), 42.0);
    assert_eq!(get(SOURCE_UP, &source), 1.0);
    let since = get(SOURCE_SECONDS_SINCE_UPDATE, &source);
    assert!((30.0..40.0).contains(&since), "{since}");
    assert_eq!(get(VRPS, &[]), 2.0);
    assert_eq!(get(VRP_SNAPSHOT_SERIAL, &[]), 7.0);
    assert_eq!(get(RPKI_STALE, &[]), 0.0);
    assert_eq!(get(VALIDATION_ACTIVE, &[]), 0.0);
    assert_eq!(get(VRPS_COMPLETE, &[]), 1.0);
    assert_eq!(get(RTR_SERVER_CLIENTS, &[("version", "2")]), 1.0);
    assert_eq!(get(RTR_SERVER_CLIENTS, &[("version", "0")]), 1.0);
    assert_eq!(get(RTR_SERVER_CLIENTS, &[("version", "1")]), 0.0);
    assert_eq!(get(RTR_SERVER_CLIENTS_CURRENT, &[]), 1.0);
    assert_eq!(get(RTR_SERVER_SERIAL, &[]), 5.0);
    assert_eq!(get(RTR_SERVER_REFUSED, &[]), 3.0);
    assert_eq!(get(MASS_INVALIDATION_HELD, &[]), 1.0);
    assert_eq!(get(MASS_INVALIDATION_ROUTES, &[]), 17.0);

    // Other tests in this process may record too: only growth is certain.
    let grew = |name: &str| count(&after, name) - count(&before, name);
    assert!(grew(&format!("{UPDATE_PROCESSING_SECONDS}_count")) >= 1.0);
    assert!(grew(&format!("{REEVALUATION_SECONDS}_count")) >= 1.0);
    assert!(grew(&format!("{REEVALUATION_SECONDS}_sum")) >= 0.119);
    assert!(grew(ROV_CHANGES_TOTAL) >= 3.0);
    assert_eq!(get(SEND_HOLD_EXPIRED_TOTAL, &[("peer", "metrics-p1")]), 1.0);
    assert_eq!(get(EXPORT_PENDING, &[("peer", "metrics-p1")]), 0.0);
    let malformed = [("peer", "metrics-p1"), ("reason", "treat_as_withdraw")];
    assert_eq!(get(UPDATES_MALFORMED_TOTAL, &malformed), 1.0);
    let sent = [("peer", "metrics-p1"), ("code", "3"), ("subcode", "1")];
    assert_eq!(get(NOTIFICATIONS_SENT_TOTAL, &sent), 1.0);
    let received = [("peer", "metrics-p1"), ("code", "6"), ("subcode", "2")];
    assert_eq!(get(NOTIFICATIONS_RECEIVED_TOTAL, &received), 1.0);
    let refused = [("reason", "unknown_address")];
    assert!(get(CONNECTIONS_REFUSED_TOTAL, &refused) >= 1.0);
    let fast = [("le", "0.00005")];
    assert!(get(&format!("{UPDATE_PROCESSING_SECONDS}_bucket"), &fast) >= 1.0);

    let kinds = [
        ("histogram", &HISTOGRAMS[..]),
        ("counter", COUNTERS),
        ("gauge", GAUGES),
    ];
    for (kind, metrics) in kinds {
        for &(name, _) in metrics {
            assert!(
                text.contains(&format!("# HELP {name} ")),
                "{name} undescribed"
            );
            let typed = after.types.get(name).map(String::as_str);
            assert_eq!(typed, Some(kind), "TYPE of {name}");
        }
    }
}
