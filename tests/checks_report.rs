//! The what-if of the IXP import checks, end to end: an ExaBGP member whose checks are in
//! `shadow` announces a bogon, a /25, a route with another router's next hop and a path
//! through a transit-free network; the report, `rovgate report --url`, the looking glass
//! and the metrics name each route's reason while the receiving member still gets them;
//! switched to `drop` by a config reload, the receiver loses them.

use std::collections::BTreeSet;
use std::process::Command;

use ipnet::IpNet;
use serde_json::Value;

use crate::support::daemon::Rovgate;
use crate::support::exabgp::Exabgp;
use crate::support::{self, prom, wait_for};

/// The member's routes that fail one check each, with the check's code and name.
const FAILING: [(&str, u32, &str); 4] = [
    ("10.0.0.0/8", 3, "bogon_prefix"),
    ("193.0.0.0/25", 1, "prefix_too_long"),
    ("193.0.2.0/24", 8, "next_hop"),
    ("193.0.3.0/24", 14, "transit_free"),
];
/// The member's route that passes every check.
const CLEAN: &str = "193.0.4.0/24";

fn peer(name: &str, n: u8, asn: u32, extra: &str) -> String {
    format!(
        "[[peer]]\nname = \"{name}\"\naddress = \"127.0.0.{n}\"\nasn = {asn}\n\
         role = \"rs-client\"\nport = {}\npassive = true\n{extra}\n",
        support::free_port()
    )
}

fn neighbor(n: u8, asn: u32, rovgate_port: u16, routes: &str) -> String {
    format!(
        "  router-id 127.0.0.{n};\n  local-address 127.0.0.{n};\n  local-as {asn};\n  \
         peer-as 64500;\n  connect {rovgate_port};\n  hold-time 30;\n{routes}"
    )
}

/// The prefixes announced and not withdrawn since, from ExaBGP's JSON lines.
fn table(received: &str) -> BTreeSet<IpNet> {
    let mut table = BTreeSet::new();
    for line in received.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let update = &v["neighbor"]["message"]["update"];
        for p in prefixes(&update["withdraw"]) {
            table.remove(&p);
        }
        table.extend(prefixes(&update["announce"]));
    }
    table
}

/// Every prefix among the string values under `v`.
fn prefixes(v: &Value) -> Vec<IpNet> {
    match v {
        Value::String(s) => s.parse().into_iter().collect(),
        Value::Array(a) => a.iter().flat_map(prefixes).collect(),
        Value::Object(o) => o.values().flat_map(prefixes).collect(),
        _ => Vec::new(),
    }
}

fn has(receiver: &Exabgp, prefix: &str) -> bool {
    table(&receiver.received()).contains(&prefix.parse().expect("prefix"))
}

/// The member's listed routes in the report as (prefix, codes, names, dropped).
fn listed(rovgate: &Rovgate) -> Vec<(String, Vec<u64>, Vec<String>, bool)> {
    let report = rovgate
        .get("/api/v1/report?peer=member")
        .expect("the report");
    let routes = report["peers"][0]["invalid_routes"]
        .as_array()
        .expect("routes");
    (routes.iter())
        .map(|r| {
            let reasons = r["reasons"].as_array().expect("reasons");
            let codes = reasons.iter().filter_map(|c| c["code"].as_u64()).collect();
            let names = (reasons.iter())
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect();
            let prefix = r["prefix"].as_str().expect("prefix").to_string();
            (prefix, codes, names, r["dropped"] == true)
        })
        .collect()
}

/// What the report should list: every failing route with its one reason.
fn expected(dropped: bool) -> Vec<(String, Vec<u64>, Vec<String>, bool)> {
    (FAILING.iter())
        .map(|&(p, code, name)| (p.into(), vec![u64::from(code)], vec![name.into()], dropped))
        .collect()
}

