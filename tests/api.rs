//! The HTTP API against a live exchange: real BIRD and OpenBGPD members, a real stayrtr,
//! the real rovgate daemon (`support::lab`). The report, the status, the Prometheus metrics,
//! the looking glass and the history must tell the same story about the one invalid route.
//!
//! Each test runs its own exchange on its own loopback /24: 127.0.73.0 to 127.0.76.0.

use serde_json::{json, Value};

use crate::support;
use crate::support::lab::{self, Lab, MEMBER_AS, OTHER_AS};
use crate::support::prom;

const MEMBER: &str = "member-a";
const EDGE: &str = "edge";

fn get(lab: &Lab, path: &str) -> Value {
    let answer = lab.rovgate.get(path);
    answer.unwrap_or_else(|| panic!("GET {path} did not answer JSON:\n{}", lab.rovgate.log()))
}

/// The HTTP status code of `GET path`.
fn code(lab: &Lab, path: &str) -> u16 {
    match ureq::get(&format!("{}{path}", lab.url())).call() {
        Ok(answer) => answer.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("GET {path}: {e}"),
    }
}

fn vrp_json(prefix: &str, max_length: u8, asn: u32) -> Value {
    json!({"prefix": prefix, "max_length": max_length, "asn": asn})
}

/// Expected: `GET /api/v1/report` lists exactly one invalid route, the member's
/// 10.73.2.0/24 from AS64701, state `invalid`, reason `origin-as`, covered by the ROA for
/// AS65000, not reachable otherwise, not dropped, with the ROA that would fix it; every
/// peer's counts equal its `/api/v1/status` entry, and the totals are their sums.
/// `?peer=edge` reports the edge alone; `?peer=nobody` is a 404.
#[tokio::test]
async fn report_lists_the_invalid_route_and_agrees_with_status() {
    if !support::tools_present(&lab::TOOLS) {
        return;
    }
    let lab = Lab::start(73, MEMBER, EDGE).await;
    let report = get(&lab, "/api/v1/report");
    let status = get(&lab, "/api/v1/status");

    assert_eq!(report["vrps"], 2, "{report}");
    let reported: Vec<&Value> = report["peers"].as_array().unwrap().iter().collect();
    assert_eq!(
        reported.iter().map(|p| &p["name"]).collect::<Vec<_>>(),
        [EDGE, MEMBER],
        "{report}"
    );
    let member = &report["peers"][1];
    let routes = member["invalid_routes"].as_array().unwrap();
    assert_eq!(routes.len(), 1, "{member}");
    let route = &routes[0];
    let expected = [
        ("prefix", json!(lab.invalid())),
        ("origin", json!(MEMBER_AS)),
        ("as_path", json!(MEMBER_AS.to_string())),
        ("state", json!("invalid")),
        ("reason", json!("origin-as")),
        ("vrps", json!([vrp_json(&lab.invalid(), 24, OTHER_AS)])),
        ("reachable", json!(false)),
        ("dropped", json!(false)),
        ("suggested_roa", vrp_json(&lab.invalid(), 24, MEMBER_AS)),
    ];
    for (key, value) in expected {
        assert_eq!(route[key], value, "{key} of {route}");
    }
    assert_eq!(report["peers"][0]["invalid_routes"], json!([]), "{report}");

    let keys = [
        "routes",
        "valid",
        "invalid",
        "not_found",
        "dropped",
        "would_drop",
    ];
    let peers = status["peers"].as_array().unwrap();
    assert_eq!(peers.len(), 2, "{status}");
    for peer in peers {
        let same = reported.iter().find(|p| p["name"] == peer["name"]);
        let same = same.unwrap_or_else(|| panic!("{peer} not in {report}"));
        for key in keys {
            assert_eq!(same[key], peer[key], "{key}: {same} vs status {peer}");
        }
    }
    for key in keys {
        let sum: u64 = peers.iter().map(|p| p[key].as_u64().unwrap()).sum();
        assert_eq!(report["totals"][key], sum, "totals {key}: {report}");
    }
    assert_eq!(
        (&member["would_drop"], &member["unreachable"]),
        (&json!(1), &json!(1)),
        "{member}"
    );

    let edge = get(&lab, "/api/v1/report?peer=edge");
    assert_eq!(edge["peer"], EDGE, "{edge}");
    assert_eq!(edge["peers"].as_array().map(Vec::len), Some(1), "{edge}");
    assert_eq!(edge["totals"]["not_found"], 1, "{edge}");
    assert_eq!(code(&lab, "/api/v1/report?peer=nobody"), 404);
}

