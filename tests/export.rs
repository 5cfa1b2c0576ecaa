//! The export path with a member that stops reading: the RIB never waits for a peer, so
//! the others converge and a member that comes up meanwhile gets the table; the stuck one
//! is cut by the send hold timer (RFC 9687). Healthy members are real BIRD routers; the
//! stuck one is a `RawPeer` whose TCP window stays shut while it keeps sending KEEPALIVEs
//! (no real router stops reading on purpose).

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use crate::support;
use crate::support::bird::{preamble, Bird};
use crate::support::daemon::Rovgate;
use crate::support::raw_peer::{message, RawPeer};

/// Routes the feeding BIRD announces, each with its own large community (and 16 more it
/// shares), so that each goes in its own UPDATE of about 300 bytes: 12 MB to every member,
/// more than the sockets buffer.
const ROUTES: u32 = 40_000;

/// A BIRD member at 127.0.0.N (AS 64500 + N) connecting to rovgate; it announces
/// `routes` static routes, each with a large community of its own.
fn member(n: u8, rovgate_port: u16, routes: u32) -> Bird {
    let (ip, asn) = (format!("127.0.0.{n}"), 64500 + u32::from(n));
    let statics: String = (0..routes)
        .map(|i| {
            let (a, b) = (i / 256, i % 256);
            format!("  route 10.{a}.{b}.0/24 blackhole {{ bgp_large_community.add(({asn}, {a}, {b})); }};\n")
        })
        .collect();
    let config = format!(
        "{pre}protocol static s4 {{ ipv4;\n{statics}}}\n\
         filter pad {{ {pad} accept; }}\n\
         protocol bgp rsrv {{ local {ip} port {port} as {asn}; neighbor 127.0.0.1 port {rovgate_port} as 64500; \
         strict bind; multihop; ipv4 {{ import all; export filter pad; next hop self; }}; }}\n",
        pre = preamble(&ip),
        port = support::free_port(),
        pad = (1..=16)
            .map(|i| format!("bgp_large_community.add(({asn}, 1000, {i}));"))
            .collect::<String>(),
    );
    Bird::start(&format!("export-m{n}"), &config)
}

fn peer(name: &str, n: u8) -> String {
    format!(
        "[[peer]]\nname = \"{name}\"\naddress = \"127.0.0.{n}\"\nasn = {}\nrole = \"rs-client\"\n\
         passive = true\n\n",
        64500 + u32::from(n)
    )
}

/// How many routes BIRD's `rsrv` session imported.
fn imported(bird: &Bird) -> u32 {
    let out = bird.birdc("show route protocol rsrv count");
    let count = out.split_whitespace().find_map(|w| w.parse().ok());
    count.unwrap_or(0)
}

/// Expected: with one member that stops reading (its window shut, KEEPALIVEs still coming),
/// every other member gets the whole table, a member that comes up meanwhile gets it too,
/// and the stuck member is closed by the send hold timer (RFC 9687), its state shown in the
/// status and counted in the metrics; the others stay up.
#[tokio::test]
async fn a_member_that_stops_reading_stalls_nobody() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let peers = [
        peer("feeder", 71),
        peer("receiver", 72),
        peer("stuck", 73),
        peer("late", 74),
    ];
    let rovgate = Rovgate::start(
        "export-stuck",
        &format!("send_hold_time = 40\n\n{}", peers.concat()),
    );
    let target: SocketAddr = format!("127.0.0.1:{}", rovgate.bgp_port).parse().unwrap();
    let stuck = RawPeer::connect("127.0.0.73", 64573, target, Some(4096));
    // It keeps sending KEEPALIVEs, and never reads again.
    let mut keepalives = stuck.stream.try_clone().unwrap();
    std::thread::spawn(move || {
        while keepalives.write_all(&message(4, &[])).is_ok() {
            std::thread::sleep(Duration::from_secs(3));
        }
    });
    support::wait_for("the stuck member up", 30, || {
        rovgate
            .peer_status("stuck")
            .is_some_and(|p| p["up"] == true)
    })
    .await;
    let receiver = member(72, rovgate.bgp_port, 0);
    let _feeder = member(71, rovgate.bgp_port, ROUTES);
    support::wait_for("every route at the receiver", 120, || {
        imported(&receiver) == ROUTES
    })
    .await;
    let stuck_now = rovgate.peer_status("stuck").unwrap();
    assert!(
        !rovgate.log().contains("send hold timer expired"),
        "the others converged before the stuck member was cut: {}",
        rovgate.log()
    );
    assert_eq!(stuck_now["up"], true, "{stuck_now}");
    let late = member(74, rovgate.bgp_port, 0);
    support::wait_for("every route at the member that came up late", 120, || {
        imported(&late) == ROUTES
    })
    .await;
    support::wait_for("the stuck member cut by the send hold timer", 120, || {
        rovgate
            .peer_status("stuck")
            .is_some_and(|p| p["up"] == false)
    })
    .await;
    let stuck_then = rovgate.peer_status("stuck").unwrap();
    let reason = stuck_then["last_down"].as_str().unwrap_or_default();
    assert!(reason.contains("send hold timer expired"), "{stuck_then}");
    let metrics = rovgate.metrics();
    assert!(
        metrics.contains("rovgate_send_hold_expired_total{peer=\"stuck\"} 1"),
        "{metrics}"
    );
    for (name, bird) in [("receiver", &receiver), ("late", &late)] {
        assert!(bird.established("rsrv"), "{name} stays up");
        assert_eq!(imported(bird), ROUTES, "{name} keeps every route");
    }
}

/// How many route announcements BIRD's `rsrv` session received (repeats counted).
fn announcements_received(bird: &Bird) -> u32 {
    let out = bird.birdc("show protocols all rsrv");
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("Import updates:"));
    let count = line.and_then(|l| l.split_whitespace().nth(2)?.parse().ok());
    count.unwrap_or(0)
}

/// Expected: with `update_delay`, rovgate sends nothing while members' tables come in,
/// not even to the member up all along; once every member has sent End-of-RIB, the
/// receiving BIRD is sent each prefix once, with its final best path, although a better
/// path for every prefix came in after a first one.
#[tokio::test]
async fn the_update_delay_sends_each_prefix_once() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    const N: u32 = 2_000;
    let peers = [peer("first", 76), peer("better", 75), peer("receiver", 77)];
    let rovgate = Rovgate::start(
        "export-delay",
        &format!("update_delay = 120\n\n{}", peers.concat()),
    );
    let receiver = member(77, rovgate.bgp_port, 0);
    // Equal paths: the lower address (.75) wins, so its routes replace the first ones.
    let _first = member(76, rovgate.bgp_port, N);
    support::wait_for(
        "the first member's table and End-of-RIB in rovgate",
        60,
        || {
            let waiting = rovgate.status().is_some_and(|s| s["update_delay"] == 1);
            waiting
                && rovgate
                    .peer_status("first")
                    .is_some_and(|p| p["routes"] == N)
        },
    )
    .await;
    assert_eq!(imported(&receiver), 0, "nothing sent during the delay");
    let _better = member(75, rovgate.bgp_port, N);
    support::wait_for("every route at the receiver", 60, || {
        imported(&receiver) == N
    })
    .await;
    assert!(rovgate.status().unwrap()["update_delay"].is_null());
    let rib = receiver.birdc("show route protocol rsrv all");
    assert!(!rib.contains("64576"), "only the better paths: {rib}");
    assert_eq!(announcements_received(&receiver), N, "each prefix once");
}
