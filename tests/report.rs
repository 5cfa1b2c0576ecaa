//! The what-if report as an operator uses it: `rovgate report` on real MRT tables and the
//! real 424,223-VRP set.
//!
//! Expected:
//! - on the full table, the report's counts, its invalid routes, their reachability and (for
//!   a sample) their covering VRPs, reasons and suggested ROAs agree with a straightforward
//!   recount: every route of the file through `VrpTable::state`, reachability by looking up
//!   each supernet in a hash set, covering VRPs by a scan of the whole VRP list; its IPv4
//!   invalid routes are the 68,348 BIRD drops;
//! - JSON output parses back into a `Report`, CSV rows have the header's 10 fields and one
//!   row per invalid route, and running twice gives the same bytes in every format;
//! - `--peer` reports that peer alone, exactly as the full report has it; an unknown peer is
//!   an error; `--url` renders what the server sends, asking for `?peer=` in the largest
//!   pages.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use ipnet::IpNet;
use rovgate::feed::Truncated;
use rovgate::report::{self, Reason, Report};
use rovgate::route::{Asn, RovState};
use rovgate::rpki::{self, Vrp, VrpTable};

const BIN: &str = env!("CARGO_BIN_EXE_rovgate");
/// One peer, 998,042 IPv4 + 160,147 IPv6 routes.
const FULL_TABLE: &str = "tables/fulltable-2024.mrt.gz";
/// A multi-peer RouteViews RIB, cut after 1 MiB.
const SMALL_RIB: &str = "mrt/rib.20140523.0600_firstMB.bz2";
const VRPS: &str = "vrps/rpki-client-2023-05-04-ripe-prepdev.json.gz";

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(path)
}

fn rovgate(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run rovgate")
}

