//! ADD-PATH (RFC 7911) towards real BIRD 2 route-server clients with `add paths rx` in
//! one or both of their channels, between real BIRD members.

use crate::support;
use crate::support::bird::{preamble, Bird};
use crate::support::daemon::Rovgate;
use crate::support::wait_for;

/// The prefixes every member announces, IPv4 and IPv6.
const PREFIX: &str = "198.51.100.0/24";
const PREFIX6: &str = "2001:db8:100::/48";

/// A BIRD at 127.0.0.N (AS `asn`) peering with rovgate on `port` over one session with an
/// IPv4 and an IPv6 channel; it announces [`PREFIX`] and [`PREFIX6`] when `announces`;
/// `rx` names the channels that get `add paths rx;`. Each accepts paths with its own AS
/// (`allow local as`) so that a path of its own sent back would show.
fn member(n: u8, asn: u32, port: u16, rovgate_port: u16, announces: bool, rx: &[&str]) -> Bird {
    let ip = format!("127.0.0.{n}");
    let route = |prefix: &str| match announces {
        true => format!("route {prefix} blackhole;"),
        false => String::new(),
    };
    let add_paths = |channel: &str| match rx.contains(&channel) {
        true => "add paths rx;",
        false => "",
    };
    let config = format!(
        "{pre}protocol static s4 {{ ipv4; {r4} }}\nprotocol static s6 {{ ipv6; {r6} }}\n\
         protocol bgp rsrv {{ local {ip} port {port} as {asn}; neighbor 127.0.0.1 port {rovgate_port} as 64500; \
         multihop; allow local as; ipv4 {{ import all; export all; next hop self; {rx4} }}; \
         ipv6 {{ import all; export all; next hop address 2001:db8::{n}; {rx6} }}; }}\n",
        pre = preamble(&ip),
        r4 = route(PREFIX),
        r6 = route(PREFIX6),
        rx4 = add_paths("ipv4"),
        rx6 = add_paths("ipv6"),
    );
    Bird::start(&format!("ap{n}"), &config)
}

/// The AS_PATHs of the paths a BIRD holds for `prefix` from rovgate, sorted.
fn paths(bird: &Bird, prefix: &str) -> Vec<String> {
    let out = bird.birdc(&format!("show route {prefix} protocol rsrv all"));
    let mut paths: Vec<String> = (out.lines())
        .filter_map(|l| l.trim().strip_prefix("BGP.as_path:"))
        .map(|p| p.trim().to_string())
        .collect();
    paths.sort();
    paths
}

/// Expected: members 64496, 64497 and 64498 announce the same prefixes; the ADD-PATH
/// client 64501 (`add paths rx` in both channels; it announces them too) holds all three
/// paths of each family, the client 64498 (`add paths rx` for IPv4 only; RFC 7911
/// negotiates per family) every IPv4 path but its own and only the best IPv6 one, a plain
/// client (64499) only the best. When 64496 withdraws, the ADD-PATH clients lose exactly
/// that path, and the IPv6 path of 64498 becomes the next best, 64497's.
#[tokio::test]
async fn an_add_path_client_gets_every_path_of_its_add_path_families() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    // (last octet, AS, BIRD's port, rovgate's add_path, BIRD's channels with `add paths rx`)
    let peers: Vec<(u8, u32, u16, &str, &[&str])> = vec![
        (141, 64496, support::free_port(), "off", &[]),
        (142, 64497, support::free_port(), "off", &[]),
        (143, 64498, support::free_port(), "send", &["ipv4"]),
        (144, 64499, support::free_port(), "off", &[]),
        (145, 64501, support::free_port(), "send", &["ipv4", "ipv6"]),
    ];
    let config: String = (peers.iter())
        .map(|(n, asn, port, add_path, _)| {
            format!(
                "[[peer]]\nname = \"ap{n}\"\naddress = \"127.0.0.{n}\"\nasn = {asn}\n\
                 role = \"rs-client\"\nport = {port}\npassive = true\nadd_path = \"{add_path}\"\n\n"
            )
        })
        .collect();
    let rovgate = Rovgate::start("add-path", &config);
    let birds: Vec<Bird> = (peers.iter())
        .map(|&(n, asn, port, _, rx)| member(n, asn, port, rovgate.bgp_port, n != 144, rx))
        .collect();
    let [first, _, v4_only, plain, client] = &birds[..] else {
        unreachable!("five members")
    };
    wait_for("every session up", 60, || {
        birds.iter().all(|b| b.established("rsrv"))
    })
    .await;
    for prefix in [PREFIX, PREFIX6] {
        let what = format!("every {prefix} path at the ADD-PATH client");
        wait_for(&what, 30, || {
            paths(client, prefix) == ["64496", "64497", "64498"]
        })
        .await;
    }
    wait_for("every IPv4 path at the IPv4 ADD-PATH client", 30, || {
        paths(v4_only, PREFIX) == ["64496", "64497", "64501"]
    })
    .await;
    for bird in [v4_only, plain] {
        wait_for("the best IPv6 path alone", 30, || {
            paths(bird, PREFIX6) == ["64496"]
        })
        .await;
    }
    let proto = v4_only.birdc("show protocols all rsrv");
    let theirs = proto
        .split("Neighbor capabilities")
        .nth(1)
        .unwrap_or_default();
    assert!(
        theirs.contains("ADD-PATH"),
        "no ADD-PATH from rovgate: {proto}"
    );
    assert!(
        theirs.contains("TX: ipv4"),
        "ADD-PATH not sent for IPv4: {proto}"
    );
    wait_for("the best path at the plain client", 30, || {
        paths(plain, PREFIX).len() == 1
    })
    .await;
    // The best: as short as the others, from the lowest address.
    assert_eq!(paths(plain, PREFIX), ["64496"], "only the best path");
    first.birdc("disable s4");
    first.birdc("disable s6");
    let left: [(&Bird, &str, &[&str]); 4] = [
        (client, PREFIX, &["64497", "64498"]),
        (client, PREFIX6, &["64497", "64498"]),
        (v4_only, PREFIX, &["64497", "64501"]),
        (v4_only, PREFIX6, &["64497"]),
    ];
    for (bird, prefix, expected) in left {
        wait_for(&format!("64496's {prefix} path gone"), 30, || {
            paths(bird, prefix) == expected
        })
        .await;
    }
    let log = rovgate.log();
    assert!(log.contains("add_path=[Ipv4Unicast]"), "{log}");
    assert!(log.contains("add_path=[Ipv4Unicast, Ipv6Unicast]"), "{log}");
}
