//! rovgate as a route server between BIRD 2 (sending) and OpenBGPD (receiving), and how it
//! treats connections it must refuse.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::support;
use crate::support::bgpd::Bgpd;
use crate::support::bird::{preamble, Bird};
use crate::support::daemon::Rovgate;
use crate::support::wait_for;

fn bird_member(n: u8, asn: u32, port: u16, rovgate_port: u16, routes: &[&str]) -> Bird {
    let ip = format!("127.0.0.{n}");
    let statics: String = routes
        .iter()
        .map(|r| format!("  route {r} blackhole;\n"))
        .collect();
    let config = format!(
        "{pre}protocol static s4 {{ ipv4;\n{statics}}}\n\
         filter add_tags {{ bgp_community.add(({asn},100)); bgp_large_community.add(({asn},1,2)); accept; }}\n\
         protocol bgp rsrv {{ local {ip} port {port} as {asn}; neighbor 127.0.0.1 port {rovgate_port} as 64500; \
         multihop; ipv4 {{ import all; export filter add_tags; next hop self; }}; }}\n",
        pre = preamble(&ip)
    );
    Bird::start(&format!("o{n}"), &config)
}

fn bgpd_member(n: u8, asn: u32, port: u16, rovgate_port: u16) -> Bgpd {
    let ip = format!("127.0.0.{n}");
    let config = format!(
        "AS {asn}\nrouter-id {ip}\nlisten on {ip} port {port}\nsocket \"SOCKET\"\n\
         neighbor 127.0.0.1 {{\n  remote-as 64500\n  local-address {ip}\n  port {rovgate_port}\n\
           enforce neighbor-as no\n  announce IPv6 unicast\n}}\nallow from any\nallow to any\n"
    );
    Bgpd::start(&format!("o{n}"), &config)
}

fn peer(n: u8, asn: u32, port: u16) -> String {
    format!(
        "[[peer]]\nname = \"m{n}\"\naddress = \"127.0.0.{n}\"\nasn = {asn}\nrole = \"rs-client\"\n\
         port = {port}\npassive = true\n\n"
    )
}

/// Expected: a route BIRD announces shows in OpenBGPD's RIB with BIRD's AS path (rovgate's
/// AS not prepended), BIRD's next hop, and its community and large community; a BIRD
/// shutdown withdraws it at OpenBGPD.
#[tokio::test]
async fn bird_routes_reach_openbgpd_unchanged() {
    if !support::tools_present(&["bird", "bgpd"]) {
        return;
    }
    let (pa, pb) = (support::free_port(), support::free_port());
    let rovgate = Rovgate::start("obgpd", &(peer(32, 64496, pa) + &peer(33, 64498, pb)));
    let bird = bird_member(
        32,
        64496,
        pa,
        rovgate.bgp_port,
        &["192.0.2.0/24", "198.51.100.0/25"],
    );
    let bgpd = bgpd_member(33, 64498, pb, rovgate.bgp_port);
    wait_for("OpenBGPD has the routes", 90, || {
        let rib = bgpd.bgpctl("show rib");
        rib.contains("198.51.100.0/25") && rib.contains("192.0.2.0/24")
    })
    .await;
    let detail = bgpd.bgpctl("show rib detail 192.0.2.0/24");
    assert!(detail.contains("64496"), "{detail}");
    assert!(
        !detail.contains("64500 64496"),
        "rovgate's AS must not be prepended: {detail}"
    );
    assert!(detail.contains("Nexthop 127.0.0.32"), "{detail}");
    assert!(detail.contains("64496:100"), "{detail}");
    assert!(detail.contains("64496:1:2"), "{detail}");
    bird.stop();
    wait_for("withdrawn at OpenBGPD", 30, || {
        !bgpd.bgpctl("show rib").contains("192.0.2.0/24")
    })
    .await;
}

/// Reads whatever the server sends until it closes (bounded).
fn read_all(stream: &mut TcpStream) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    out
}

/// The (code, subcode) of the first NOTIFICATION in a byte stream.
fn notification(bytes: &[u8]) -> Option<(u8, u8)> {
    let mut rest = bytes;
    while rest.len() >= 19 {
        let len = u16::from_be_bytes([rest[16], rest[17]]) as usize;
        if rest[18] == 3 && rest.len() >= 21 {
            return Some((rest[19], rest[20]));
        }
        rest = &rest[len.max(19).min(rest.len())..];
    }
    None
}

/// Expected: a connection from an address that is no configured peer gets Cease 6/5
/// (Connection Rejected); an OPEN with the wrong AS gets OPEN error 2/2 (Bad Peer AS).
/// The raw socket here stands in for a misconfigured router, which no real daemon is.
#[tokio::test]
async fn unknown_address_and_wrong_asn_are_refused() {
    let rovgate = Rovgate::start("refuse", &peer(42, 64496, support::free_port()));
    let target: SocketAddr = format!("127.0.0.1:{}", rovgate.bgp_port).parse().unwrap();
    let stranger = bind_connect("127.0.0.41", target);
    assert_eq!(notification(&read_all(&mut { stranger })), Some((6, 5)));
    let mut wrong_as = bind_connect("127.0.0.42", target);
    wrong_as
        .write_all(&misconfigured_router_open(64499))
        .unwrap();
    assert_eq!(notification(&read_all(&mut wrong_as)), Some((2, 2)));
}

fn bind_connect(from: &str, to: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let from: SocketAddr = format!("{from}:0").parse().unwrap();
    socket.bind(&from.into()).unwrap();
    socket.connect(&to.into()).unwrap();
    socket.into()
}

/// An OPEN from AS `asn` (2-octet), hold time 90, id 127.0.0.42, no capabilities.
fn misconfigured_router_open(asn: u16) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&29u16.to_be_bytes());
    m.push(1);
    m.push(4);
    m.extend_from_slice(&asn.to_be_bytes());
    m.extend_from_slice(&90u16.to_be_bytes());
    m.extend_from_slice(&[127, 0, 0, 42]);
    m.push(0);
    m
}
