//! Tests of the wire codec: framing and the small messages here; RFC 7606 cases, round
//! trips against netgauze, real captures and a real MRT update stream in the submodules.

mod add_path;
mod capture;
mod ext_next_hop;
mod mrt;
mod pcap;
mod rfc7606;
mod roundtrip;

use bytes::{Bytes, BytesMut};
use ipnet::IpNet;
use tokio_util::codec::Decoder;

use super::*;
use crate::route::Family;

/// A 4-octet-AS peer without extended messages.
pub(super) const AS4: Caps = Caps {
    as4: true,
    max_len: MAX_LEN,
    rov_ext_community: false,
    extended_next_hop: false,
};
/// A 2-octet-AS peer.
pub(super) const AS2: Caps = Caps {
    as4: false,
    max_len: MAX_LEN,
    rov_ext_community: false,
    extended_next_hop: false,
};

pub(super) fn net(s: &str) -> IpNet {
    s.parse().expect("test prefix")
}

/// One attribute in wire form.
pub(super) fn attr(flags: u8, code: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    attr::write(&mut out, flags, code, value);
    out
}

/// An UPDATE message from its three fields.
pub(super) fn update(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&(withdrawn.len() as u16).to_be_bytes());
    body.extend_from_slice(withdrawn);
    body.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    body.extend_from_slice(attrs);
    body.extend_from_slice(nlri);
    encode_message(MessageType::Update, &body).to_vec()
}

/// A message header with this length and type (no body).
fn header(len: u16, kind: u8) -> Vec<u8> {
    let mut h = vec![0xff; 16];
    h.extend_from_slice(&len.to_be_bytes());
    h.push(kind);
    h
}

/// Runs the framer over `input`: the frames it yields, then its error if any.
fn frames(framer: &mut Framer, input: &[u8]) -> (Vec<Frame>, Option<Notification>) {
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    loop {
        match framer.decode(&mut buf) {
            Ok(Some(f)) => out.push(f),
            Ok(None) => return (out, None),
            Err(FrameError::Notification(n)) => return (out, Some(n)),
            Err(FrameError::Io(e)) => panic!("io error from bytes: {e}"),
        }
    }
}

#[test]
fn framer_rejects_bad_headers_with_rfc4271_codes() {
    let mut bad_marker = header(19, 4);
    bad_marker[3] = 0;
    type Case = (&'static str, Vec<u8>, (u8, u8, Vec<u8>));
    let cases: Vec<Case> = vec![
        ("marker not all ones", bad_marker, (1, 1, vec![])),
        ("length below 19", header(18, 4), (1, 2, vec![0, 18])),
        (
            "length above 4096",
            header(4097, 2),
            (1, 2, vec![0x10, 0x01]),
        ),
        ("unknown type", header(19, 6), (1, 3, vec![6])),
        ("type 0", header(19, 0), (1, 3, vec![0])),
        ("KEEPALIVE not 19", header(20, 4), (1, 2, vec![0, 20])),
        ("OPEN below 29", header(28, 1), (1, 2, vec![0, 28])),
        ("UPDATE below 23", header(22, 2), (1, 2, vec![0, 22])),
        ("NOTIFICATION below 21", header(20, 3), (1, 2, vec![0, 20])),
    ];
    for (name, input, (code, subcode, data)) in cases {
        let (got, err) = frames(&mut Framer::new(), &input);
        assert!(got.is_empty(), "{name}: no frame before the error");
        assert_eq!(err, Some(Notification::new(code, subcode, data)), "{name}");
    }
}

#[test]
fn framer_cuts_a_stream_into_whole_messages() {
    let upd = update(&[], &[], &[]);
    let mut stream = keepalive().to_vec();
    stream.extend_from_slice(&upd);
    stream.extend_from_slice(&route_refresh(Family::Ipv6Unicast, 0));
    let mut framer = Framer::new();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    // Byte by byte: a frame appears only once complete.
    for b in &stream {
        buf.extend_from_slice(&[*b]);
        if let Some(f) = framer.decode(&mut buf).expect("valid stream") {
            got.push(f);
        }
    }
    let kinds: Vec<MessageType> = got.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            MessageType::Keepalive,
            MessageType::Update,
            MessageType::RouteRefresh
        ]
    );
    assert_eq!(got[1].bytes, Bytes::from(upd));
    assert!(buf.is_empty());
}

#[test]
fn framer_max_len_follows_extended_message_negotiation() {
    let mut big = update(&[], &[], &[]);
    let body_len = 5000 - big.len();
    big.extend(std::iter::repeat_n(0u8, body_len));
    big[16..18].copy_from_slice(&5000u16.to_be_bytes());
    let mut framer = Framer::new();
    assert_eq!(
        frames(&mut framer, &big).1.map(|n| (n.code, n.subcode)),
        Some((1, 2))
    );
    framer.set_max_len(MAX_LEN_EXTENDED);
    assert_eq!(framer.max_len(), 65535);
    let (got, err) = frames(&mut framer, &big);
    assert_eq!((got.len(), err), (1, None));
    assert_eq!(got[0].bytes.len(), 5000);
}

