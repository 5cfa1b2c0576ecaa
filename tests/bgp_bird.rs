//! rovgate as a route server between real BIRD 2 instances on loopback.

use crate::support;
use crate::support::bird::{preamble, Bird};
use crate::support::daemon::Rovgate;
use crate::support::wait_for;

/// A BIRD member router at 127.0.0.N (AS `asn`) peering with rovgate; `static_routes` are
/// announced with a community and a large community.
fn member(n: u8, asn: u32, port: u16, rovgate_port: u16, static_routes: &[&str]) -> Bird {
    let ip = format!("127.0.0.{n}");
    let routes: String = static_routes
        .iter()
        .map(|r| format!("  route {r} blackhole;\n"))
        .collect();
    let config = format!(
        "{pre}\
         protocol static s4 {{ ipv4;\n{v4}}}\n\
         protocol static s6 {{ ipv6;\n{v6}}}\n\
         filter add_tags {{ bgp_community.add(({asn},100)); bgp_large_community.add(({asn},1,2)); accept; }}\n\
         protocol bgp rsrv {{ local {ip} port {port} as {asn}; neighbor 127.0.0.1 port {rovgate_port} as 64500; multihop; \
         ipv4 {{ import all; export filter add_tags; next hop self; }}; ipv6 {{ import all; export filter add_tags; next hop address 2001:db8::{n}; }}; }}\n",
        pre = preamble(&ip),
        v4 = routes.lines().filter(|l| !l.contains(':')).map(|l| format!("{l}\n")).collect::<String>(),
        v6 = routes.lines().filter(|l| l.contains(':')).map(|l| format!("{l}\n")).collect::<String>(),
    );
    Bird::start(&format!("m{n}"), &config)
}

/// Peers as rovgate sees them: (last octet, AS, BIRD's port, whether rovgate only listens).
fn peers_config(peers: &[(u8, u32, u16, bool)]) -> String {
    let peer = |&(n, asn, port, passive): &(u8, u32, u16, bool)| {
        format!(
            "[[peer]]\nname = \"m{n}\"\naddress = \"127.0.0.{n}\"\nasn = {asn}\nrole = \"rs-client\"\n\
             port = {port}\npassive = {passive}\n\n"
        )
    };
    peers.iter().map(peer).collect()
}

/// Expected: routes announced by one BIRD arrive at the other with AS_PATH, NEXT_HOP,
/// communities and large communities unchanged (rovgate's AS not prepended); a withdraw
/// propagates; stopping the announcing BIRD withdraws its routes at the other.
#[tokio::test]
async fn routes_cross_between_two_birds_unchanged() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let (pa, pb) = (support::free_port(), support::free_port());
    // rovgate waits for A to connect, and connects to B itself.
    let rovgate = Rovgate::start(
        "birds",
        &peers_config(&[(12, 64496, pa, true), (13, 64497, pb, false)]),
    );
    let a = member(
        12,
        64496,
        pa,
        rovgate.bgp_port,
        &["192.0.2.0/24", "198.51.100.0/24", "2001:db8:12::/48"],
    );
    let b = member(13, 64497, pb, rovgate.bgp_port, &[]);
    wait_for("both sessions up", 60, || {
        a.established("rsrv") && b.established("rsrv")
    })
    .await;
    wait_for("routes at B", 30, || {
        b.birdc("show route protocol rsrv")
            .contains("198.51.100.0/24")
    })
    .await;
    let all = b.birdc("show route all 192.0.2.0/24");
    assert!(
        all.contains("BGP.as_path: 64496\n")
            || all.contains("BGP.as_path: 64496 \n")
            || all.lines().any(|l| l.trim() == "BGP.as_path: 64496"),
        "{all}"
    );
    assert!(all.contains("BGP.next_hop: 127.0.0.12"), "{all}");
    assert!(all.contains("(64496,100)"), "{all}");
    assert!(all.contains("(64496, 1, 2)"), "{all}");
    // The IPv6 route travels in its own UPDATE (MP_REACH): wait for it too.
    let v6 = || b.birdc("show route all 2001:db8:12::/48");
    wait_for("the IPv6 route at B", 30, || {
        v6().contains("BGP.as_path: 64496")
    })
    .await;
    a.stop();
    wait_for("routes withdrawn at B", 30, || {
        !b.birdc("show route protocol rsrv").contains("192.0.2.0/24")
    })
    .await;
    let log = rovgate.log();
    assert!(log.contains("session down"), "{log}");
}