/// `rovgate report --allow-truncated --mrt SMALL_RIB --vrps VRPS` with more arguments; its
/// stdout.
fn offline(more: &[&str]) -> String {
    let (mrt, vrps) = (data(SMALL_RIB), data(VRPS));
    let mut args = vec!["report", "--allow-truncated", "--mrt", path(&mrt)];
    args.extend(["--vrps", path(&vrps)]);
    args.extend(more);
    let out = rovgate(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    String::from_utf8(out.stdout).expect("utf-8")
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Whether `prefix` or a less-specific prefix covering it is in `usable`.
fn covered(usable: &HashSet<IpNet>, prefix: &IpNet) -> bool {
    (0..=prefix.prefix_len()).any(|len| {
        let supernet = IpNet::new(prefix.addr(), len).expect("length").trunc();
        usable.contains(&supernet)
    })
}

#[test]
fn full_table_report_agrees_with_a_linear_recount() {
    let report =
        report::from_mrt(&data(FULL_TABLE), &data(VRPS), None, Truncated::Refuse).expect("report");
    let vrps = rpki::file::load(&data(VRPS)).expect("vrps");
    let table: VrpTable = vrps.iter().copied().collect();
    let (mut valid, mut not_found) = (0u64, 0u64);
    let (mut invalid, mut usable) = (Vec::new(), HashSet::new());
    for route in rovgate::mrt::routes(&data(FULL_TABLE)).expect("mrt") {
        match table.state(&route.prefix, route.origin) {
            RovState::Valid => valid += 1,
            RovState::NotFound => not_found += 1,
            RovState::Invalid => {
                invalid.push((route.prefix, route.origin));
                continue;
            }
        }
        usable.insert(route.prefix);
    }
    invalid.sort();
    assert_eq!(report.peers.len(), 1);
    let peer = &report.peers[0];
    assert_eq!(peer.name, "AS64496 192.0.2.1");
    let c = &peer.counts;
    assert_eq!(
        (c.routes, c.valid, c.not_found),
        (1_158_189, valid, not_found)
    );
    assert_eq!(
        (c.invalid, c.would_drop, c.dropped),
        (invalid.len() as u64, c.invalid, 0)
    );
    assert_eq!(report.totals.counts, peer.counts);
    let listed: Vec<(IpNet, Option<Asn>)> = (peer.invalid_routes.iter())
        .map(|r| (r.prefix, r.origin))
        .collect();
    assert!(listed == invalid, "the invalid routes differ");
    let v4 = listed.iter().filter(|(p, _)| matches!(p, IpNet::V4(_)));
    assert_eq!(v4.count(), 68_348, "BIRD drops 68,348 IPv4 routes");

    let mut lost = Vec::new();
    for r in &peer.invalid_routes {
        assert_eq!(r.reachable, covered(&usable, &r.prefix), "{}", r.prefix);
        assert_eq!((r.state, r.dropped), (RovState::Invalid, false));
        if !r.reachable {
            lost.push(r.prefix);
        }
    }
    lost.dedup();
    assert_eq!(c.unreachable, lost.len() as u64);
    assert!(c.unreachable > 1000 && c.unreachable < c.invalid);

    let mut reasons = [0, 0];
    for r in peer.invalid_routes.iter().step_by(97) {
        let mut covering: Vec<Vrp> = (vrps.iter())
            .filter(|v| v.prefix.contains(&r.prefix))
            .copied()
            .collect();
        covering.sort();
        covering.dedup();
        assert_eq!(r.vrps, covering, "{}", r.prefix);
        let own = |v: &&Vrp| Some(v.asn) == r.origin && v.asn.0 != 0;
        let reason = match covering.iter().filter(own).count() {
            0 => Reason::OriginAs,
            _ => Reason::MaxLength,
        };
        assert_eq!(r.reason, reason, "{}", r.prefix);
        reasons[usize::from(reason == Reason::MaxLength)] += 1;
        let origin = r.origin.expect("the full table has no AS_SET origins");
        let len = r.prefix.prefix_len();
        let roa = Vrp::new(r.prefix, len, origin).expect("roa");
        assert_eq!(r.suggested_roa, Some(roa), "{}", r.prefix);
        let roa = format!("add a ROA {} maxLength {len} {origin}", r.prefix);
        assert!(r.suggestion.contains(&roa), "{}", r.suggestion);
    }
    assert!(reasons[0] > 100 && reasons[1] > 100, "{reasons:?}");
}

/// Splits RFC 4180 text into records of fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => {
                assert!(!"\"\r\n".contains(c), "unquoted {c:?} in a field");
                field.push(c);
            }
        }
    }
    assert!(
        !quoted && field.is_empty() && record.is_empty(),
        "CSV ends mid-record"
    );
    records
}

#[test]
fn json_and_csv_are_valid_and_stable() {
    let json = small_rib_json();
    assert_eq!(offline(&["--format", "json"]), json, "JSON is stable");
    let report: Report = serde_json::from_str(json).expect("the JSON is a report");
    let routes: Vec<_> = (report.peers.iter())
        .flat_map(|p| p.invalid_routes.iter().map(move |r| (p, r)))
        .collect();
    assert!(
        report.peers.len() > 5 && routes.len() > 20,
        "{}",
        routes.len()
    );

    let csv = offline(&["--format", "csv"]);
    assert_eq!(offline(&["--format", "csv"]), csv, "CSV is stable");
    let records = parse_csv(&csv);
    assert_eq!(records[0].join(","), report::CSV_HEADER.join(","));
    assert_eq!(records.len(), 1 + routes.len());
    for (record, (peer, route)) in records[1..].iter().zip(&routes) {
        assert_eq!(record.len(), 11, "{record:?}");
        assert_eq!(record[0], peer.name);
        assert_eq!(record[1], route.prefix.to_string());
        assert_eq!(record[5], route.reason.to_string());
        assert_eq!(record[9], route.suggestion, "quoting keeps the commas");
        assert_eq!(
            record[10], "1101:13 rpki_invalid",
            "no checks offline: RPKI only"
        );
    }

    let table = offline(&["--format", "table"]);
    assert_eq!(offline(&[]), table, "the table is the default, and stable");
    for peer in &report.peers {
        assert!(table.contains(&format!("{}: {} routes", peer.name, peer.counts.routes)));
        assert!(table.contains(&peer.summary));
    }
}