/// Expected: with the member's checks in `shadow`, the receiver gets all five routes; the
/// report lists the four failing ones, each with its one reason (1101:3 bogon_prefix,
/// 1101:1 prefix_too_long, 1101:8 next_hop, 1101:14 transit_free), not dropped, with a
/// what-if of one route per reason; `rovgate report --url` prints the same reasons in its
/// CSV; the looking glass and `rovgate_peer_paths_failed` agree. After a reload with
/// `checks = "drop"`, the receiver has lost the four and kept the clean route, and the
/// report lists them as dropped.
#[tokio::test]
async fn shadow_reports_every_reason_and_drop_filters_them() {
    if !support::tools_present(&["exabgp"]) {
        return;
    }
    let member = peer("member", 81, 64496, "checks = \"shadow\"\n");
    let rovgate = Rovgate::start(
        "checks-report",
        &(member + &peer("receiver", 82, 64497, "")),
    );
    let route = |p: &str, hop: u8, path: &str| {
        format!("    route {p} next-hop 127.0.0.{hop} as-path [ {path} ];\n")
    };
    let routes = [
        route(FAILING[0].0, 81, "64496 3333"),
        route(FAILING[1].0, 81, "64496 3333"),
        route(FAILING[2].0, 99, "64496 3333"),
        route(FAILING[3].0, 81, "64496 174 3333"),
        route(CLEAN, 81, "64496 3333"),
    ];
    let statics = format!("  static {{\n{}  }}\n", routes.concat());
    let _member = Exabgp::start(
        "checks-member",
        &neighbor(81, 64496, rovgate.bgp_port, &statics),
    );
    let receiver = Exabgp::start(
        "checks-receiver",
        &neighbor(82, 64497, rovgate.bgp_port, ""),
    );
    wait_for("the receiver has every route (shadow)", 90, || {
        FAILING.iter().all(|(p, ..)| has(&receiver, p)) && has(&receiver, CLEAN)
    })
    .await;
    wait_for("the report lists the four", 30, || {
        listed(&rovgate).len() == 4
    })
    .await;
    assert_eq!(listed(&rovgate), expected(false));

    let report = rovgate
        .get("/api/v1/report?peer=member")
        .expect("the report");
    let reasons = report["peers"][0]["reasons"].as_array().expect("reasons");
    let sums: Vec<_> = (reasons.iter())
        .map(|r| {
            (
                r["code"].clone(),
                r["would_drop"].clone(),
                r["dropped"].clone(),
            )
        })
        .collect();
    let want: Vec<_> = [1, 3, 8, 14]
        .map(|c| (Value::from(c), Value::from(1), Value::from(0)))
        .into();
    assert_eq!(sums, want, "{report}");
    assert!(reasons
        .iter()
        .all(|r| r["advice"].as_str().is_some_and(|a| !a.is_empty())));

    let out = Command::new(env!("CARGO_BIN_EXE_rovgate"))
        .args([
            "report",
            "--url",
            &rovgate.url(),
            "--peer",
            "member",
            "--format",
            "csv",
        ])
        .output()
        .expect("rovgate report");
    let csv = String::from_utf8(out.stdout).expect("utf-8");
    assert!(out.status.success(), "{csv}");
    for (prefix, code, name) in FAILING {
        let row = csv
            .lines()
            .find(|l| l.starts_with(&format!("member,{prefix},")));
        let row = row.unwrap_or_else(|| panic!("no row of {prefix}:\n{csv}"));
        assert!(row.ends_with(&format!(",1101:{code} {name}")), "{row}");
    }

    let glass = rovgate
        .get("/api/v1/routes?prefix=10.0.0.0/8")
        .expect("the looking glass");
    let failed = &glass["paths"][0]["failed_checks"];
    assert_eq!(
        failed,
        &serde_json::json!([{"code": 3, "name": "bogon_prefix"}])
    );
    let text = rovgate.metrics();
    let metrics = prom::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let labels = [
        ("peer", "member"),
        ("check", "bogon_prefix"),
        ("code", "1101:3"),
    ];
    let gauge = metrics.get("rovgate_peer_paths_failed", &labels);
    assert_eq!(gauge, Some(1.0), "{text}");

    rovgate.reload(|text| text.replace("checks = \"shadow\"", "checks = \"drop\""));
    wait_for("the receiver lost the four (drop)", 30, || {
        FAILING.iter().all(|(p, ..)| !has(&receiver, p))
    })
    .await;
    assert!(has(&receiver, CLEAN), "the clean route stays");
    wait_for("the report lists the four as dropped", 30, || {
        listed(&rovgate) == expected(true)
    })
    .await;
}
