//! Reasons and suggestions (RFC 6811 cases first), report building, reachability from MRT
//! feeds, and rendering.

use std::sync::Arc;

use bytes::Bytes;
use ipnet::IpNet;

use super::explain::{explain, Explanation};
use super::render::csv_quote;
use super::*;
use crate::feed::FeedPeer;
use crate::route::{AsPath, AttrSet, NextHop, Segment};

fn net(s: &str) -> IpNet {
    s.parse().expect("prefix")
}

fn vrp(s: &str) -> Vrp {
    let (prefix, rest) = s.split_once('-').expect("prefix-max asn");
    let (max, asn) = rest.split_once(' ').expect("max asn");
    let asn = asn.parse().expect("asn");
    Vrp::new(net(prefix), max.parse().expect("max length"), asn).expect("vrp")
}

pub(super) fn table(vrps: &[&str]) -> VrpTable {
    vrps.iter().map(|v| vrp(v)).collect()
}

/// (VRPs, route, origin (0 for none: an AS_SET), reason, suggestion, ROA to add, ROA to raise).
type Case = (
    &'static [&'static str],
    &'static str,
    Option<u32>,
    Reason,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

#[test]
fn reasons_and_suggestions() {
    let cases: &[Case] = &[
        // RFC 6811: covered, right AS, longer than maxLength.
        (
            &["192.0.2.0/24-24 AS64496"],
            "192.0.2.0/25",
            Some(64496),
            Reason::MaxLength,
            "raise maxLength of the ROA 192.0.2.0/24 AS64496 to 25, or add a ROA \
             192.0.2.0/25 maxLength 25 AS64496",
            Some("192.0.2.0/25-25 AS64496"),
            Some("192.0.2.0/24-24 AS64496"),
        ),
        // Covered, another AS.
        (
            &["192.0.2.0/24-24 AS64497"],
            "192.0.2.0/24",
            Some(64496),
            Reason::OriginAs,
            "if AS64496 may originate 192.0.2.0/24, add a ROA 192.0.2.0/24 maxLength 24 \
             AS64496; otherwise this announcement is a hijack or a leak",
            Some("192.0.2.0/24-24 AS64496"),
            None,
        ),
        // A path ending in an AS_SET has no origin.
        (
            &["192.0.2.0/24-24 AS64496"],
            "192.0.2.0/24",
            None,
            Reason::OriginAs,
            "announce without AS_SET (RFC 6472)",
            None,
            None,
        ),
        // AS0 never matches, not even an AS0 VRP.
        (
            &["192.0.2.0/24-32 AS0"],
            "192.0.2.0/24",
            Some(0),
            Reason::OriginAs,
            "announce with the real origin AS: AS0 is never a valid origin (RFC 7607)",
            None,
            None,
        ),
        // An AS0 VRP makes any origin invalid: origin-as.
        (
            &["192.0.2.0/24-32 AS0"],
            "192.0.2.128/25",
            Some(64496),
            Reason::OriginAs,
            "if AS64496 may originate 192.0.2.128/25, add a ROA 192.0.2.128/25 maxLength 25 \
             AS64496; otherwise this announcement is a hijack or a leak",
            Some("192.0.2.128/25-25 AS64496"),
            None,
        ),
        // Wrong AS on one VRP, too short on another: the origin's own ROA is the fix.
        (
            &["192.0.2.0/24-24 AS64497", "192.0.2.0/23-23 AS64496"],
            "192.0.2.0/24",
            Some(64496),
            Reason::MaxLength,
            "raise maxLength of the ROA 192.0.2.0/23 AS64496 to 24, or add a ROA \
             192.0.2.0/24 maxLength 24 AS64496",
            Some("192.0.2.0/24-24 AS64496"),
            Some("192.0.2.0/23-23 AS64496"),
        ),
        // Two ROAs of the origin too short: raise the more specific one.
        (
            &["192.0.2.0/23-23 AS64496", "192.0.2.0/24-24 AS64496"],
            "192.0.2.0/26",
            Some(64496),
            Reason::MaxLength,
            "raise maxLength of the ROA 192.0.2.0/24 AS64496 to 26, or add a ROA \
             192.0.2.0/26 maxLength 26 AS64496",
            Some("192.0.2.0/26-26 AS64496"),
            Some("192.0.2.0/24-24 AS64496"),
        ),
        // IPv6.
        (
            &["2001:db8::/32-48 AS64496"],
            "2001:db8:1::/64",
            Some(64496),
            Reason::MaxLength,
            "raise maxLength of the ROA 2001:db8::/32 AS64496 to 64, or add a ROA \
             2001:db8:1::/64 maxLength 64 AS64496",
            Some("2001:db8:1::/64-64 AS64496"),
            Some("2001:db8::/32-48 AS64496"),
        ),
        // Valid by now (the RIB had not re-evaluated it): nothing to fix.
        (
            &["192.0.2.0/24-24 AS64496"],
            "192.0.2.0/24",
            Some(64496),
            Reason::NotInvalid,
            "nothing to fix: the route is valid now",
            None,
            None,
        ),
    ];
    for &(vrps, prefix, origin, reason, text, add, raise) in cases {
        let (prefix, origin) = (net(prefix), origin.map(Asn));
        let verdict = table(vrps).validate(&prefix, origin);
        let want = Explanation {
            reason,
            suggestion: text.to_string(),
            suggested_roa: add.map(vrp),
            raise_roa: raise.map(vrp),
        };
        assert_eq!(
            explain(&prefix, origin, &verdict),
            want,
            "{prefix} {origin:?}"
        );
    }
}