/// The JSON report of the small RIB, made once for every test that wants it.
fn small_rib_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| offline(&["--format", "json"]))
}

/// The name of a peer with invalid routes, from a full report, and that report.
fn some_peer() -> (String, Report) {
    let report: Report = serde_json::from_str(small_rib_json()).expect("json");
    let peer = (report.peers.iter())
        .filter(|p| !p.invalid_routes.is_empty())
        .nth(1)
        .expect("peers with invalid routes");
    (peer.name.clone(), report)
}

#[test]
fn peer_option_reports_that_peer_alone() {
    let (name, all) = some_peer();
    let json = offline(&["--peer", &name, "--format", "json"]);
    let one: Report = serde_json::from_str(&json).expect("json");
    assert_eq!(one.peer.as_deref(), Some(name.as_str()));
    let expected = all.peers.iter().find(|p| p.name == name).expect("peer");
    assert_eq!(one.peers, std::slice::from_ref(expected));
    assert_eq!(one.totals.counts.invalid, expected.counts.invalid);
    let csv = offline(&["--peer", &name, "--format", "csv"]);
    let records = parse_csv(&csv);
    assert!(records[1..].iter().all(|r| r[0] == name));
    assert_eq!(records.len(), 1 + expected.invalid_routes.len());

    let (mrt, vrps) = (data(SMALL_RIB), data(VRPS));
    let args = [
        "report",
        "--allow-truncated",
        "--mrt",
        path(&mrt),
        "--vrps",
        path(&vrps),
    ];
    let out = rovgate(&[&args[..], &["--peer", "AS1 192.0.2.99"]].concat());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no peer named \"AS1 192.0.2.99\""),
        "{stderr}"
    );
}

#[test]
fn url_renders_what_the_server_sends() {
    let (name, all) = some_peer();
    let peer = all.peers.iter().find(|p| p.name == name).expect("peer");
    let totals = report::Totals {
        counts: peer.counts,
        summary: peer.summary.clone(),
        reasons: peer.reasons.clone(),
    };
    let one = Report {
        peer: Some(name.clone()),
        totals,
        peers: vec![peer.clone()],
        ..all.clone()
    };
    let page = report::ReportPage {
        total: peer.invalid_routes.len() as u64,
        offset: 0,
        limit: report::MAX_PAGE as u64,
        id: 1,
        built: 0,
        report: one,
    };
    let body = serde_json::to_string(&page).expect("json");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut request_line = String::new();
        let mut reader = BufReader::new(&stream);
        reader.read_line(&mut request_line).expect("request");
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            line.clear();
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            body.len()
        );
        let mut stream = &stream;
        stream.write_all(head.as_bytes()).expect("write");
        stream.write_all(body.as_bytes()).expect("write");
        request_line
    });
    let url = format!("http://127.0.0.1:{port}");
    let out = rovgate(&["report", "--url", &url, "--peer", &name, "--format", "csv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let request = server.join().expect("server");
    let target = request.split(' ').nth(1).expect("request target");
    let query = target.strip_prefix("/api/v1/report?").expect(&request);
    let query: Vec<(&str, String)> = (query.split('&'))
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k, v.replace('+', " ").replace("%20", " ")))
        .collect();
    let want = [("peer", name.clone()), ("offset", "0".into())];
    assert_eq!(query[..2], want, "{request}");
    assert_eq!(
        query[2],
        ("limit", report::MAX_PAGE.to_string()),
        "{request}"
    );
    let offline_csv = offline(&["--peer", &name, "--format", "csv"]);
    assert_eq!(String::from_utf8(out.stdout).expect("utf-8"), offline_csv);

    let conflict = rovgate(&[
        "report", "--url", &url, "--mrt", "x.mrt", "--vrps", "x.json",
    ]);
    assert_eq!(
        conflict.status.code(),
        Some(2),
        "--url conflicts with --mrt"
    );
}
