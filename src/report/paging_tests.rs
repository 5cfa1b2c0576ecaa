//! Pages of a report: they concatenate to the whole report whatever the page size, a
//! peer's pages are that peer's report, and pages of other peers do not fit.

use super::tests::sample;
use super::*;

/// Every page of `report` (of `peer`, or of all) at `limit` routes a page, put together.
fn by_pages(report: &Report, peer: Option<&str>, limit: usize) -> Report {
    let (mut whole, total) = report.page(peer, 0, limit);
    let mut offset = limit;
    while offset < total {
        let (page, again) = report.page(peer, offset, limit);
        assert_eq!(again, total, "the total is the same on every page");
        assert!(whole.append(page), "page at {offset} fits");
        offset += limit;
    }
    whole
}

#[test]
fn pages_concatenate_to_the_whole_report() {
    let report = sample();
    let routes = |r: &Report| {
        r.peers
            .iter()
            .map(|p| p.invalid_routes.len())
            .sum::<usize>()
    };
    assert_eq!(routes(&report), 5);
    for limit in 1..=6 {
        assert_eq!(by_pages(&report, None, limit), report, "limit {limit}");
    }
    // The first page of two: alpha's two routes; zeta is listed with its counts only.
    let (first, total) = report.page(None, 0, 2);
    assert_eq!(total, 5);
    assert_eq!(
        (first.totals.clone(), first.vrps),
        (report.totals.clone(), report.vrps)
    );
    let lengths: Vec<(&str, usize)> = (first.peers.iter())
        .map(|p| (p.name.as_str(), p.invalid_routes.len()))
        .collect();
    assert_eq!(lengths, [("alpha", 2), ("zeta", 0)]);
    assert_eq!(first.peers[1].counts, report.peers[1].counts);
    // Past the end: every peer, no routes.
    let (past, total) = report.page(None, 9, 2);
    assert_eq!((routes(&past), past.peers.len(), total), (0, 2, 5));
    // No room: the counts alone.
    assert_eq!(routes(&report.page(None, 0, 0).0), 0);
}

#[test]
fn a_peers_pages_are_its_own_report() {
    let report = sample();
    let vrps = tests::table(&["192.0.2.0/24-24 AS64496", "198.51.100.0/24-24 AS64511"]);
    let peers = [
        tests::peer("zeta", 5, 3, 2, 1),
        tests::peer("alpha", 1, 2, 0, 0),
    ];
    let routes = [
        tests::invalid(0, "198.51.100.0/24", 64496, false, false),
        tests::invalid(0, "192.0.2.0/25", 64496, true, false),
        tests::invalid(0, "192.0.2.0/24", 64499, false, true),
    ];
    let zeta = build(&peers, &routes, &vrps, Some("zeta"));
    for limit in 1..=4 {
        assert_eq!(
            by_pages(&report, Some("zeta"), limit),
            zeta,
            "limit {limit}"
        );
    }
    let (second, total) = report.page(Some("zeta"), 1, 1);
    assert_eq!(total, 3);
    assert_eq!(
        second.peers[0].invalid_routes,
        zeta.peers[0].invalid_routes[1..2]
    );
}

#[test]
fn pages_of_other_peers_do_not_fit() {
    let report = sample();
    let (mut alpha, _) = report.page(Some("alpha"), 0, 1);
    let before = alpha.clone();
    let (zeta, _) = report.page(Some("zeta"), 0, 1);
    assert!(!alpha.append(zeta));
    assert_eq!(alpha, before, "nothing added");
    let (all, _) = report.page(None, 1, 1);
    assert!(!alpha.append(all));
}