/// Expected: a `/metrics` scrape is valid Prometheus text, and its gauges say what the
/// report and the status say: `rovgate_routes{peer,state}` the report's valid, invalid and
/// not-found counts of each peer, `rovgate_would_drop` and `rovgate_routes_dropped` its
/// would-drop and dropped counts, `rovgate_vrps` the status' VRP count.
#[tokio::test]
async fn metrics_parse_and_match_the_report() {
    if !support::tools_present(&lab::TOOLS) {
        return;
    }
    let lab = Lab::start(74, MEMBER, EDGE).await;
    let report = get(&lab, "/api/v1/report");
    let status = get(&lab, "/api/v1/status");
    let url = format!("{}/metrics", lab.url());
    let text = ureq::get(&url).call().expect("GET /metrics").into_string();
    let text = text.expect("the metrics' text");
    let metrics = prom::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));

    for family in ["rovgate_routes", "rovgate_would_drop", "rovgate_vrps"] {
        let kind = metrics.types.get(family).map(String::as_str);
        assert_eq!(kind, Some("gauge"), "TYPE of {family}\n{text}");
    }
    let as_f64 = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("not a count: {v}")) as f64;
    for peer in report["peers"].as_array().unwrap() {
        let name = peer["name"].as_str().unwrap();
        for (state, key) in [
            ("valid", "valid"),
            ("invalid", "invalid"),
            ("not_found", "not_found"),
        ] {
            let labels = [("peer", name), ("state", state)];
            let value = metrics.value("rovgate_routes", &labels);
            assert_eq!(value, as_f64(&peer[key]), "{labels:?}: {peer}\n{text}");
        }
        let peer_label = [("peer", name)];
        let would_drop = metrics.value("rovgate_would_drop", &peer_label);
        assert_eq!(would_drop, as_f64(&peer["would_drop"]), "{peer}\n{text}");
        let dropped = metrics.value("rovgate_routes_dropped", &peer_label);
        assert_eq!(dropped, as_f64(&peer["dropped"]), "{peer}\n{text}");
    }
    let invalid = metrics.value("rovgate_routes", &[("peer", MEMBER), ("state", "invalid")]);
    assert_eq!(invalid, 1.0, "the member's invalid route\n{text}");
    assert_eq!(
        metrics.value("rovgate_would_drop", &[("peer", MEMBER)]),
        1.0
    );
    let vrps = metrics.value("rovgate_vrps", &[]);
    assert_eq!(vrps, as_f64(&status["vrps"]["count"]), "{status}\n{text}");
    assert_eq!(vrps, 2.0, "{text}");
}

