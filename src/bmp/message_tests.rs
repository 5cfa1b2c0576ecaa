//! BMP messages built byte by byte as RFC 7854 lays them out, read back.

use bytes::BytesMut;
use tokio_util::codec::Decoder;

use super::*;
use crate::bgp::wire::{decode_update, Caps, MAX_LEN_EXTENDED};

const PRE: u8 = 0;
const POST: u8 = 0x40;
const OUT: u8 = 0x10;
const ASN2: u8 = 0x20;

/// A whole BMP message of type `kind`.
fn bmp(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![3];
    m.extend(u32::try_from(6 + body.len()).unwrap().to_be_bytes());
    m.push(kind);
    m.extend(body);
    m
}

/// A per-peer header: peer type, flags, an IPv4 neighbour, AS 64496.
fn peer_header(peer_type: u8, flags: u8, address: [u8; 4]) -> Vec<u8> {
    let mut h = vec![peer_type, flags];
    h.extend([0; 8]);
    h.extend([0; 12]);
    h.extend(address);
    h.extend(64496u32.to_be_bytes());
    h.extend([192, 0, 2, 9]);
    h.extend([0; 8]);
    h
}

/// A BGP message of `kind` with `body`.
fn bgp(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend(u16::try_from(19 + body.len()).unwrap().to_be_bytes());
    m.push(kind);
    m.extend(body);
    m
}

/// An UPDATE announcing 192.0.2.0/24 from AS 64496 (4-octet AS_PATH).
fn update() -> Vec<u8> {
    let attrs = [
        &[0x40, 1, 1, 0][..],
        &[0x40, 2, 6, 2, 1, 0, 0, 0xfb, 0xf0],
        &[0x40, 3, 4, 192, 0, 2, 9],
    ]
    .concat();
    let mut body = vec![0, 0];
    body.extend(u16::try_from(attrs.len()).unwrap().to_be_bytes());
    body.extend(attrs);
    body.extend([24, 192, 0, 2]);
    bgp(2, &body)
}

/// An OPEN of AS 64496 with 4-octet ASNs, IPv4 unicast, and ADD-PATH send/receive when
/// `add_path`.
fn open(add_path: bool) -> Vec<u8> {
    let mut caps = vec![1, 4, 0, 1, 0, 1, 65, 4, 0, 0, 0xfb, 0xf0];
    if add_path {
        caps.extend([69, 4, 0, 1, 1, 3]);
    }
    let mut body = vec![4, 0xfb, 0xf0, 0, 90, 192, 0, 2, 9];
    body.push(u8::try_from(caps.len() + 2).unwrap());
    body.extend([2, u8::try_from(caps.len()).unwrap()]);
    body.extend(caps);
    bgp(1, &body)
}

fn peer_up(add_path: bool) -> Vec<u8> {
    let mut body = peer_header(0, PRE, [192, 0, 2, 9]);
    body.extend([0; 12]);
    body.extend([192, 0, 2, 1]);
    body.extend([0, 179, 0xc3, 0x50]);
    body.extend(open(add_path));
    body.extend(open(add_path));
    bmp(3, &body)
}

fn route(peer_type: u8, flags: u8) -> Vec<u8> {
    bmp(
        0,
        &[peer_header(peer_type, flags, [192, 0, 2, 9]), update()].concat(),
    )
}

#[test]
fn route_monitoring_keeps_the_update_for_the_sessions_decoder() {
    let message = route(0, PRE);
    let mut reader = Reader::default();
    let Ok(Message::Route {
        neighbour,
        view,
        as4,
        ids,
        update: bytes,
    }) = reader.read(&message)
    else {
        panic!("a route");
    };
    assert_eq!(neighbour.address, Some([192, 0, 2, 9].into()));
    assert_eq!(neighbour.asn, 64496);
    assert_eq!((view, as4, ids.any()), (View::PrePolicy, true, false));
    assert_eq!(bytes, update());
    let caps = Caps {
        as4,
        max_len: MAX_LEN_EXTENDED,
        rov_ext_community: false,
        extended_next_hop: false,
    };
    let decoded = decode_update(bytes, &caps).expect("decodes");
    let (attrs, prefixes) = &decoded.announced[0];
    assert_eq!(prefixes, &["192.0.2.0/24".parse().unwrap()]);
    assert_eq!(attrs.as_path.origin(), Some(crate::route::Asn(64496)));
}

