//! Full-table replay through a real BIRD 2 route server, straight into the sink, and the
//! `rovgate replay` command's output and errors.
//!
//! Expectations:
//! - Through BIRD (`rs client`, so paths and communities pass unchanged) the sink receives
//!   every route of the shared full table: 1,158,188 prefixes it waits for, plus the one
//!   whose path ends in AS 0, which BIRD passes on and rovgate's codec treats as withdraw
//!   (RFC 7607). A sample of routes arrives with the MRT's AS_PATH, COMMUNITIES and
//!   LARGE_COMMUNITY (the communities as sets: BIRD sorts them).
//! - `--family v4` waits for exactly the 998,042 IPv4 prefixes.
//! - Replicated feeders (`--peers 3`) with their own addresses and ASNs, and a sink that the
//!   device connects to (`--sink-listen`), work through BIRD.
//! - Member mode (`--members`) with a stuck member: the others complete without it.
//! - A NOTIFICATION from the target, or no target at all, is an error with exit code 1.
//!
//! Each test has its own 127.0.N.x addresses and BIRD port, so they run in parallel.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use crate::support;
use crate::support::bird::{preamble, Bird};
use crate::support::table::{check_sample, data, FULL_TABLE, SMALL_RIB};
use ipnet::IpNet;
use rovgate::replay::{self, ReplayError, ReplayOptions, SinkMode};
use rovgate::route::Family;

/// BIRD as an RFC 7947 route server on 127.0.`net`.1, port `port`, with these neighbours
/// as (address, AS, port to connect to or `None` to wait for them). Routes pass unchanged
/// (`next hop keep`, no filters); `strict bind` keeps parallel BIRDs apart.
fn route_server(net: u8, port: u16, neighbours: &[(String, u32, Option<u16>)]) -> Bird {
    let mut config = preamble(&format!("127.0.{net}.1"));
    config.push_str(&format!(
        "template bgp rsc {{ local 127.0.{net}.1 port {port} as 64500; rs client; multihop; \
         strict bind yes;\n\
         ipv4 {{ import table; import all; export all; next hop keep; }};\n\
         ipv6 {{ import table; import all; export all; next hop keep; }}; }}\n"
    ));
    for (i, (address, asn, connect)) in neighbours.iter().enumerate() {
        let how = match connect {
            Some(p) => format!("neighbor {address} port {p} as {asn};"),
            None => format!("neighbor {address} as {asn}; passive yes;"),
        };
        config.push_str(&format!("protocol bgp n{i} from rsc {{ {how} }}\n"));
    }
    Bird::start(&format!("replay-{net}"), &config)
}

/// Options for a replay to BIRD on 127.0.`net`.1:`port`: feeder at .2, sink at .3.
fn options(net: u8, port: u16, file: &str) -> ReplayOptions {
    let mut o = ReplayOptions::new(data(file), format!("127.0.{net}.1:{port}"));
    o.feeder_address = format!("127.0.{net}.2").parse().expect("address");
    o.sink_address = format!("127.0.{net}.3").parse().expect("address");
    o.timeout = Duration::from_secs(300);
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bird_passes_the_whole_full_table_unchanged() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let (net, port) = (31, support::free_port());
    let bird = route_server(
        net,
        port,
        &[
            (format!("127.0.{net}.2"), 64496, None),
            (format!("127.0.{net}.3"), 64497, None),
        ],
    );
    let mut opts = options(net, port, FULL_TABLE);
    opts.keep_routes = true;
    let result = replay::replay(&opts)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", bird.log()));
    let run = &result.runs[0];
    eprintln!("BIRD, full table, both families: {:?}", run.convergence);
    assert_eq!(
        (result.sent, result.expected, run.received),
        (1_158_189, 1_158_188, 1_158_188)
    );
    let as0: IpNet = "2001:7f8:66::/64".parse().expect("prefix");
    assert_eq!(run.malformed, [as0], "the AS 0 route arrives too");

    check_sample(run.routes.as_ref().expect("routes kept"));
    bird.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bird_ipv4_only_twice() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let (net, port) = (32, support::free_port());
    let bird = route_server(
        net,
        port,
        &[
            (format!("127.0.{net}.2"), 64496, None),
            (format!("127.0.{net}.3"), 64497, None),
        ],
    );
    let mut opts = options(net, port, FULL_TABLE);
    opts.families = vec![Family::Ipv4Unicast];
    opts.runs = 2;
    let result = replay::replay(&opts)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", bird.log()));
    assert_eq!(result.expected, 998_042);
    assert_eq!(result.runs.len(), 2);
    for run in &result.runs {
        eprintln!("BIRD, full table, IPv4: {:?}", run.convergence);
        assert_eq!(run.received, 998_042);
        assert!(run.convergence > Duration::ZERO);
    }
    bird.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bird_three_replicated_feeders_and_a_listening_sink() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let (net, port, sink_port) = (33, support::free_port(), support::free_port());
    // Feeders from .2, .4, .5 (the sink's .3 skipped) with AS 64496, 64498, 64499 (the
    // sink's 64497 skipped); BIRD connects to the sink.
    let bird = route_server(
        net,
        port,
        &[
            (format!("127.0.{net}.2"), 64496, None),
            (format!("127.0.{net}.4"), 64498, None),
            (format!("127.0.{net}.5"), 64499, None),
            (format!("127.0.{net}.3"), 64497, Some(sink_port)),
        ],
    );
    let mut opts = options(net, port, FULL_TABLE);
    opts.families = vec![Family::Ipv6Unicast];
    opts.peers = Some(3);
    opts.local_as = Some(64496);
    let sink: SocketAddr = format!("127.0.{net}.3:{sink_port}")
        .parse()
        .expect("address");
    opts.sink = SinkMode::Listen(sink);
    let result = replay::replay(&opts)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", bird.log()));
    assert_eq!(
        (result.feeders, result.sent, result.expected),
        (3, 3 * 160_147, 160_146)
    );
    assert_eq!(result.runs[0].received, 160_146);
    bird.stop();
}