/// Expected: the looking glass for the invalid route's prefix (and for an address in it)
/// shows the member's one path, `rov` "invalid" but eligible (`shadow`), with a verdict
/// naming the ROA for AS65000 as the covering VRP with another AS; the valid route's path
/// shows `rov` "valid" and its matching VRP.
#[tokio::test]
async fn looking_glass_shows_why_the_path_is_invalid() {
    if !support::tools_present(&lab::TOOLS) {
        return;
    }
    let lab = Lab::start(75, MEMBER, EDGE).await;
    let invalid = lab.invalid();
    for query in [invalid.clone(), invalid.replace("0/24", "7")] {
        let routes = get(&lab, &format!("/api/v1/routes?prefix={query}"));
        assert_eq!(routes["prefix"], invalid, "{routes}");
        let paths = routes["paths"].as_array().unwrap();
        assert_eq!(paths.len(), 1, "{routes}");
        let path = &paths[0];
        assert_eq!(
            (
                &path["peer"],
                &path["origin"],
                &path["rov"],
                &path["eligible"]
            ),
            (
                &json!(MEMBER),
                &json!(MEMBER_AS),
                &json!("invalid"),
                &json!(true)
            ),
            "{path}"
        );
        let verdict = &path["verdict"];
        assert_eq!(verdict["state"], "invalid", "{verdict}");
        let other = json!([vrp_json(&invalid, 24, OTHER_AS)]);
        assert_eq!(verdict["bad_asn"], other, "{verdict}");
        assert_eq!(verdict["bad_length"], json!([]), "{verdict}");
        assert_eq!(verdict["matched"], json!([]), "{verdict}");
    }
    let valid = get(&lab, &format!("/api/v1/routes?prefix={}", lab.valid()));
    let path = &valid["paths"][0];
    assert_eq!(path["rov"], "valid", "{valid}");
    let matched = json!([vrp_json(&lab.valid(), 24, MEMBER_AS)]);
    assert_eq!(path["verdict"]["matched"], matched, "{valid}");
    assert_eq!(code(&lab, "/api/v1/routes?prefix=not-a-prefix"), 400);
}

/// Expected: when the cache's ROA for the invalid route changes to the member's AS, the
/// member's counts go to 2 valid, 0 invalid, and `GET /api/v1/history` shows the change:
/// the member by name, the prefix and origin, before "invalid", after "valid", with the new
/// ROA as the covering VRP; the edge's history does not show it.
#[tokio::test]
async fn history_records_the_route_turning_valid() {
    if !support::tools_present(&lab::TOOLS) {
        return;
    }
    let mut lab = Lab::start(76, MEMBER, EDGE).await;
    let invalid = lab.invalid();
    let of_prefix = |history: &Value| -> Vec<Value> {
        let changes = history["changes"].as_array().cloned().unwrap_or_default();
        changes
            .into_iter()
            .filter(|c| c["prefix"] == invalid)
            .collect()
    };
    assert_eq!(
        of_prefix(&get(&lab, "/api/v1/history")),
        Vec::<Value>::new()
    );

    lab.fix_vrps();
    let mut found = Vec::new();
    let what = "the change in the history and the member's counts";
    support::wait_for(what, 30, || {
        found = of_prefix(&lab.rovgate.get("/api/v1/history").unwrap_or_default());
        !found.is_empty() && lab.peer(MEMBER)["invalid"] == 0
    })
    .await;
    assert_eq!(found.len(), 1, "{found:?}");
    let change = &found[0];
    let expected = [
        ("peer_name", json!(MEMBER)),
        ("origin", json!(MEMBER_AS)),
        ("before", json!("invalid")),
        ("after", json!("valid")),
        ("vrps", json!([vrp_json(&invalid, 24, MEMBER_AS)])),
    ];
    for (key, value) in expected {
        assert_eq!(change[key], value, "{key} of {change}");
    }
    let member = lab.peer(MEMBER);
    assert_eq!(
        (&member["valid"], &member["invalid"], &member["would_drop"]),
        (&json!(2), &json!(0), &json!(0)),
        "{member}"
    );
    let by_member = get(&lab, &format!("/api/v1/history?peer={MEMBER}"));
    assert_eq!(of_prefix(&by_member).len(), 1, "{by_member}");
    let by_edge = get(&lab, &format!("/api/v1/history?peer={EDGE}"));
    assert_eq!(of_prefix(&by_edge), Vec::<Value>::new(), "{by_edge}");
}
