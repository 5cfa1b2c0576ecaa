//! RFC 7606 through the whole daemon: a peer sends malformed UPDATEs; BIRD on the other
//! side shows what got through, the status and `/metrics` count them. The sender is `MalformedUpdatePeer`, a raw-socket fake that
//! stands in for what no real BGP speaker will send: deliberately broken UPDATEs.

use std::net::SocketAddr;

use crate::support;
use crate::support::bird::{preamble, Bird};
use crate::support::daemon::Rovgate;
use crate::support::raw_peer::RawPeer;

/// An UPDATE body: no withdrawals, these attributes, these IPv4 NLRI bytes.
fn update(attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0];
    b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    b.extend_from_slice(attrs);
    b.extend_from_slice(nlri);
    b
}

/// ORIGIN, AS_PATH (AS 64496 then 65001, 4-octet), NEXT_HOP 127.0.0.61.
fn good_attrs(origin: u8) -> Vec<u8> {
    let mut a = vec![0x40, 1, 1, origin];
    a.extend_from_slice(&[0x40, 2, 10, 2, 2, 0, 0, 0xfb, 0xf0, 0, 0, 0xfd, 0xe9]);
    a.extend_from_slice(&[0x40, 3, 4, 127, 0, 0, 61]);
    a
}

/// A raw BGP speaker at 127.0.0.61 (AS 64496) that sends whatever UPDATE it is given.
struct MalformedUpdatePeer(RawPeer);

impl MalformedUpdatePeer {
    fn connect(to: SocketAddr) -> Self {
        MalformedUpdatePeer(RawPeer::connect("127.0.0.61", 64496, to, None))
    }

    fn send_update(&mut self, body: &[u8]) {
        self.0.send(2, body);
    }

    fn notification(&mut self) -> Option<(u8, u8)> {
        self.0.notification()
    }
}

/// Attributes whose total length says 200 bytes; the message has 20 (resets the session).
fn overrunning_attrs() -> Vec<u8> {
    let mut broken = vec![0, 0, 0, 200];
    broken.extend_from_slice(&good_attrs(0));
    broken
}

/// Expected: an UPDATE with a malformed ORIGIN is treated as withdraw (RFC 7606 §7.1) and
/// the session stays up, so a later good UPDATE still gets through; an UPDATE whose
/// attribute list overruns the message resets the session with 3/1 (Malformed Attribute
/// List).
#[tokio::test]
async fn malformed_attribute_is_treat_as_withdraw_and_broken_list_resets() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let port = support::free_port();
    let peers = format!(
        "[[peer]]\nname = \"fake\"\naddress = \"127.0.0.61\"\nasn = 64496\nrole = \"rs-client\"\npassive = true\n\n\
         [[peer]]\nname = \"bird\"\naddress = \"127.0.0.62\"\nasn = 64497\nrole = \"rs-client\"\npassive = true\nport = {port}\n"
    );
    let rovgate = Rovgate::start("malformed", &peers);
    let bird = Bird::start(
        "mal",
        &format!(
            "{}protocol bgp rsrv {{ local 127.0.0.62 port {port} as 64497; neighbor 127.0.0.1 port {} as 64500; \
             multihop; ipv4 {{ import all; export none; }}; }}\n",
            preamble("127.0.0.62"),
            rovgate.bgp_port
        ),
    );
    support::wait_for("BIRD up", 60, || bird.established("rsrv")).await;
    let target: SocketAddr = format!("127.0.0.1:{}", rovgate.bgp_port).parse().unwrap();
    let mut fake = MalformedUpdatePeer::connect(target);
    fake.send_update(&update(&good_attrs(0), &[24, 192, 0, 2]));
    fake.send_update(&update(&good_attrs(5), &[24, 198, 51, 100])); // ORIGIN 5: malformed
    fake.send_update(&update(&good_attrs(0), &[24, 203, 0, 113]));
    let routes = || bird.birdc("show route protocol rsrv");
    support::wait_for("good routes at BIRD", 30, || {
        let r = routes();
        r.contains("192.0.2.0/24") && r.contains("203.0.113.0/24")
    })
    .await;
    assert!(
        !routes().contains("198.51.100.0/24"),
        "the malformed route is withdrawn"
    );
    fake.send_update(&overrunning_attrs());
    assert_eq!(fake.notification(), Some((3, 1)));
    support::wait_for("the fake's routes withdrawn at BIRD", 30, || {
        !routes().contains("192.0.2.0/24")
    })
    .await;
}

