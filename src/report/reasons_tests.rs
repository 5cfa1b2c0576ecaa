//! The what-if per reason: routes listed for their import checks beside RPKI-invalid ones,
//! their reason codes, and per peer and in total what switching each reason to `drop`
//! would do.

use super::tests::{peer, table};
use super::*;
use crate::policy::Check;

/// A route of peer `peer` from AS 64500 (the peer) originated by AS 64499.
fn route(peer: usize, prefix: &str, rpki_invalid: bool, failed: &[Check]) -> InvalidInput {
    let mut set = Failed::default();
    for &c in failed {
        set.add(c);
    }
    InvalidInput {
        peer,
        prefix: prefix.parse().expect("prefix"),
        origin: Some(Asn(64499)),
        as_path: "64500 64499".into(),
        rpki_invalid,
        failed: set,
        dropped: false,
        aspa: None,
        reachable: false,
    }
}

fn codes(r: &InvalidRoute) -> Vec<(u32, &str)> {
    r.reasons.iter().map(|c| (c.code, &*c.name)).collect()
}

/// (code, routes, would drop, dropped, unreachable) per reason.
fn sums(reasons: &[ReasonSummary]) -> Vec<(u32, u64, u64, u64, u64)> {
    (reasons.iter())
        .map(|r| {
            (
                r.reason.code,
                r.routes,
                r.would_drop,
                r.dropped,
                r.unreachable,
            )
        })
        .collect()
}

/// Peer "m" (shadow for every check; its /25 is dropped by a check in `drop`): a bogon, a
/// /25, an RPKI-invalid route with a bad next hop, and a transit-free path to a prefix
/// another peer reaches. Peer "n": the same bogon.
fn sample() -> Report {
    let vrps = table(&["198.51.100.0/24-24 AS64496"]);
    let peers = [peer("m", 0, 1, 3, 0), peer("n", 0, 0, 1, 0)];
    let mut long = route(0, "203.0.113.0/25", false, &[Check::PrefixTooLong]);
    long.dropped = true;
    let mut transit = route(0, "192.0.2.0/24", false, &[Check::TransitFree]);
    transit.reachable = true;
    let routes = [
        route(0, "10.0.0.0/8", false, &[Check::Bogon]),
        long,
        route(0, "198.51.100.0/24", true, &[Check::NextHop]),
        transit,
        route(1, "10.0.0.0/8", false, &[Check::Bogon]),
    ];
    build(&peers, &routes, &vrps, None)
}

#[test]
fn every_route_carries_its_reasons_and_every_fix() {
    let report = sample();
    let m = &report.peers[0];
    let got: Vec<_> = m.invalid_routes.iter().map(codes).collect();
    assert_eq!(
        got,
        vec![
            vec![(3, "bogon_prefix")],
            vec![(14, "transit_free")],
            vec![(8, "next_hop"), (13, "rpki_invalid")],
            vec![(1, "prefix_too_long")],
        ]
    );
    // A route listed for its checks alone is not RPKI-invalid and needs no ROA.
    let bogon = &m.invalid_routes[0];
    assert_eq!(
        (bogon.state, bogon.reason),
        (RovState::NotFound, Reason::NotInvalid)
    );
    assert_eq!(bogon.suggested_roa, None);
    assert_eq!(bogon.suggestion, Check::Bogon.advice());
    // RPKI keeps its suggested ROA; the check's advice follows the RPKI fix.
    let both = &m.invalid_routes[2];
    assert_eq!(both.reason, Reason::OriginAs);
    assert_eq!(both.suggested_roa.map(|v| v.asn), Some(Asn(64499)));
    assert!(
        both.suggestion.starts_with("if AS64499 may originate"),
        "{}",
        both.suggestion
    );
    assert!(both
        .suggestion
        .ends_with(&format!("; {}", Check::NextHop.advice())));
}

