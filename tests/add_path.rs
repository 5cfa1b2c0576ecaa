//! ADD-PATH (RFC 7911) towards a real BIRD 2 route-server client with `add paths rx`,
//! between real BIRD members.

use crate::support;
use crate::support::bird::{preamble, Bird};
use crate::support::daemon::Rovgate;
use crate::support::wait_for;

/// The prefix every member announces.
const PREFIX: &str = "198.51.100.0/24";

/// A BIRD at 127.0.0.N (AS `asn`) peering with rovgate on `port`; it announces [`PREFIX`]
/// when `announces`; `channel` goes into its IPv4 channel (`add paths rx;` for the
/// ADD-PATH client). Each accepts paths with its own AS (`allow local as`) so that a path
/// of its own sent back would show.
fn member(n: u8, asn: u32, port: u16, rovgate_port: u16, announces: bool, channel: &str) -> Bird {
    let ip = format!("127.0.0.{n}");
    let route = if announces {
        format!("route {PREFIX} blackhole;")
    } else {
        String::new()
    };
    let config = format!(
        "{pre}protocol static s4 {{ ipv4; {route} }}\n\
         protocol bgp rsrv {{ local {ip} port {port} as {asn}; neighbor 127.0.0.1 port {rovgate_port} as 64500; \
         multihop; allow local as; ipv4 {{ import all; export all; next hop self; {channel} }}; }}\n",
        pre = preamble(&ip),
    );
    Bird::start(&format!("ap{n}"), &config)
}

/// The AS_PATHs of the paths a BIRD holds for [`PREFIX`] from rovgate, sorted.
fn paths(bird: &Bird) -> Vec<String> {
    let out = bird.birdc(&format!("show route {PREFIX} protocol rsrv all"));
    let mut paths: Vec<String> = (out.lines())
        .filter_map(|l| l.trim().strip_prefix("BGP.as_path:"))
        .map(|p| p.trim().to_string())
        .collect();
    paths.sort();
    paths
}

/// Expected: members 64496 and 64497 announce the same prefix; the ADD-PATH client
/// (64498, which announces it too) holds both their paths and never its own; a plain client
/// (64499) holds only the best; when 64496 withdraws, the ADD-PATH client loses exactly
/// that path and keeps 64497's.
#[tokio::test]
async fn an_add_path_client_gets_every_path_and_loses_only_the_withdrawn_one() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    // (last octet, AS, BIRD's port, rovgate's add_path)
    let peers: Vec<(u8, u32, u16, &str)> = vec![
        (141, 64496, support::free_port(), "off"),
        (142, 64497, support::free_port(), "off"),
        (143, 64498, support::free_port(), "send"),
        (144, 64499, support::free_port(), "off"),
    ];
    let config: String = (peers.iter())
        .map(|(n, asn, port, add_path)| {
            format!(
                "[[peer]]\nname = \"ap{n}\"\naddress = \"127.0.0.{n}\"\nasn = {asn}\n\
                 role = \"rs-client\"\nport = {port}\npassive = true\nadd_path = \"{add_path}\"\n\n"
            )
        })
        .collect();
    let rovgate = Rovgate::start("add-path", &config);
    let birds: Vec<Bird> = (peers.iter())
        .map(|&(n, asn, port, add_path)| {
            let channel = if add_path == "send" {
                "add paths rx;"
            } else {
                ""
            };
            member(n, asn, port, rovgate.bgp_port, n != 144, channel)
        })
        .collect();
    let [first, _, client, plain] = &birds[..] else {
        unreachable!("four members")
    };
    wait_for("every session up", 60, || {
        birds.iter().all(|b| b.established("rsrv"))
    })
    .await;
    let both = ["64496".to_string(), "64497".to_string()];
    wait_for("both paths at the ADD-PATH client", 30, || {
        paths(client) == both
    })
    .await;
    let proto = client.birdc("show protocols all rsrv");
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
        paths(plain).len() == 1
    })
    .await;
    // The best: as short as 64497's and 64498's, from the lowest address.
    assert_eq!(paths(plain), ["64496"], "only the best path");
    first.birdc("disable s4");
    wait_for("64496's path gone at the ADD-PATH client", 30, || {
        paths(client) == ["64497"]
    })
    .await;
    let log = rovgate.log();
    assert!(log.contains("add_path=true"), "{log}");
}