/// Expected: each malformed UPDATE is counted for its peer by RFC 7606 outcome, in the
/// status (`abuse.malformed`) and in `rovgate_updates_malformed_total{peer,reason}`: a
/// malformed ORIGIN as treat-as-withdraw, a malformed ATOMIC_AGGREGATE as attribute
/// discard, an attribute list overrunning the message as session reset; the 3/1 sent for
/// it and a Cease another peer sends are counted by code and subcode.
#[tokio::test]
async fn malformed_updates_and_notifications_are_counted_per_peer() {
    let peers = "[[peer]]\nname = \"fake\"\naddress = \"127.0.0.61\"\nasn = 64496\nrole = \"rs-client\"\npassive = true\n\n\
                 [[peer]]\nname = \"quitter\"\naddress = \"127.0.0.63\"\nasn = 64498\nrole = \"rs-client\"\npassive = true\n";
    let rovgate = Rovgate::start("malformed-counted", peers);
    let target: SocketAddr = format!("127.0.0.1:{}", rovgate.bgp_port).parse().unwrap();
    let counts = |name: &str| rovgate.peer_status(name).map(|p| p["abuse"].clone());
    let mut fake = MalformedUpdatePeer::connect(target);
    fake.send_update(&update(&good_attrs(5), &[24, 198, 51, 100])); // ORIGIN 5
    let atomic_aggregate_len_1 = [good_attrs(0), vec![0x40, 6, 1, 0]].concat();
    fake.send_update(&update(&atomic_aggregate_len_1, &[24, 192, 0, 2]));
    support::wait_for("treat-as-withdraw and discard counted", 30, || {
        counts("fake").is_some_and(|a| {
            a["malformed"]["treat_as_withdraw"] == 1 && a["malformed"]["attribute_discard"] == 1
        })
    })
    .await;
    fake.send_update(&overrunning_attrs());
    assert_eq!(fake.notification(), Some((3, 1)));
    support::wait_for("the session reset counted", 30, || {
        counts("fake").is_some_and(|a| a["malformed"]["session_reset"] == 1)
    })
    .await;
    let fake_counts = counts("fake").unwrap();
    assert_eq!(fake_counts["notifications_sent"], 1, "{fake_counts}");
    assert_eq!(fake_counts["notifications_received"], 0, "{fake_counts}");

    let mut quitter = RawPeer::connect("127.0.0.63", 64498, target, None);
    support::wait_for("the quitter up", 30, || {
        rovgate
            .peer_status("quitter")
            .is_some_and(|p| p["up"] == true)
    })
    .await;
    quitter.send(3, &[6, 2]); // Cease / Administrative Shutdown
    support::wait_for("the quitter's NOTIFICATION counted", 30, || {
        counts("quitter").is_some_and(|a| a["notifications_received"] == 1)
    })
    .await;

    let metrics = rovgate.metrics();
    for line in [
        r#"rovgate_updates_malformed_total{peer="fake",reason="treat_as_withdraw"} 1"#,
        r#"rovgate_updates_malformed_total{peer="fake",reason="attribute_discard"} 1"#,
        r#"rovgate_updates_malformed_total{peer="fake",reason="session_reset"} 1"#,
        r#"rovgate_notifications_sent_total{peer="fake",code="3",subcode="1"} 1"#,
        r#"rovgate_notifications_received_total{peer="quitter",code="6",subcode="2"} 1"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
    let log = rovgate.log();
    assert!(
        log.contains("malformed UPDATE: its routes are treated as withdrawn"),
        "treat-as-withdraw is logged above debug: {log}"
    );
}