#[test]
fn keepalive_and_notification_round_trip() {
    let (got, err) = frames(&mut Framer::new(), &keepalive());
    assert_eq!((got[0].kind, err), (MessageType::Keepalive, None));

    let n = Notification::new(6, 2, &b"shutdown: maintenance"[..]);
    let wire = notification(&n);
    let (got, _) = frames(&mut Framer::new(), &wire);
    assert_eq!(got[0].kind, MessageType::Notification);
    assert_eq!(decode_notification(&got[0].bytes), n);

    let huge = Notification::new(3, 2, vec![7u8; 10_000]);
    assert_eq!(
        notification(&huge).len(),
        MAX_LEN,
        "data cut to fit 4096 bytes"
    );
}

#[test]
fn route_refresh_round_trip_and_errors() {
    for family in Family::ALL {
        for subtype in [REFRESH_NORMAL, REFRESH_BORR, REFRESH_EORR] {
            let wire = route_refresh(family, subtype);
            assert_eq!(wire.len(), 23);
            assert_eq!(decode_route_refresh(&wire), Ok(Some((family, subtype))));
        }
    }
    // IPv4 multicast (AFI 1, SAFI 2) and an unknown subtype are ignored.
    let mcast = encode_message(MessageType::RouteRefresh, &[0, 1, 0, 2]);
    assert_eq!(decode_route_refresh(&mcast), Ok(None));
    let subtype9 = encode_message(MessageType::RouteRefresh, &[0, 1, 9, 1]);
    assert_eq!(decode_route_refresh(&subtype9), Ok(None));
    let long = encode_message(MessageType::RouteRefresh, &[0, 1, 0, 1, 0]);
    assert_eq!(
        decode_route_refresh(&long),
        Err(Notification::new(7, 1, long.clone()))
    );
}

#[test]
fn end_of_rib_markers_decode_and_encode() {
    for family in Family::ALL {
        let mut out = Vec::new();
        encode_updates(&crate::route::Export::EndOfRib(family), &AS4, &mut out);
        assert_eq!(out.len(), 1);
        let u = decode_update(&out[0], &AS4).expect("EoR decodes");
        assert_eq!(u.end_of_rib, Some(family));
        assert!(u.withdrawn.is_empty() && u.announced.is_empty());
    }
    // An empty MP_UNREACH next to another attribute is a withdrawal of nothing, not EoR.
    let mut attrs = attr(0x80, attr::MP_UNREACH, &[0, 2, 1]);
    attrs.extend(attr(0x40, attr::ORIGIN, &[0]));
    let u = decode_update(&update(&[], &attrs, &[]), &AS4).expect("decodes");
    assert_eq!(u.end_of_rib, None);
}

/// A small deterministic PRNG (xorshift64*) for mutation tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Real UPDATEs with random bytes changed, cut or repeated: decoding never panics, the
/// framer never panics, whatever decodes re-encodes into messages that decode to the
/// same prefixes (announced, or withdrawn when they cannot be sent), and
/// `update_prefixes` reads the same prefixes from it.
#[test]
fn mutated_real_updates_never_panic_and_reencode() {
    let seeds: Vec<Bytes> = mrt::messages(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/data/mrt/updates.20190101.0000.gz"),
    )
    .filter(|m| m.bytes.get(18) == Some(&2))
    .take(3000)
    .map(|m| m.bytes)
    .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut ok, mut errors) = (0, 0);
    for round in 0..60_000 {
        let mut m = seeds[round % seeds.len()].to_vec();
        for _ in 0..=rng.below(4) {
            let at = HEADER_LEN + rng.below(m.len() - HEADER_LEN);
            match rng.below(4) {
                0 => m[at] = rng.next() as u8,
                1 => m[at] ^= 1 << rng.below(8),
                2 => m.truncate(at.max(HEADER_LEN + 4)),
                _ => m.insert(at, rng.next() as u8),
            }
        }
        let caps = if round % 2 == 0 { AS4 } else { AS2 };
        let _ = frames(&mut Framer::new(), &m);
        match decode_update(&m, &caps) {
            Ok(u) => {
                ok += 1;
                same_prefixes(&m, &u);
                reencode(u, &caps);
            }
            Err(_) => errors += 1,
        }
    }
    eprintln!("mutations: {ok} decoded, {errors} errors");
    assert!(
        ok > 10_000 && errors > 1_000,
        "mutations both decode and fail: {ok} ok, {errors} errors"
    );
}