pub(super) fn peer(
    name: &str,
    valid: u64,
    invalid: u64,
    not_found: u64,
    dropped: u64,
) -> PeerInput {
    PeerInput {
        name: name.to_string(),
        valid,
        invalid,
        not_found,
        dropped,
    }
}

pub(super) fn invalid(
    peer: usize,
    prefix: &str,
    origin: u32,
    dropped: bool,
    reachable: bool,
) -> InvalidInput {
    InvalidInput {
        peer,
        prefix: net(prefix),
        origin: Some(Asn(origin)),
        as_path: format!("64500 {origin}"),
        rpki_invalid: true,
        failed: Default::default(),
        dropped,
        aspa: None,
        reachable,
    }
}

pub(super) fn sample() -> Report {
    let vrps = table(&["192.0.2.0/24-24 AS64496", "198.51.100.0/24-24 AS64511"]);
    let peers = [peer("zeta", 5, 3, 2, 1), peer("alpha", 1, 2, 0, 0)];
    let routes = [
        invalid(0, "198.51.100.0/24", 64496, false, false),
        invalid(0, "192.0.2.0/25", 64496, true, false),
        invalid(0, "192.0.2.0/24", 64499, false, true),
        invalid(1, "198.51.100.0/24", 64497, false, false),
        invalid(1, "198.51.100.0/24", 64496, false, false),
        invalid(7, "192.0.2.0/24", 64499, false, false),
    ];
    build(&peers, &routes, &vrps, None)
}

#[test]
fn build_counts_sorts_and_sums() {
    let report = sample();
    let names: Vec<&str> = report.peers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["alpha", "zeta"]);
    let zeta = &report.peers[1];
    let want = Counts {
        routes: 10,
        valid: 5,
        invalid: 3,
        not_found: 2,
        would_drop: 2,
        dropped: 1,
        // 192.0.2.0/25 is dropped already; 192.0.2.0/24 stays reachable.
        unreachable: 1,
    };
    assert_eq!(zeta.counts, want);
    assert_eq!(
        zeta.summary,
        "2 routes would be dropped, 1 destinations would become unreachable"
    );
    let order: Vec<String> = (zeta.invalid_routes.iter())
        .map(|r| format!("{} {}", r.prefix, r.reason))
        .collect();
    assert_eq!(
        order,
        [
            "192.0.2.0/24 origin-as",
            "192.0.2.0/25 max-length",
            "198.51.100.0/24 origin-as"
        ]
    );
    // alpha: one destination from two routes (sorted by origin).
    let alpha = &report.peers[0];
    let origins: Vec<_> = alpha.invalid_routes.iter().map(|r| r.origin).collect();
    assert_eq!(origins, [Some(Asn(64496)), Some(Asn(64497))]);
    assert_eq!(alpha.counts.unreachable, 1);
    // Totals: 198.51.100.0/24 is one destination for both peers.
    assert_eq!(
        (report.totals.counts.routes, report.totals.counts.would_drop),
        (13, 4)
    );
    assert_eq!(report.totals.counts.unreachable, 1);
    assert_eq!(report.vrps, 2);
}