#[test]
fn per_reason_what_if_per_peer_and_in_total() {
    let report = sample();
    let m = &report.peers[0];
    assert_eq!(
        sums(&m.reasons),
        vec![
            // The /25 is dropped now: nothing more to lose.
            (1, 1, 0, 1, 0),
            (3, 1, 1, 0, 1),
            (8, 1, 1, 0, 1),
            (13, 1, 1, 0, 1),
            // Another peer's path reaches 192.0.2.0/24.
            (14, 1, 1, 0, 0),
        ]
    );
    let bogon = &m.reasons[1];
    assert_eq!(bogon.reason.to_string(), "1101:3 bogon_prefix");
    assert_eq!(bogon.advice, Check::Bogon.advice());
    assert_eq!(
        bogon.summary,
        "1 routes would be dropped, 1 destinations would become unreachable"
    );
    assert!(m.reasons[3].advice.starts_with("sign a ROA"));
    // The RPKI counts stay RPKI's: one invalid route, its destination lost.
    assert_eq!((m.counts.invalid, m.counts.unreachable), (1, 1));
    // In total, the bogon of both peers is one destination.
    let bogon = report.totals.reasons.iter().find(|r| r.reason.code == 3);
    assert_eq!(bogon.map(|r| (r.routes, r.unreachable)), Some((2, 1)));
    assert_eq!(report.totals.counts.unreachable, 1);
    // Pages carry the peer's reasons and the totals of the peer asked for.
    let (page, total) = report.page(Some("n"), 0, 10);
    assert_eq!(total, 1);
    assert_eq!(sums(&page.peers[0].reasons), vec![(3, 1, 1, 0, 1)]);
    assert_eq!(sums(&page.totals.reasons), vec![(3, 1, 1, 0, 1)]);
}

#[test]
fn renders_carry_the_reason_codes() {
    let report = sample();
    let json = render(&report, Format::Json);
    assert_eq!(serde_json::from_str::<Report>(&json).expect("json"), report);
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    let route = &value["peers"][0]["invalid_routes"][2];
    assert_eq!(
        route["reasons"][0],
        serde_json::json!({"code": 8, "name": "next_hop"})
    );
    assert_eq!(value["peers"][0]["reasons"][1]["would_drop"], 1);
    let csv = render(&report, Format::Csv);
    assert!(
        csv.contains(",1101:8 next_hop; 1101:13 rpki_invalid\r\n"),
        "{csv}"
    );
    assert!(csv.contains("\r\nn,10.0.0.0/8,64499,64500 64499,not-found,not-invalid,"));
    let text = render(&report, Format::Table);
    let line = format!(
        "  1101:3 bogon_prefix: 1 routes would be dropped, 1 destinations would become \
         unreachable (0 dropped now); fix: {}\n",
        Check::Bogon.advice()
    );
    assert!(text.contains(&line), "{text}");
    assert!(text.contains("total: 1101:3 bogon_prefix: 2 routes would be dropped"));
    assert!(text.contains(" 1101:8,1101:13 "), "{text}");
}

/// An ASPA-invalid route: listed under `1101:16 aspa_invalid`, its suggestion naming the
/// hop, counted as a would-drop in shadow as ROV's are; the CSV carries the hop too.
#[test]
fn an_aspa_invalid_route_names_its_hop() {
    let why = "AS64499 has an ASPA that does not list AS64500 as a provider";
    let mut leak = route(0, "192.0.2.0/24", false, &[Check::Aspa]);
    leak.aspa = Some(why.to_string());
    let report = build(&[peer("m", 0, 1, 0, 0)], &[leak], &table(&[]), None);
    let r = &report.peers[0].invalid_routes[0];
    assert_eq!(codes(r), [(16, "aspa_invalid")]);
    assert_eq!(r.aspa.as_deref(), Some(why));
    assert!(
        r.suggestion.starts_with(&format!("{why}: ")),
        "{}",
        r.suggestion
    );
    assert_eq!(sums(&report.peers[0].reasons), [(16, 1, 1, 0, 1)]);
    let csv = super::render::render(&report, super::render::Format::Csv);
    assert!(csv.contains(why), "{csv}");
}