/// What `update_prefixes` reads from a frame `decode_update` took: the same prefixes, where
/// those that `decode_update` treats as withdrawn count as announced.
fn same_prefixes(frame: &[u8], u: &crate::route::Update) {
    let (withdrawn, announced) = update_prefixes(frame).expect("decode_update took it");
    let mut got: Vec<IpNet> = withdrawn.into_iter().chain(announced).collect();
    let mut want: Vec<IpNet> = (u.withdrawn.iter().copied())
        .chain(u.announced.iter().flat_map(|(_, v)| v.iter().copied()))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

fn reencode(u: crate::route::Update, caps: &Caps) {
    for (attrs, prefixes) in u.announced {
        let mut out = Vec::new();
        let export = crate::route::Export::Announce(std::sync::Arc::new(attrs), prefixes.clone());
        encode_updates(&export, caps, &mut out);
        let mut seen: Vec<IpNet> = Vec::new();
        for m in &out {
            let back = decode_update(m, caps).expect("own encoding decodes");
            seen.extend(back.announced.into_iter().flat_map(|(_, v)| v));
            seen.extend(back.withdrawn);
        }
        let mut want = prefixes;
        want.sort();
        seen.sort();
        assert_eq!(seen, want);
    }
}

/// A route rovgate tagged is encoded with its large community for every peer, and with the
/// RFC 8097 extended community only for peers configured to get it; both decode back.
#[test]
fn tagged_routes_carry_their_tags_on_the_wire() {
    use crate::route::{AsPath, AttrSet, Export, NextHop, RovState, Segment};
    use std::sync::Arc;
    let received = Arc::new(AttrSet::new(
        0,
        AsPath(vec![Segment::Sequence(vec![64496])]),
        NextHop::V4([192, 0, 2, 1].into()),
        None,
        Bytes::new(),
    ));
    let tagged = AttrSet::tagged(
        &received,
        vec![[64500, 1000, 4]],
        Some(RovState::Invalid),
        None,
    );
    let export = Export::Announce(Arc::new(tagged), vec![net("192.0.2.0/24")]);
    let ext_peer = Caps {
        rov_ext_community: true,
        ..AS4
    };
    let tag = [0, 0, 0xfb, 0xf4, 0, 0, 3, 0xe8, 0, 0, 0, 4];
    let ext = [0x43, 0, 0, 0, 0, 0, 0, 2];
    for (caps, want_ext) in [(AS4, false), (ext_peer, true)] {
        let mut out = Vec::new();
        encode_updates(&export, &caps, &mut out);
        let update = decode_update(&out[0], &caps).expect("decodes");
        let (attrs, _) = &update.announced[0];
        let other: Vec<_> = attr::RawAttrs::new(&attrs.other)
            .map(|a| a.expect("well formed"))
            .map(|a| (a.code, a.value.to_vec()))
            .collect();
        assert!(other.contains(&(attr::LARGE_COMMUNITIES, tag.to_vec())));
        assert_eq!(
            other.contains(&(attr::EXT_COMMUNITIES, ext.to_vec())),
            want_ext,
            "RFC 8097 community only when configured"
        );
    }
}

/// Expected: a blackhole request taken (RFC 7999) goes out with its BLACKHOLE community,
/// NO_EXPORT added, and the blackhole next hop.
#[test]
fn a_taken_blackhole_request_carries_no_export_and_the_blackhole_next_hop() {
    use crate::route::{AsPath, AttrSet, Export, NextHop, Segment};
    use std::sync::Arc;
    let blackhole = [0xc0, 8, 4, 0xff, 0xff, 0x02, 0x9a];
    let received = Arc::new(AttrSet::new(
        0,
        AsPath(vec![Segment::Sequence(vec![64496])]),
        NextHop::V4([192, 0, 2, 1].into()),
        None,
        Bytes::from(blackhole.to_vec()),
    ));
    let to = NextHop::V4([192, 0, 2, 66].into());
    let taken = AttrSet::tagged(&received, vec![], None, Some(to));
    let export = Export::Announce(Arc::new(taken), vec![net("198.51.100.1/32")]);
    let mut out = Vec::new();
    encode_updates(&export, &AS4, &mut out);
    let update = decode_update(&out[0], &AS4).expect("decodes");
    let (attrs, prefixes) = &update.announced[0];
    assert_eq!(
        (attrs.next_hop, &prefixes[..]),
        (to, &[net("198.51.100.1/32")][..])
    );
    let communities = [0xc0, 8, 8, 0xff, 0xff, 0x02, 0x9a, 0xff, 0xff, 0xff, 0x01];
    assert_eq!(attrs.other[..], communities[..], "BLACKHOLE, NO_EXPORT");
}
