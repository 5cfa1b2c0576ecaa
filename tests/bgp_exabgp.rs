//! rovgate between ExaBGP peers: a 4-octet-AS peer and a 2-octet-only peer (RFC 6793).

use crate::support;
use crate::support::daemon::Rovgate;
use crate::support::exabgp::Exabgp;

fn peer(n: u8, asn: u32, port: u16) -> String {
    format!(
        "[[peer]]\nname = \"e{n}\"\naddress = \"127.0.0.{n}\"\nasn = {asn}\nrole = \"rs-client\"\n\
         port = {port}\npassive = true\n\n"
    )
}

fn neighbor(n: u8, asn: u32, rovgate_port: u16, extra: &str) -> String {
    format!(
        "  router-id 127.0.0.{n};\n  local-address 127.0.0.{n};\n  local-as {asn};\n  peer-as 64500;\n\
           connect {rovgate_port};\n  hold-time 30;\n{extra}"
    )
}

/// Expected: a route from a 4-octet-AS peer reaches a 2-octet-only peer with AS_TRANS in
/// AS_PATH and the real path in AS4_PATH; a route from the 2-octet peer reaches the 4-octet
/// peer with its 2-octet path intact. Large and extended communities pass through, but
/// for the RFC 8097 origin validation state the 4-octet peer forges ("valid"): only
/// rovgate may set it (RFC 8097 §2), so it strips it from what peers send.
#[tokio::test]
async fn four_octet_and_two_octet_peers_exchange_routes() {
    if !support::tools_present(&["exabgp"]) {
        return;
    }
    let rovgate = Rovgate::start(
        "exa",
        &(peer(51, 4_200_000_001, support::free_port()) + &peer(52, 64510, support::free_port())),
    );
    let four = Exabgp::start(
        "four",
        &neighbor(51, 4_200_000_001, rovgate.bgp_port,
            "  static {\n    route 203.0.113.0/24 next-hop 127.0.0.51 as-path [ 4200000001 65010 ] large-community [ 4200000001:1:1 ] \
             extended-community [ target:65010:7 0x4300000000000000 ];\n  }\n"),
    );
    let two = Exabgp::start(
        "two",
        &neighbor(52, 64510, rovgate.bgp_port,
            "  capability { asn4 disable; }\n  static {\n    route 198.51.100.0/24 next-hop 127.0.0.52 as-path [ 64510 65020 ];\n  }\n"),
    );
    let what = "both routes delivered";
    support::wait_for(what, 90, || {
        two.received().contains("203.0.113.0/24") && four.received().contains("198.51.100.0/24")
    })
    .await;
    let at_two = two.received();
    let line = at_two
        .lines()
        .find(|l| l.contains("203.0.113.0/24"))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let attrs = &v["neighbor"]["message"]["update"]["attribute"];
    // ExaBGP merges AS_PATH and AS4_PATH (RFC 6793 §4.2.3) before printing: on a session
    // without 4-octet ASNs, 4200000001 can only have arrived in AS4_PATH, with AS_TRANS
    // standing in for it in AS_PATH.
    assert_eq!(
        attrs["as-path"],
        serde_json::json!([4_200_000_001u32, 65010]),
        "{line}"
    );
    let wire = at_two.to_uppercase();
    // On the wire: AS_PATH = SEQUENCE(23456, 65010), AS4_PATH = SEQUENCE(4200000001, 65010).
    assert!(
        wire.contains("40020602025BA0FDF2"),
        "AS_PATH with AS_TRANS: {at_two}"
    );
    assert!(
        wire.contains("C0110A0202FA56EA010000FDF2"),
        "AS4_PATH: {at_two}"
    );
    // EXTENDED COMMUNITIES: the route target 65010:7 alone.
    assert!(wire.contains("C010080002FDF200000007"), "{at_two}");
    assert!(
        !wire.contains("4300000000000000"),
        "forged RFC 8097 state: {at_two}"
    );
    assert_eq!(
        attrs["large-community"],
        serde_json::json!([[4_200_000_001u32, 1, 1]]),
        "{line}"
    );
    let at_four = four.received();
    let line = at_four
        .lines()
        .find(|l| l.contains("198.51.100.0/24"))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(
        v["neighbor"]["message"]["update"]["attribute"]["as-path"],
        serde_json::json!([64510, 65020]),
        "{line}"
    );
    drop(rovgate);
}

/// Expected: over BGP sessions on IPv6 transport, an IPv4 route and an IPv6 route from one
/// peer both reach the other (IPv4 NLRI over an IPv6 session), in a test network namespace.
#[tokio::test]
async fn ipv4_and_ipv6_routes_over_ipv6_sessions() {
    if !support::tools_present(&["exabgp"]) {
        return;
    }
    let ns = support::netns::Netns::new("v6", &["2001:db8::1", "2001:db8::2", "2001:db8::3"]);
    let peer = |n: u8, asn: u32| {
        format!("[[peer]]\nname = \"x{n}\"\naddress = \"2001:db8::{n}\"\nasn = {asn}\nrole = \"rs-client\"\npassive = true\n\n")
    };
    let rovgate = Rovgate::start_in(
        Some(&ns.name),
        "[2001:db8::1]",
        "v6",
        &(peer(2, 64496) + &peer(3, 64497)),
    );
    let body = |n: u8, asn: u32, routes: &str| {
        format!(
            "  router-id 198.18.0.{n};\n  local-address 2001:db8::{n};\n  local-as {asn};\n  peer-as 64500;\n\
               connect {};\n  family {{ ipv4 unicast; ipv6 unicast; }}\n{routes}",
            rovgate.bgp_port
        )
    };
    let routes =
        "  static {\n    route 203.0.113.0/24 next-hop 198.18.0.2 as-path [ 64496 ];\n    \
                  route 2001:db8:2::/48 next-hop 2001:db8::2 as-path [ 64496 ];\n  }\n";
    let _sender = Exabgp::start_in(
        Some(&ns.name),
        "2001:db8::1",
        "v6a",
        &body(2, 64496, routes),
    );
    let receiver = Exabgp::start_in(Some(&ns.name), "2001:db8::1", "v6b", &body(3, 64497, ""));
    support::wait_for("both routes over IPv6 sessions", 90, || {
        let r = receiver.received();
        r.contains("203.0.113.0/24") && r.contains("2001:db8:2::/48")
    })
    .await;
}
