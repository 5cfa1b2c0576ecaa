//! rovgate at its open-file limit: idle HTTP clients must not keep BGP peers out, nor make
//! the listeners spin. rovgate runs with `ulimit -n 128`; a real BIRD is the BGP peer.

use std::net::TcpStream;

use crate::support;
use crate::support::bird::{preamble, Bird};
use crate::support::daemon::Rovgate;

/// rovgate's open-file limit in these tests.
const FILE_LIMIT: u32 = 128;
/// Idle HTTP clients: more than the limit allows.
const IDLE_CLIENTS: usize = 150;
/// What rovgate logs for every failed accept (`accept.rs`).
const ACCEPT_FAILED: &str = "accepting a connection failed";

/// The BIRD member at 127.0.0.`n`, which connects to rovgate (rovgate only listens) and
/// announces two routes.
fn member(n: u8, rovgate: &Rovgate) -> Bird {
    let (ip, port) = (format!("127.0.0.{n}"), rovgate.bgp_port);
    // BIRD's own listening port: any free one (rovgate never connects to it).
    let own = support::free_port();
    let config = format!(
        "{pre}protocol static s4 {{ ipv4; route 192.0.2.0/24 blackhole; \
         route 198.51.100.0/24 blackhole; }}\n\
         protocol bgp rsrv {{ local {ip} port {own} as 64496; neighbor 127.0.0.1 port {port} as 64500; \
         multihop; ipv4 {{ import all; export all; next hop self; }}; }}\n",
        pre = preamble(&ip),
    );
    Bird::start(&format!("hardening{n}"), &config)
}

/// rovgate's `[[peer]]` table for `member(n, ..)`, after the `extra` tables.
fn peer(n: u8, extra: &str) -> String {
    format!(
        "{extra}\n[[peer]]\nname = \"m{n}\"\naddress = \"127.0.0.{n}\"\nasn = 64496\n\
         role = \"rs-client\"\npassive = true\n"
    )
}

/// Connections to rovgate's HTTP port that never send a request.
fn idle_clients(rovgate: &Rovgate) -> Vec<TcpStream> {
    let addr = ("127.0.0.1", rovgate.http_port);
    let connect = |_| TcpStream::connect(addr).expect("connect to rovgate's HTTP port");
    (0..IDLE_CLIENTS).map(connect).collect()
}

/// Waits until the session to member `n` is up at both ends and rovgate holds its two
/// routes (asked over HTTP, so the API answers too).
async fn wait_member_up(rovgate: &Rovgate, bird: &Bird, n: u8) {
    let name = format!("m{n}");
    let up = |status: serde_json::Value| {
        let peers = status["peers"].as_array().cloned().unwrap_or_default();
        let peer = peers.into_iter().find(|p| p["name"] == name.as_str());
        peer.is_some_and(|p| p["up"] == true && p["routes"] == 2)
    };
    support::wait_for(
        "the member's session and routes, seen over HTTP",
        180,
        || bird.established("rsrv") && rovgate.status().is_some_and(up),
    )
    .await;
}

/// Lines of rovgate's log that say an accept failed.
fn accept_failures(rovgate: &Rovgate) -> Vec<String> {
    let log = rovgate.log();
    let lines = log.lines().filter(|l| l.contains(ACCEPT_FAILED));
    lines.map(String::from).collect()
}

/// Expected: with the default HTTP limits, 150 idle HTTP clients get at most 64
/// connections (the rest wait in the kernel's queue), so rovgate never runs out of file
/// descriptors: a BIRD member's session comes up and its routes arrive, no accept fails,
/// `GET /api/v1/status` answers once the header timeout has closed the idle ones, and the
/// log says the limit was reached.
#[tokio::test]
async fn idle_http_clients_stay_within_the_cap_and_bgp_comes_up() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let rovgate = Rovgate::start_with_file_limit("hardening-cap", &peer(41, ""), FILE_LIMIT);
    let before = rovgate.open_files();
    let _idle = idle_clients(&rovgate);
    support::wait_for("rovgate holding 64 idle HTTP connections", 60, || {
        rovgate.open_files() >= before + 64
    })
    .await;
    let bird = member(41, &rovgate);
    wait_member_up(&rovgate, &bird, 41).await;
    let failures = accept_failures(&rovgate);
    assert!(failures.is_empty(), "{failures:#?}");
    let log = rovgate.log();
    assert!(log.contains("HTTP connection limit reached"), "{log}");
}

/// Expected: with a connection cap above the file limit, idle HTTP clients use up
/// rovgate's file descriptors; both listeners then back off (1 s, 2 s, 4 s, ...) instead of
/// retrying at once, with one log line per wait. Once the clients leave, a BIRD member
/// that connected meanwhile gets its session up and its routes in, and the log holds only
/// a handful of accept failures.
#[tokio::test]
async fn out_of_file_descriptors_the_listeners_back_off_and_bgp_recovers() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    // The idle clients are sent away by the test, not by the header timeout.
    let http = "[http]\nmax_connections = 1000\nheader_timeout_seconds = 600\n";
    let rovgate = Rovgate::start_with_file_limit("hardening-emfile", &peer(42, http), FILE_LIMIT);
    let idle = idle_clients(&rovgate);
    let failed = |listener: &str, wait: u64| {
        let (listener, wait) = (
            format!("listener=\"{listener}\""),
            format!("wait_seconds={wait}"),
        );
        let failures = accept_failures(&rovgate);
        failures
            .iter()
            .any(|l| l.contains(&listener) && l.contains(&wait))
    };
    support::wait_for("the HTTP listener out of file descriptors", 60, || {
        failed("HTTP", 1)
    })
    .await;
    let bird = member(42, &rovgate);
    support::wait_for(
        "the BGP listener failing three times in a row, waiting longer each time",
        120,
        || failed("BGP", 4),
    )
    .await;
    drop(idle);
    wait_member_up(&rovgate, &bird, 42).await;
    let failures = accept_failures(&rovgate);
    assert!(failures.len() < 50, "{failures:#?}");
}
