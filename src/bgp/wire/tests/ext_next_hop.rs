//! RFC 8950 extended next hop on the wire: IPv4 unicast NLRI in MP_REACH_NLRI (AFI 1,
//! SAFI 1) with a 16- or 32-byte IPv6 next hop, decoded from a peer that negotiated it,
//! refused (3/9) from one that did not, and encoded only for peers that negotiated it.

use std::sync::Arc;

use super::super::attr::*;
use super::*;
use crate::route::{AsPath, AttrSet, Export, NextHop, Segment};

/// A peer that negotiated extended next hop.
const EXT: Caps = Caps {
    extended_next_hop: true,
    ..AS4
};

const GLOBAL: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const LINK_LOCAL: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/// MP_REACH_NLRI, AFI 1 / SAFI 1, `next_hop`, NLRI 198.51.100.0/24 and 203.0.113.0/24.
fn mp_reach_v4(next_hop: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 1, 1, next_hop.len() as u8];
    v.extend_from_slice(next_hop);
    v.extend_from_slice(&[0, 24, 198, 51, 100, 24, 203, 0, 113]);
    attr(OPTIONAL, MP_REACH, &v)
}

/// ORIGIN IGP, AS_PATH 64496 (4-octet), then `mp`.
fn message(mp: &[u8]) -> Vec<u8> {
    let path = attr(TRANSITIVE, AS_PATH, &[2, 1, 0, 0, 0xfb, 0xf0]);
    let attrs = [attr(TRANSITIVE, ORIGIN, &[0]), path, mp.to_vec()].concat();
    update(&[], &attrs, &[])
}

fn v6(b: [u8; 16]) -> std::net::Ipv6Addr {
    b.into()
}

#[test]
fn ipv4_routes_with_16_and_32_byte_ipv6_next_hops_decode_when_negotiated() {
    let both = [GLOBAL, LINK_LOCAL].concat();
    let cases = [
        (&GLOBAL[..], NextHop::V6(v6(GLOBAL), None)),
        (&both[..], NextHop::V6(v6(GLOBAL), Some(v6(LINK_LOCAL)))),
    ];
    for (nh, want) in cases {
        let u = decode_update(&message(&mp_reach_v4(nh)), &EXT).expect("decodes");
        assert_eq!(u.announced.len(), 1, "{nh:?}");
        let (attrs, prefixes) = &u.announced[0];
        assert_eq!(attrs.next_hop, want);
        assert_eq!(prefixes, &[net("198.51.100.0/24"), net("203.0.113.0/24")]);
    }
}

/// Expected: without the capability a 16- or 32-byte next hop for AFI 1 is not the length
/// expected (RFC 7606 §7.11): NOTIFICATION 3/9 with the attribute as data, as for any
/// MP_REACH_NLRI whose next hop does not fit its AFI. A 4-byte one is still fine.
#[test]
fn an_ipv6_next_hop_for_ipv4_without_the_capability_is_3_9() {
    let both = [GLOBAL, LINK_LOCAL].concat();
    for nh in [&GLOBAL[..], &both[..]] {
        let mp = mp_reach_v4(nh);
        let n = decode_update(&message(&mp), &AS4).expect_err("session reset");
        assert_eq!((n.code, n.subcode), (3, 9), "{nh:?}");
        assert_eq!(&n.data[..], &mp[..], "the attribute as data");
    }
    let u = decode_update(&message(&mp_reach_v4(&[192, 0, 2, 1])), &AS4).expect("decodes");
    assert_eq!(
        u.announced[0].0.next_hop,
        NextHop::V4([192, 0, 2, 1].into())
    );
}

/// Expected: an unspecified or multicast IPv6 next hop is treat-as-withdraw, as for IPv6.
#[test]
fn an_unusable_ipv6_next_hop_for_ipv4_withdraws() {
    let mut multicast = GLOBAL;
    multicast[..2].copy_from_slice(&[0xff, 0x02]);
    for nh in [[0; 16], multicast] {
        let u = decode_update(&message(&mp_reach_v4(&nh)), &EXT).expect("no reset");
        assert!(u.announced.is_empty(), "{nh:?}");
        assert_eq!(u.withdrawn.len(), 2);
    }
}

/// An IPv4 route with an IPv6 next hop, as a peer with extended next hop sent it.
fn export(link_local: Option<[u8; 16]>) -> Export {
    let attrs = AttrSet::new(
        0,
        AsPath(vec![Segment::Sequence(vec![64496])]),
        NextHop::V6(v6(GLOBAL), link_local.map(v6)),
        None,
        Bytes::new(),
    );
    Export::Announce(Arc::new(attrs), vec![net("203.0.113.0/24")])
}

/// Expected: to a peer with extended next hop the route goes in MP_REACH_NLRI with AFI 1,
/// SAFI 1 and the 16- or 32-byte next hop, and decodes back to the same route.
#[test]
fn ipv4_routes_with_ipv6_next_hops_encode_in_mp_reach_for_extended_peers() {
    for ll in [None, Some(LINK_LOCAL)] {
        let mut out = Vec::new();
        encode_updates(&export(ll), &EXT, &mut out);
        assert_eq!(out.len(), 1);
        let mut head = vec![0, 1, 1];
        head.push(if ll.is_some() { 32 } else { 16 });
        head.extend_from_slice(&GLOBAL);
        head.extend(ll.iter().flatten());
        head.extend_from_slice(&[0, 24, 203, 0, 113]);
        let mp = RawAttrs::new(&out[0][HEADER_LEN + 4..])
            .map(|a| a.expect("well formed"))
            .find(|a| a.code == MP_REACH)
            .expect("MP_REACH_NLRI");
        assert_eq!(mp.value, &head[..], "AFI 1, SAFI 1, IPv6 next hop, NLRI");
        let u = decode_update(&out[0], &EXT).expect("decodes");
        let (attrs, prefixes) = &u.announced[0];
        assert_eq!(attrs.next_hop, NextHop::V6(v6(GLOBAL), ll.map(v6)));
        assert_eq!(prefixes, &[net("203.0.113.0/24")]);
        assert!(u.withdrawn.is_empty());
    }
}

/// Expected: a peer without extended next hop does not get the route (as from BIRD): the
/// prefix is withdrawn, in case an older path of it went out.
#[test]
fn ipv4_routes_with_ipv6_next_hops_are_withdrawn_for_other_peers() {
    let mut out = Vec::new();
    encode_updates(&export(None), &AS4, &mut out);
    assert_eq!(out.len(), 1);
    let u = decode_update(&out[0], &AS4).expect("decodes");
    assert!(u.announced.is_empty());
    assert_eq!(u.withdrawn, vec![net("203.0.113.0/24")]);
}
