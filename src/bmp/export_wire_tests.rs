//! Peer Up as rovgate writes it, read back by netgauze.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use netgauze_bgp_pkt::BgpMessage;
use netgauze_bmp_pkt::wire::deserializer::BmpParsingContext;
use netgauze_bmp_pkt::{v3, BmpMessage};
use netgauze_parse_utils::reader::SliceReader;
use netgauze_parse_utils::traits::ParseFromWithOneInput;

use super::*;
use crate::policy::RovMode;
use crate::route::{Asn, PeerId};

/// An OPEN without optional parameters, whole.
fn open(my_as: u16, hold_time: u16, id: [u8; 4]) -> Vec<u8> {
    let mut open = vec![0xff; 16];
    open.extend([0, 29, 1, 4]);
    open.extend(my_as.to_be_bytes());
    open.extend(hold_time.to_be_bytes());
    open.extend(id);
    open.push(0);
    open
}

/// Member 0 (AS 64496 at 192.0.2.7), up, with `session` (also the stream tests' member).
pub(in crate::bmp) fn member(session: Option<SessionUp>) -> PeerView {
    PeerView {
        id: PeerId(0),
        name: "m".into(),
        address: IpAddr::from([192, 0, 2, 7]),
        asn: Asn(64496),
        monitored: false,
        rov: RovMode::Drop,
        checks: Default::default(),
        up: true,
        families: Default::default(),
        pending: 0,
        last_down: None,
        session: session.map(Arc::new),
        counts: Default::default(),
        would_drop: 0,
        abuse: Default::default(),
    }
}

/// The Peer Up `bytes` hold, read by netgauze.
fn read(bytes: &[u8]) -> v3::PeerUpNotificationMessage {
    let mut ctx = BmpParsingContext::default();
    match BmpMessage::parse(&mut SliceReader::new(bytes), &mut ctx) {
        Ok(BmpMessage::V3(v3::BmpMessageValue::PeerUpNotification(up))) => up,
        other => panic!("not a Peer Up: {other:?}"),
    }
}

fn hold_and_id(message: &BgpMessage) -> (u16, Ipv4Addr) {
    match message {
        BgpMessage::Open(open) => (open.hold_time(), open.bgp_id()),
        other => panic!("not an OPEN: {other:?}"),
    }
}

/// Expected: a member's Peer Up carries its session's OPENs byte for byte (the peer's
/// hold time and BGP Identifier, which rovgate's config does not hold), that identifier in
/// the per-peer header, rovgate's address and both ports; a member that never had a
/// session gets none.
#[test]
fn a_members_peer_up_carries_the_opens_exchanged() {
    let session = SessionUp {
        sent_open: open(64500, 90, [192, 0, 2, 254]).into(),
        received_open: open(64496, 33, [198, 51, 100, 77]).into(),
        peer_router_id: [198, 51, 100, 77].into(),
        local: Some("192.0.2.1:179".parse().unwrap()),
        remote: Some("192.0.2.7:50123".parse().unwrap()),
    };
    let bytes = peer_up(&member(Some(session.clone()))).expect("a Peer Up");
    let at = bytes.len() - 2 * 29;
    assert_eq!(&bytes[at..at + 29], &session.sent_open[..], "sent, as sent");
    assert_eq!(
        &bytes[at + 29..],
        &session.received_open[..],
        "received, as received"
    );
    let up = read(&bytes);
    let peer_id = Ipv4Addr::new(198, 51, 100, 77);
    assert_eq!(up.peer_header().bgp_id(), peer_id);
    assert_eq!(hold_and_id(up.received_message()), (33, peer_id));
    let ours = (90, Ipv4Addr::new(192, 0, 2, 254));
    assert_eq!(hold_and_id(up.sent_message()), ours);
    assert_eq!(up.local_address(), Some(IpAddr::from([192, 0, 2, 1])));
    assert_eq!(
        (up.local_port(), up.remote_port()),
        (Some(179), Some(50123))
    );
    assert_eq!(peer_up(&member(None)), None);
}

/// Expected: the Loc-RIB instance's Peer Up carries one OPEN of rovgate's, twice.
#[test]
fn the_loc_rib_peer_up_carries_one_fabricated_open_twice() {
    let local = Local {
        asn: 64500,
        router_id: [192, 0, 2, 254].into(),
        tagging: Tagging::euro_ix(64500),
    };
    let up = read(&loc_rib_up(&local));
    assert_eq!(up.sent_message(), up.received_message());
    let ours = (HOLD_TIME, Ipv4Addr::new(192, 0, 2, 254));
    assert_eq!(hold_and_id(up.sent_message()), ours);
}