/// Member mode through BIRD with the last of three members stuck (`--stuck 1`: it sends
/// its share, then never reads, its TCP window shut): the two others each get every other
/// member's share, the stuck one's included; the stuck member is not measured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bird_members_with_one_stuck() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let (net, port) = (34, support::free_port());
    let member = |asn| {
        format!("- asn: {asn}\n  ip: 192.0.2.{}\n  cfg:\n    filtering:\n      max_prefix:\n        limit_ipv4: 10000\n", asn - 64400)
    };
    let dir = support::scratch_dir("replay-stuck");
    let file = dir.join("clients.yml");
    let clients = format!(
        "clients:\n{}{}{}",
        member(64496),
        member(64498),
        member(64499)
    );
    std::fs::write(&file, clients).expect("write the members file");
    // Members from .2, .4, .5 (the unused sink address .3 skipped).
    let neighbours = [(2, 64496), (4, 64498), (5, 64499)]
        .map(|(host, asn)| (format!("127.0.{net}.{host}"), asn, None));
    let bird = route_server(net, port, &neighbours);
    let mut opts = options(net, port, FULL_TABLE);
    opts.members = Some(file);
    opts.stuck = 1;
    let result = replay::replay(&opts)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", bird.log()));
    let members = result.runs[0].members.as_ref().expect("a member run");
    assert_eq!((members.members.len(), members.stuck), (2, 1));
    assert_eq!(members.complete(), 2, "{members:?}");
    for m in &members.members {
        // 60 % of 10,000 from each of the two others.
        assert_eq!(
            (m.tally.expected, m.tally.received),
            (12_000, 12_000),
            "{m:?}"
        );
    }
    bird.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notification_from_the_target_is_an_error() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let (net, port) = (34, support::free_port());
    // BIRD expects AS 65001 at the feeder's address; the feeder is 64496: Bad Peer AS.
    let bird = route_server(
        net,
        port,
        &[
            (format!("127.0.{net}.2"), 65001, None),
            (format!("127.0.{net}.3"), 64497, None),
        ],
    );
    let mut opts = options(net, port, SMALL_RIB);
    opts.truncated = rovgate::feed::Truncated::Read;
    opts.peers = Some(1);
    opts.local_as = Some(64496);
    opts.timeout = Duration::from_secs(30);
    match replay::replay(&opts).await {
        Err(e @ ReplayError::Notification { .. }) => {
            assert!(e.to_string().contains("2/2"), "{e}");
            assert!(e.to_string().contains("feeder 127.0.34.2"), "{e}");
        }
        other => panic!("expected a NOTIFICATION error, got {other:?}"),
    }
    bird.stop();
}

/// The tool's own ceiling: a feeder connected straight to the listening sink, through the
/// command, three runs, JSON out.
#[test]
fn straight_into_the_sink_json() {
    let port = support::free_port();
    let addr = format!("127.0.35.1:{port}");
    let out = Command::new(env!("CARGO_BIN_EXE_rovgate"))
        .args(["replay", "--mrt"])
        .arg(data(FULL_TABLE))
        .args([
            "--target",
            &addr,
            "--sink-listen",
            &addr,
            "--runs",
            "3",
            "--format",
            "json",
        ])
        .args(["--feeder-address", "127.0.35.2"])
        .output()
        .expect("run rovgate replay");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    eprintln!("feeder → sink: median {} s", v["median_seconds"]);
    assert_eq!(v["prefixes_expected"], 1_158_188);
    assert_eq!(v["prefixes_received"], 1_158_188);
    assert_eq!(v["routes_sent"], 1_158_189);
    assert_eq!(v["runs"].as_array().map(Vec::len), Some(3));
    assert!(v["median_seconds"].as_f64().is_some_and(|s| s > 0.0), "{v}");
}

/// Text output: a line per run and a summary.
#[test]
fn text_output_of_a_small_rib() {
    let port = support::free_port();
    let addr = format!("127.0.36.1:{port}");
    let out = Command::new(env!("CARGO_BIN_EXE_rovgate"))
        .args(["replay", "--mrt"])
        .arg(data(SMALL_RIB))
        .arg("--allow-truncated")
        .args([
            "--target",
            &addr,
            "--sink-listen",
            &addr,
            "--peers",
            "1",
            "--runs",
            "2",
        ])
        .args(["--feeder-address", "127.0.36.2", "--family", "v4"])
        .output()
        .expect("run rovgate replay");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("run 1: convergence "), "{stdout}");
    assert!(lines[2].starts_with("median convergence "), "{stdout}");
}

/// Nothing listens at the target: a clear error and exit code 1.
#[test]
fn no_target_exits_1() {
    let port = support::free_port();
    let out = Command::new(env!("CARGO_BIN_EXE_rovgate"))
        .args(["replay", "--mrt"])
        .arg(data(SMALL_RIB))
        .arg("--allow-truncated")
        .args([
            "--target",
            &format!("127.0.0.1:{port}"),
            "--timeout",
            "2",
            "--peers",
            "1",
        ])
        .output()
        .expect("run rovgate replay");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot connect to 127.0.0.1:"), "{stderr}");
    assert!(stderr.contains("Connection refused"), "{stderr}");
}
