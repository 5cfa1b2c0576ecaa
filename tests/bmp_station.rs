//! The BMP station against a hand-written BMP sender, `FakeBmpRouter`, for what no real
//! router sends on purpose: a malformed message, and a connection from a router that is not
//! listed. Real senders (FRR, GoBGP) are in `bmp_senders.rs`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use crate::support;
use crate::support::daemon::Rovgate;
use crate::support::raw_peer::{connect_from, message};

/// A BMP sender faking a router: writes BMP messages built by hand (RFC 7854 layouts).
struct FakeBmpRouter {
    stream: TcpStream,
}

impl FakeBmpRouter {
    fn connect(from: &str, station: SocketAddr) -> FakeBmpRouter {
        FakeBmpRouter {
            stream: connect_from(from, station, None),
        }
    }

    /// Sends a BMP message of `kind` with `body`.
    fn send(&mut self, kind: u8, body: &[u8]) {
        let mut m = vec![3];
        m.extend(u32::try_from(6 + body.len()).unwrap().to_be_bytes());
        m.push(kind);
        m.extend(body);
        self.stream.write_all(&m).unwrap();
    }

    /// Whether the station closed the stream (a read ends; it never sends anything).
    fn closed_by_station(&mut self) -> bool {
        let mut buf = [0; 16];
        matches!(self.stream.read(&mut buf), Ok(0) | Err(_))
    }
}

/// A per-peer header: global instance, pre-policy, neighbour 192.0.2.9 of AS 64496.
fn peer_header() -> Vec<u8> {
    let mut h = vec![0, 0];
    h.extend([0; 8 + 12]);
    h.extend([192, 0, 2, 9]);
    h.extend(64496u32.to_be_bytes());
    h.extend([192, 0, 2, 9]);
    h.extend([0; 8]);
    h
}

/// A BGP UPDATE announcing 192.0.2.0/24 with AS_PATH 64496 65001 (4-octet).
fn update() -> Vec<u8> {
    let attrs = [
        &[0x40, 1, 1, 0][..],
        &[0x40, 2, 10, 2, 2, 0, 0, 0xfb, 0xf0, 0, 0, 0xfd, 0xe9],
        &[0x40, 3, 4, 192, 0, 2, 9],
    ]
    .concat();
    let mut body = vec![0, 0, 0, u8::try_from(attrs.len()).unwrap()];
    body.extend(attrs);
    body.extend([24, 192, 0, 2]);
    message(2, &body)
}

/// Expected: a listed router's route reaches the report as `router/neighbour`; a malformed
/// message (Route Monitoring carrying a KEEPALIVE) closes that router's stream with a log
/// line and nothing else: rovgate runs on and the neighbour's route stays (for
/// `hold_seconds`); an unlisted router is refused.
#[tokio::test]
async fn a_malformed_message_closes_only_that_routers_stream() {
    support::init_logs();
    let bmp = "[bmp]\nhold_seconds = 600\n[[bmp.listen]]\naddress = \"127.0.0.1:0\"\n\
               [[bmp.router]]\nname = \"fake\"\naddress = \"127.0.0.61\"\nrole = \"customer\"\n";
    let rovgate = Rovgate::start("bmp-fake", bmp);
    let station: SocketAddr = format!("127.0.0.1:{}", rovgate.bmp_port).parse().unwrap();
    let mut router = FakeBmpRouter::connect("127.0.0.61", station);
    router.send(4, &[&[0, 2, 0, 4][..], b"fake"].concat());
    router.send(0, &[peer_header(), update()].concat());
    let name = "fake/192.0.2.9";
    support::wait_for("the neighbour's route", 20, || {
        rovgate.peer_status(name).is_some_and(|p| p["routes"] == 1)
    })
    .await;

    router.send(0, &[peer_header(), message(4, &[])].concat());
    assert!(router.closed_by_station(), "the stream is closed");
    let log = rovgate.log();
    assert!(
        log.contains("malformed BMP message: closing the router's stream")
            && log.contains("expected an UPDATE"),
        "{log}"
    );
    let peer = rovgate.peer_status(name).expect("rovgate runs on");
    assert_eq!(peer["routes"], 1, "the route stays: {peer}");

    let mut stranger = FakeBmpRouter::connect("127.0.0.62", station);
    assert!(
        stranger.closed_by_station(),
        "an unlisted router is refused"
    );
    support::wait_for("the refusal's log line", 10, || {
        rovgate
            .log()
            .contains("BMP connection from an unlisted router: refused")
    })
    .await;
}

/// Expected: when a router disconnects, its neighbours' routes stay for `hold_seconds`, then
/// its neighbours leave the status and the report.
#[tokio::test]
async fn a_gone_routers_neighbours_are_removed_after_the_hold_time() {
    let bmp = "[bmp]\nhold_seconds = 1\n[[bmp.listen]]\naddress = \"127.0.0.1:0\"\n\
               [[bmp.router]]\nname = \"gone\"\naddress = \"127.0.0.63\"\n";
    let rovgate = Rovgate::start("bmp-hold", bmp);
    let station: SocketAddr = format!("127.0.0.1:{}", rovgate.bmp_port).parse().unwrap();
    let mut router = FakeBmpRouter::connect("127.0.0.63", station);
    router.send(0, &[peer_header(), update()].concat());
    let name = "gone/192.0.2.9";
    support::wait_for("the neighbour's route", 20, || {
        (rovgate.peer_status(name)).is_some_and(|p| p["routes"] == 1)
    })
    .await;
    drop(router);
    support::wait_for("the neighbour removed", 20, || {
        rovgate.status().is_some() && rovgate.peer_status(name).is_none()
    })
    .await;
    assert!(rovgate.log().contains("BMP router gone for the hold time"));
}
