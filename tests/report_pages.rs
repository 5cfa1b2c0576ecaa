//! The what-if report of a running rovgate with many invalid routes: built once and shared,
//! handed out in pages, read whole by `rovgate report --url`. Real BIRD members announce
//! /24s that a VRP file makes invalid (a ROA of another AS covers them all).
//!
//! Each test runs on its own loopback /24: 127.0.93.0 and 127.0.94.0.

use std::process::Command;
use std::sync::{Arc, Barrier};

use rovgate::report::{Report, MAX_PAGE};
use serde_json::{json, Value};

use crate::support;
use crate::support::bird::{preamble, Bird};
use crate::support::daemon::Rovgate;
use crate::support::{scratch_dir, vrp, vrp_json, wait_for};

/// The AS the covering ROAs name instead of the members'.
const OTHER_AS: u32 = 65000;

/// A member: its name, its AS, and how many /24s it announces.
struct Member {
    name: &'static str,
    asn: u32,
    routes: u32,
}

/// The first of the two /8s of member `i`: 11 for the first, 13 for the second, …
fn first_octet(i: usize) -> u32 {
    11 + 2 * i as u32
}

/// The /24s of member `i` (at most 131,072), in address order from its first /8 on.
fn prefixes(i: usize, count: u32) -> impl Iterator<Item = String> {
    let first = first_octet(i);
    (0..count).map(move |n| format!("{}.{}.{}.0/24", first + (n >> 16), (n >> 8) & 255, n & 255))
}

/// The two /8s of member `i`.
fn slash8s(i: usize) -> [String; 2] {
    [0, 1].map(|n| format!("{}.0.0.0/8", first_octet(i) + n))
}

/// rovgate with the members as peers and a VRP file making every announced /24 invalid,
/// and a BIRD for each; returns once rovgate holds every route, invalid.
async fn exchange(net: u8, members: &[Member]) -> (Rovgate, Vec<Bird>) {
    let dir = scratch_dir("report-pages");
    let vrps: Vec<_> = (0..members.len())
        .flat_map(slash8s)
        .map(|prefix| vrp(&prefix, 8, OTHER_AS))
        .collect();
    let file = dir.join("vrps.json");
    std::fs::write(&file, vrp_json(&vrps)).expect("write the VRP file");
    let ports: Vec<u16> = members.iter().map(|_| support::free_port()).collect();
    let mut config = format!("[rpki]\nvrp_files = [{file:?}]\n\n");
    for (i, (m, port)) in members.iter().zip(&ports).enumerate() {
        config += &format!(
            "[[peer]]\nname = {:?}\naddress = \"127.0.{net}.{}\"\nasn = {}\n\
             role = \"rs-client\"\nrov = \"shadow\"\nport = {port}\npassive = true\n\n",
            m.name,
            i + 1,
            m.asn
        );
    }
    let rovgate = Rovgate::start(&format!("pages{net}"), &config);
    wait_for("rovgate has the VRPs", 60, || {
        rovgate
            .status()
            .is_some_and(|s| s["vrps"]["count"] == json!(vrps.len()))
    })
    .await;
    let birds: Vec<Bird> = (members.iter().zip(&ports).enumerate())
        .map(|(i, (m, port))| {
            let ip = format!("127.0.{net}.{}", i + 1);
            let mut config = preamble(&ip) + "protocol static s4 { ipv4;\n";
            for prefix in prefixes(i, m.routes) {
                config += &format!("  route {prefix} blackhole;\n");
            }
            config += &format!(
                "}}\nprotocol bgp rsrv {{ local {ip} port {port} as {}; \
                 neighbor 127.0.0.1 port {} as 64500; multihop; connect delay time 1; \
                 ipv4 {{ import none; export all; next hop self; }}; }}\n",
                m.asn, rovgate.bgp_port,
            );
            Bird::start(&format!("pages{net}-{i}"), &config)
        })
        .collect();
    let held = support::eventually(300, || {
        let status = rovgate.status().unwrap_or_default();
        let peers = status["peers"].as_array().cloned().unwrap_or_default();
        status["reevaluation"]["pending"] == 0
            && members
                .iter()
                .all(|m| (peers.iter()).any(|p| p["name"] == m.name && p["invalid"] == m.routes))
    })
    .await;
    assert!(
        held,
        "rovgate did not get every route: {}\n{}\n{}",
        rovgate.status().unwrap_or_default(),
        (birds.iter().map(|b| b.birdc("show protocols all"))).collect::<String>(),
        rovgate.log()
    );
    (rovgate, birds)
}