#[test]
fn build_reports_only_the_peer_asked_for() {
    let vrps = table(&["192.0.2.0/24-24 AS64496"]);
    let peers = [peer("a", 0, 1, 0, 0), peer("b", 0, 1, 0, 0)];
    let routes = [
        invalid(0, "192.0.2.0/24", 1, false, false),
        invalid(1, "192.0.2.0/24", 2, false, false),
    ];
    let report = build(&peers, &routes, &vrps, Some("b"));
    assert_eq!(report.peer.as_deref(), Some("b"));
    assert_eq!(report.peers.len(), 1);
    assert_eq!(report.peers[0].invalid_routes[0].origin, Some(Asn(2)));
    assert_eq!(report.totals.counts.invalid, 1);
    assert!(build(&peers, &routes, &vrps, Some("c")).peers.is_empty());
}

#[test]
fn renders_round_trip_and_quote() {
    let report = sample();
    let json = render(&report, Format::Json);
    let back: Report = serde_json::from_str(&json).expect("json");
    assert_eq!(back, report);
    let csv = render(&report, Format::Csv);
    assert!(csv.starts_with(
        "peer,prefix,origin,as_path,state,reason,vrps,reachable,dropped,suggestion,reasons\r\n"
    ));
    assert!(csv.contains(
        "zeta,192.0.2.0/25,64496,64500 64496,invalid,max-length,192.0.2.0/24-24 AS64496,\
         false,true,\"raise maxLength of the ROA 192.0.2.0/24 AS64496 to 25, or add a ROA \
         192.0.2.0/25 maxLength 25 AS64496\",1101:13 rpki_invalid\r\n"
    ));
    assert_eq!(csv.matches("\r\n").count(), 1 + 5);
    let text = render(&report, Format::Table);
    assert!(text.contains("total: 4 routes would be dropped, 1 destinations would"));
    assert!(text.contains("zeta: 10 routes: 5 valid, 3 invalid (1 dropped now), 2 not-found"));
    assert_eq!(render(&sample(), Format::Table), text);
}

#[test]
fn csv_quoting_follows_rfc4180() {
    let cases = [
        ("plain", "plain"),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("two\nlines", "\"two\nlines\""),
        ("", ""),
    ];
    for (field, want) in cases {
        assert_eq!(csv_quote(field), want, "{field:?}");
    }
}

fn feed(asn: u32, routes: &[(&str, u32)]) -> FeedPeer {
    let batches = routes.iter().map(|&(prefix, origin)| {
        let path = AsPath(vec![Segment::Sequence(vec![asn, origin])]);
        let next_hop = NextHop::V4("192.0.2.1".parse().expect("address"));
        let set = AttrSet::new(0, path, next_hop, None, Bytes::new());
        (Arc::new(set), vec![net(prefix)])
    });
    FeedPeer {
        asn,
        address: format!("192.0.2.{}", asn - 64500).parse().expect("address"),
        batches: batches.collect(),
    }
}

#[test]
fn mrt_inputs_know_what_stays_reachable() {
    let vrps = table(&["10.0.0.0/8-24 AS1"]);
    let feeds = [
        feed(
            64501,
            &[
                ("10.0.0.0/24", 2), // invalid; peer 2 has it valid
                ("10.1.0.0/24", 2), // invalid; 10.1.0.0/16 below is valid
                ("10.1.0.0/16", 1),
                ("10.2.0.0/16", 2), // invalid; only a more specific is valid
                ("10.3.0.0/24", 2), // invalid at both peers
                ("192.0.2.0/24", 2),
            ],
        ),
        feed(
            64502,
            &[("10.0.0.0/24", 1), ("10.2.0.0/24", 1), ("10.3.0.0/24", 3)],
        ),
    ];
    let (peers, routes) = inputs(&feeds, &vrps);
    assert_eq!(peers[0], peer("AS64501 192.0.2.1", 1, 4, 1, 0));
    assert_eq!(peers[1], peer("AS64502 192.0.2.2", 2, 1, 0, 0));
    let reach: Vec<(usize, String, bool)> = (routes.iter())
        .map(|r| (r.peer, r.prefix.to_string(), r.reachable))
        .collect();
    let want = [
        (0, "10.0.0.0/24", true),
        (0, "10.1.0.0/24", true),
        (0, "10.2.0.0/16", false),
        (0, "10.3.0.0/24", false),
        (1, "10.3.0.0/24", false),
    ];
    let want: Vec<_> = (want.iter())
        .map(|&(p, s, r)| (p, s.to_string(), r))
        .collect();
    assert_eq!(reach, want);
    assert_eq!(routes[0].as_path, "64501 2");
    let report = build(&peers, &routes, &vrps, None);
    assert_eq!(report.totals.counts.unreachable, 2);
    assert_eq!(report.peers[0].counts.unreachable, 2);
}