/// Expected: when a member that announced graceful restart (BIRD does by default) vanishes
/// without a NOTIFICATION, its routes stay at the other member (stale, RFC 4724 helper);
/// when it comes back and re-sends only some of them, End-of-RIB withdraws the rest.
#[tokio::test]
async fn graceful_restart_keeps_routes_of_a_vanished_member() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let (pa, pb) = (support::free_port(), support::free_port());
    let rovgate = Rovgate::start(
        "gr",
        &peers_config(&[(22, 64496, pa, true), (23, 64497, pb, true)]),
    );
    let a = member(
        22,
        64496,
        pa,
        rovgate.bgp_port,
        &["192.0.2.0/24", "198.51.100.0/24"],
    );
    let b = member(23, 64497, pb, rovgate.bgp_port, &[]);
    wait_for("routes at B", 60, || {
        b.birdc("show route protocol rsrv")
            .contains("198.51.100.0/24")
    })
    .await;
    drop(a); // SIGKILL: no NOTIFICATION
    wait_for("rovgate saw the session drop", 30, || {
        rovgate.log().contains("keeping its routes as stale")
    })
    .await;
    assert!(
        b.birdc("show route protocol rsrv")
            .contains("198.51.100.0/24"),
        "stale routes kept"
    );
    let a = member(22, 64496, pa, rovgate.bgp_port, &["192.0.2.0/24"]);
    wait_for("A back", 60, || a.established("rsrv")).await;
    wait_for("the route A did not re-send is gone", 30, || {
        !b.birdc("show route protocol rsrv")
            .contains("198.51.100.0/24")
    })
    .await;
    assert!(b.birdc("show route protocol rsrv").contains("192.0.2.0/24"));
}

/// Expected: `birdc reload in` at a member (BIRD negotiates enhanced route refresh by
/// default) sends ROUTE-REFRESH; rovgate answers BoRR, the routes, EoRR (RFC 7313 §4), so
/// BIRD refreshes instead of ignoring an EoRR "without prior BEGIN-OF-RR", and the routes
/// stay.
#[tokio::test]
async fn enhanced_route_refresh_gets_borr_routes_eorr() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let (pa, pb) = (support::free_port(), support::free_port());
    let rovgate = Rovgate::start(
        "err",
        &peers_config(&[(26, 64496, pa, true), (27, 64497, pb, true)]),
    );
    let a = member(26, 64496, pa, rovgate.bgp_port, &["192.0.2.0/24"]);
    let b = member(27, 64497, pb, rovgate.bgp_port, &[]);
    wait_for("route at B", 60, || {
        b.birdc("show route protocol rsrv").contains("192.0.2.0/24")
    })
    .await;
    b.birdc("debug rsrv all");
    b.birdc("reload in rsrv");
    wait_for("EoRR at B", 30, || b.log().contains("Got END-OF-RR")).await;
    let log = b.log();
    let refresh = log.find("Sending ROUTE-REFRESH").unwrap_or(log.len());
    let events: Vec<&str> = (log[refresh..].lines())
        .filter_map(|l| l.split("rsrv: Got ").nth(1))
        .collect();
    assert_eq!(
        events.get(..3),
        Some(&["BEGIN-OF-RR", "UPDATE", "END-OF-RR"][..]),
        "{log}"
    );
    assert!(!log.contains("without prior BEGIN-OF-RR"), "{log}");
    assert!(b.birdc("show route protocol rsrv").contains("192.0.2.0/24"));
    drop(a);
}

/// Expected: a member that announces more prefixes than its `max_prefixes` gets Cease /
/// Maximum Number of Prefixes Reached, and its routes are withdrawn at the other member.
#[tokio::test]
async fn max_prefixes_exceeded_closes_the_session_and_withdraws() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let (pa, pb) = (support::free_port(), support::free_port());
    let mut peers = peers_config(&[(72, 64496, pa, true), (73, 64497, pb, true)]);
    peers = peers.replacen("passive = true\n", "passive = true\nmax_prefixes = 2\n", 1);
    let rovgate = Rovgate::start("maxpfx", &peers);
    let b = member(73, 64497, pb, rovgate.bgp_port, &[]);
    wait_for("B up", 60, || b.established("rsrv")).await;
    let a = member(
        72,
        64496,
        pa,
        rovgate.bgp_port,
        &["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"],
    );
    wait_for("A told why", 60, || {
        a.log().contains("Maximum number of prefixes reached")
    })
    .await;
    wait_for("nothing of A's left at B", 30, || {
        !b.birdc("show route protocol rsrv").contains("/24")
    })
    .await;
    assert!(rovgate.log().contains("maximum prefixes exceeded"));
}

/// Expected: on SIGTERM rovgate sends every peer Cease / Administrative Shutdown with an
/// RFC 9003 message, which BIRD logs, and exits 0.
#[tokio::test]
async fn sigterm_sends_administrative_shutdown() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let pa = support::free_port();
    let mut rovgate = Rovgate::start("sigterm", &peers_config(&[(82, 64496, pa, true)]));
    let a = member(82, 64496, pa, rovgate.bgp_port, &[]);
    wait_for("A up", 60, || a.established("rsrv")).await;
    assert!(rovgate.terminate().success());
    wait_for("BIRD logged the shutdown message", 30, || {
        a.log().contains("rovgate is shutting down")
    })
    .await;
    assert!(a.log().contains("Administrative shutdown"), "{}", a.log());
}