/// `GET path` on rovgate: the status code and the body.
fn get(rovgate: &Rovgate, path: &str) -> (u16, String) {
    let answer = match ureq::get(&format!("{}{path}", rovgate.url())).call() {
        Ok(answer) => answer,
        Err(ureq::Error::Status(_, answer)) => answer,
        Err(e) => panic!("GET {path}: {e}"),
    };
    let code = answer.status();
    (code, answer.into_string().expect("the answer's text"))
}

/// `GET path` answered 200 with JSON.
fn get_json(rovgate: &Rovgate, path: &str) -> Value {
    let (code, body) = get(rovgate, path);
    assert_eq!(code, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// Every page of build `id` at `limit` routes a page (`query`: more parameters): each
/// peer's routes concatenated, and the bytes of all pages.
fn read_pages(rovgate: &Rovgate, id: &Value, limit: usize, query: &str) -> (Value, usize) {
    let (mut offset, mut bytes) = (0, 0);
    let mut routes: Vec<(String, Vec<Value>)> = Vec::new();
    loop {
        let path = format!("/api/v1/report?id={id}&offset={offset}&limit={limit}{query}");
        let (code, body) = get(rovgate, &path);
        assert_eq!(code, 200, "GET {path}: {body}");
        bytes += body.len();
        let page: Value = serde_json::from_str(&body).expect("a page");
        assert_eq!(
            (&page["id"], &page["offset"]),
            (id, &json!(offset)),
            "{path}"
        );
        let peers = page["peers"].as_array().expect("peers");
        let mut held = 0;
        for peer in peers {
            let name = peer["name"].as_str().expect("a name").to_string();
            let more = peer["invalid_routes"].as_array().expect("routes").clone();
            held += more.len();
            match routes.iter_mut().find(|(n, _)| *n == name) {
                Some((_, list)) => list.extend(more),
                None => routes.push((name, more)),
            }
        }
        assert!(held <= limit, "{held} routes in a page of {limit}");
        offset += held;
        if held == 0 || offset as u64 >= page["total"].as_u64().expect("total") {
            assert_eq!(json!(offset), page["total"], "{path}");
            break;
        }
    }
    let whole = routes.into_iter().map(|(n, r)| (n, Value::from(r)));
    (Value::Object(whole.collect()), bytes)
}

/// A figure of rovgate's `/proc/PID/status` in kB (VmRSS, VmHWM).
fn memory(rovgate: &Rovgate, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", rovgate.pid()));
    let status = status.expect("rovgate's /proc status");
    let line = status.lines().find(|l| l.starts_with(key)).expect(key);
    let kb = line.split_whitespace().nth(1).expect("a number");
    kb.parse().expect("kB")
}

/// Expected: with 98,304 invalid routes (the scale of the issue), 16 requests for the
/// report at once all succeed with the same report (one build, one id); rovgate's peak
/// memory meanwhile grows by less than four times the size of the whole report as JSON
/// (one report held with the RIB's paths it came from, not one per request: that was
/// about nine reports for eight readers before); the pages of that build at the largest page
/// size hold every route; and `rovgate report --url` prints all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reports_share_one_build() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let member = Member {
        name: "member-a",
        asn: 64701,
        routes: 98_304,
    };
    let (rovgate, _bird) = exchange(93, &[member]).await;
    let before = memory(&rovgate, "VmRSS:");

    let start = Arc::new(Barrier::new(16));
    let readers: Vec<_> = (0..16)
        .map(|_| {
            let (start, url) = (start.clone(), rovgate.url());
            std::thread::spawn(move || {
                start.wait();
                let answer = ureq::get(&format!("{url}/api/v1/report")).call();
                let answer = answer.unwrap_or_else(|e| panic!("GET /api/v1/report: {e}"));
                answer.into_json::<Value>().expect("a report")
            })
        })
        .collect();
    let pages: Vec<Value> = (readers.into_iter())
        .map(|r| r.join().expect("a reader"))
        .collect();
    let peak = memory(&rovgate, "VmHWM:");
    assert!(pages.iter().all(|p| *p == pages[0]), "one report for all");
    let first = &pages[0];
    assert_eq!(first["total"], 98_304, "total");
    assert_eq!(
        (&first["offset"], &first["limit"]),
        (&json!(0), &json!(1000))
    );
    let routes = first["peers"][0]["invalid_routes"]
        .as_array()
        .expect("routes");
    assert_eq!(routes.len(), 1000);

    let (whole, bytes) = read_pages(&rovgate, &first["id"], MAX_PAGE, "");
    let listed = whole["member-a"].as_array().expect("member-a's routes");
    assert_eq!(listed.len(), 98_304);
    assert_eq!(listed[..1000], routes[..], "the first page starts the list");
    let grown = peak.saturating_sub(before) * 1024;
    eprintln!(
        "16 readers at once: peak memory +{grown} bytes; the report is {bytes} bytes of JSON"
    );
    assert!(
        grown < 4 * bytes as u64,
        "peak memory grew by {grown} bytes for 16 readers; one report is {bytes} bytes of JSON"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_rovgate"))
        .args(["report", "--url", &rovgate.url(), "--format", "json"])
        .output()
        .expect("run rovgate report");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "rovgate report --url: {stderr}");
    let printed: Report = serde_json::from_slice(&out.stdout).expect("a report");
    let printed = serde_json::to_value(&printed.peers[0].invalid_routes).expect("json");
    assert_eq!(
        &printed, &whole["member-a"],
        "rovgate report --url prints every route"
    );
}