#[test]
fn the_peer_type_and_flags_name_the_view() {
    let cases = [
        ("pre-policy", 0, PRE, View::PrePolicy, true),
        ("post-policy", 0, POST, View::PostPolicy, true),
        ("2-octet AS_PATH", 0, ASN2, View::PrePolicy, false),
        ("RD instance, post-policy", 1, POST, View::PostPolicy, true),
        ("Adj-RIB-Out (RFC 8671)", 0, OUT, View::AdjRibOut, true),
        ("Loc-RIB (RFC 9069)", 3, 0, View::LocRib, true),
    ];
    for (name, peer_type, flags, expected, expected_as4) in cases {
        match Reader::default().read(&route(peer_type, flags)) {
            Ok(Message::Route { view, as4, .. }) => {
                assert_eq!((view, as4), (expected, expected_as4), "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn peer_up_tells_which_neighbours_send_add_path() {
    for add_path in [false, true] {
        let mut reader = Reader::default();
        let up = peer_up(add_path);
        assert!(matches!(reader.read(&up), Ok(Message::PeerUp { .. })));
        match reader.read(&route(0, PRE)) {
            Ok(Message::Route { ids, .. }) => assert_eq!((ids.ipv4, ids.ipv6), (add_path, false)),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn initiation_termination_and_peer_down_are_read() {
    let mut reader = Reader::default();
    let init = bmp(4, &[&[0, 2, 0, 5][..], b"edge1"].concat());
    match reader.read(&init) {
        Ok(Message::Initiation { info }) => assert!(info.contains("edge1"), "{info}"),
        other => panic!("{other:?}"),
    }
    let down = bmp(
        2,
        &[peer_header(0, PRE, [192, 0, 2, 9]), vec![2, 0, 0]].concat(),
    );
    assert!(matches!(reader.read(&down), Ok(Message::PeerDown { .. })));
    let term = bmp(5, &[0, 1, 0, 2, 0, 0]);
    assert!(matches!(
        reader.read(&term),
        Ok(Message::Termination { .. })
    ));
}

#[test]
fn malformed_messages_are_errors() {
    let mut wrong_version = route(0, PRE);
    wrong_version[0] = 2;
    let keepalive = bmp(
        0,
        &[peer_header(0, PRE, [192, 0, 2, 9]), bgp(4, &[])].concat(),
    );
    let cases = [
        ("version 2", wrong_version, "BMP version 2"),
        ("no per-peer header", bmp(0, &[0, 0]), "per-peer header"),
        ("a KEEPALIVE", keepalive, "message type 4"),
        (
            "an Initiation TLV past the end",
            bmp(4, &[0, 2, 0, 9, b'x']),
            "",
        ),
        (
            "a Peer Up without OPENs",
            bmp(3, &peer_header(0, PRE, [1; 4])),
            "",
        ),
    ];
    for (name, message, says) in cases {
        let e = Reader::default().read(&message).expect_err(name);
        assert!(e.to_string().contains(says), "{name}: {e}");
    }
}

#[test]
fn the_codec_frames_by_the_common_header_length() {
    let (a, b) = (route(0, PRE), peer_up(false));
    let mut buf = BytesMut::from(&[a.clone(), b[..10].to_vec()].concat()[..]);
    let mut codec = codec();
    assert_eq!(codec.decode(&mut buf).unwrap().as_deref(), Some(&a[..]));
    assert_eq!(
        codec.decode(&mut buf).unwrap(),
        None,
        "half a message waits"
    );
    buf.extend_from_slice(&b[10..]);
    assert_eq!(codec.decode(&mut buf).unwrap().as_deref(), Some(&b[..]));
    let mut huge = BytesMut::from(&[3, 0, 2, 0, 0, 0][..]);
    assert!(
        codec.decode(&mut huge).is_err(),
        "128 KiB is past the limit"
    );
}
