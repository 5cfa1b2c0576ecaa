//! RFC 8950 extended next hop with real BIRD 2 members over IPv6 sessions, in a network
//! namespace the test makes (one veth pair: rovgate at 2001:db8::1, the members at
//! 2001:db8::2-4 and, for the member without extended next hop, 198.18.0.4).

use crate::support;
use crate::support::bird::Bird;
use crate::support::daemon::Rovgate;
use crate::support::netns::Netns;
use crate::support::wait_for;

/// A member router: BIRD at 2001:db8::N in AS `asn`, peering with rovgate over IPv6,
/// announcing 2001:db8:N::/48, and `v4` once its protocol `s4` is enabled. With
/// `extended`, its IPv4 channel has
/// `extended next hop on` (so its IPv4 routes carry its IPv6 address as next hop); without,
/// its IPv4 routes carry 198.18.0.N.
fn member(ns: &Netns, n: u8, asn: u32, rovgate_port: u16, extended: bool, v4: &str) -> Bird {
    let port = support::free_port();
    let ipv4_next_hop = if extended {
        "extended next hop on;".to_string()
    } else {
        format!("next hop address 198.18.0.{n};")
    };
    let config = format!(
        "log \"bird.log\" all;\nrouter id 198.18.0.{n};\nprotocol device {{}}\n\
         protocol direct {{ ipv4; ipv6; interface \"v*\"; }}\n\
         protocol static s4 {{ ipv4; disabled; route {v4} blackhole; }}\n\
         protocol static s6 {{ ipv6; route 2001:db8:{n}::/48 blackhole; }}\n\
         protocol bgp rsrv {{ local 2001:db8::{n} port {port} as {asn};\n\
           neighbor 2001:db8::1 port {rovgate_port} as 64500; multihop; connect delay time 1;\n\
           ipv4 {{ import all; export all; {ipv4_next_hop} }};\n\
           ipv6 {{ import all; export all; }}; }}\n"
    );
    Bird::start_in(Some(&ns.name), &format!("enh{n}"), &config)
}

/// A rovgate peer for member N; `extended_next_hop` as given.
fn peer(n: u8, asn: u32, extended: bool) -> String {
    format!(
        "[[peer]]\nname = \"m{n}\"\naddress = \"2001:db8::{n}\"\nasn = {asn}\n\
         role = \"rs-client\"\npassive = true\nextended_next_hop = {extended}\n\n"
    )
}

/// Expected: member A (extended next hop) announces 203.0.113.0/24 with its IPv6 address
/// as next hop; member B (extended next hop) gets it with that next hop; member C (no
/// extended next hop) does not get it, nor any error, though it gets A's IPv6 route; A
/// and B get C's IPv4 route with its IPv4 next hop. rovgate logs what each session
/// negotiated.
#[tokio::test]
async fn ipv4_routes_with_ipv6_next_hops_reach_only_extended_members() {
    if !support::tools_present(&["bird", "ip"]) {
        return;
    }
    let lan = [
        "2001:db8::1",
        "2001:db8::2",
        "2001:db8::3",
        "2001:db8::4",
        "198.18.0.4",
    ];
    let ns = Netns::new("enh", &lan);
    let peers = peer(2, 64496, true) + &peer(3, 64497, true) + &peer(4, 64498, false);
    let rovgate = Rovgate::start_in(Some(&ns.name), "[2001:db8::1]", "enh", &peers);
    let port = rovgate.bgp_port;
    let a = member(&ns, 2, 64496, port, true, "203.0.113.0/24");
    let b = member(&ns, 3, 64497, port, true, "192.0.2.0/24");
    let c = member(&ns, 4, 64498, port, false, "198.51.100.0/24");
    let route = |m: &Bird, prefix: &str| m.birdc(&format!("show route all {prefix}"));
    // Every member has the others' IPv6 routes: the first exchange (and the update delay)
    // is over, so the IPv4 routes announced next reach B and C in a batch shared by the
    // peers in step, encoded once per kind of session (with and without extended next hop).
    let has_v6 = |m: &Bird, n: u8| route(m, &format!("2001:db8:{n}::/48")).contains("BGP.as_path");
    wait_for("the IPv6 routes everywhere", 60, || {
        [(&a, 3), (&a, 4), (&b, 2), (&b, 4), (&c, 2), (&c, 3)]
            .into_iter()
            .all(|(m, n)| has_v6(m, n))
    })
    .await;
    for m in [&a, &c] {
        assert!(m.birdc("enable s4").contains("enabled"), "enable s4");
    }
    wait_for("A's IPv4 route at B", 30, || {
        route(&b, "203.0.113.0/24").contains("BGP.next_hop: 2001:db8::2")
    })
    .await;
    for (m, name) in [(&a, "A"), (&b, "B")] {
        let what = format!("C's IPv4 route at {name}, next hop 198.18.0.4");
        wait_for(&what, 30, || {
            route(m, "198.51.100.0/24").contains("BGP.next_hop: 198.18.0.4")
        })
        .await;
    }
    let at_c = c.birdc("show route all");
    assert!(
        !at_c.contains("203.0.113.0/24"),
        "C has no extended next hop: {at_c}"
    );
    // Nor was it sent the route in a form it did not negotiate (BIRD would log the error).
    let c_log = c.log();
    assert!(
        !c_log.contains("<RMT>") && !c_log.contains("<ERR>"),
        "{c_log}"
    );
    let log = rovgate.log();
    let negotiated = |name: &str, ext: bool| {
        log.lines().any(|l| {
            l.contains("session established")
                && l.contains(&format!("peer={name}"))
                && l.contains(&format!("extended_next_hop={ext}"))
        })
    };
    assert!(
        negotiated("m2", true) && negotiated("m3", true) && negotiated("m4", false),
        "{log}"
    );
}