/// Expected: with two members (2,500 and 1,200 invalid routes), pages of any size
/// concatenate, peer by peer, to the same lists; `total` counts every listed route; a
/// `limit` above 10,000 is cut to 10,000; `?peer=` pages through that peer alone; a
/// page past the end lists the peers without routes; a bad `limit` is a 400, a replaced
/// or unknown build a 409.
#[tokio::test]
async fn pages_concatenate_to_the_whole_lists() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let members = [
        Member {
            name: "member-a",
            asn: 64701,
            routes: 2_500,
        },
        Member {
            name: "member-b",
            asn: 64702,
            routes: 1_200,
        },
    ];
    let (rovgate, _bird) = exchange(94, &members).await;
    let first = get_json(&rovgate, "/api/v1/report?limit=50000");
    assert_eq!(
        (&first["limit"], &first["total"]),
        (&json!(10_000), &json!(3_700))
    );
    let id = &first["id"];
    let (whole, _) = read_pages(&rovgate, id, MAX_PAGE, "");
    for (m, i) in members.iter().zip(0..) {
        let listed: Vec<Value> = (whole[m.name].as_array().expect(m.name).iter())
            .map(|r| r["prefix"].clone())
            .collect();
        let mut want: Vec<String> = prefixes(i, m.routes).collect();
        want.sort_by_key(|p| p.parse::<ipnet::IpNet>().expect("a prefix"));
        assert_eq!(
            listed,
            want.iter().map(|p| json!(p)).collect::<Vec<_>>(),
            "{}",
            m.name
        );
    }
    for limit in [1_000, 777, 3_699] {
        assert_eq!(
            read_pages(&rovgate, id, limit, "").0,
            whole,
            "limit {limit}"
        );
    }
    let (b, _) = read_pages(&rovgate, id, 500, "&peer=member-b");
    assert_eq!(b, json!({"member-b": whole["member-b"]}));
    let b = get_json(&rovgate, "/api/v1/report?peer=member-b&limit=0");
    assert_eq!(
        (&b["total"], &b["totals"]["invalid"]),
        (&json!(1_200), &json!(1_200))
    );

    let past = get_json(&rovgate, "/api/v1/report?offset=3700");
    let names: Vec<&Value> = (past["peers"].as_array().expect("peers").iter())
        .inspect(|p| assert_eq!(p["invalid_routes"], json!([]), "{p}"))
        .map(|p| &p["name"])
        .collect();
    assert_eq!(names, ["member-a", "member-b"]);
    assert_eq!(get(&rovgate, "/api/v1/report?limit=many").0, 400);
    let gone = format!("/api/v1/report?id={}", id.as_u64().expect("an id") + 1);
    let (code, why) = get(&rovgate, &gone);
    assert_eq!(code, 409, "{why}");
}
