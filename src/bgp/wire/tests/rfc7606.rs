//! RFC 4271 §6.3 / RFC 7606 / RFC 6793 / RFC 7607 error cases: each malformed UPDATE and
//! the outcome rovgate must choose (session reset with code/subcode, treat-as-withdraw,
//! attribute discard), table-driven.

use super::super::attr::*;
use super::*;
use crate::route::{AsPath, NextHop, Segment, Update};

const WK: u8 = TRANSITIVE; // well-known flags
const OT: u8 = OPTIONAL | TRANSITIVE;
const ON: u8 = OPTIONAL;

/// What a case must come out as.
#[derive(Debug)]
enum Want {
    /// Session reset with this NOTIFICATION code and subcode.
    Reset(u8, u8),
    /// Treat-as-withdraw: nothing announced, every NLRI of the message withdrawn.
    Withdrawn,
    /// Announced, without this attribute in `other`.
    Discarded(u8),
    /// Announced, with this attribute in `other`.
    Kept(u8),
}

fn origin(v: u8) -> Vec<u8> {
    attr(WK, ORIGIN, &[v])
}
/// AS_PATH: one AS_SEQUENCE 64496 65550 (4-octet).
fn path4() -> Vec<u8> {
    attr(WK, AS_PATH, &[2, 2, 0, 0, 0xfb, 0xf0, 0, 1, 0, 0x0e])
}
fn next_hop() -> Vec<u8> {
    attr(WK, NEXT_HOP, &[192, 0, 2, 1])
}
/// MP_REACH_NLRI IPv6 unicast, next hop 2001:db8::1, NLRI 2001:db8:1::/48.
fn mp_reach(flags: u8) -> Vec<u8> {
    let mut v = vec![0, 2, 1, 16, 0x20, 0x01, 0x0d, 0xb8];
    v.extend_from_slice(&[0; 11]);
    v.extend_from_slice(&[1, 0, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 1]);
    attr(flags, MP_REACH, &v)
}
const NLRI: [u8; 4] = [24, 198, 51, 100];

/// ORIGIN, AS_PATH, NEXT_HOP, then `extra`.
fn with(extra: &[u8]) -> Vec<u8> {
    [origin(0), path4(), next_hop(), extra.to_vec()].concat()
}

/// One line per case: name, peer, message, outcome.
#[rustfmt::skip]
fn cases() -> Vec<(&'static str, Caps, Vec<u8>, Want)> {
    use Want::*;
    let body = |attrs: Vec<u8>| update(&[], &attrs, &NLRI);
    let mp_only = |attrs: Vec<u8>| update(&[], &attrs, &[]);
    let mut bad_seg_type = path4();
    bad_seg_type[3] = 5;
    let mut wlen_overrun = update(&[], &with(&[]), &NLRI);
    wlen_overrun[20] = 200;
    let mut alen_overrun = update(&[], &with(&[]), &NLRI);
    alen_overrun[22] = 200;
    let nh_len_20 = attr(ON, MP_REACH, &[[0, 2, 1, 20].as_slice(), &[0; 21]].concat());
    let mp_len_129 = attr(ON, MP_REACH, &[[0, 2, 1, 16].as_slice(), &[0x20; 16], &[0, 129], &[0; 17]].concat());
    let mp_mcast_nh = attr(ON, MP_REACH, &[[0, 2, 1, 16, 0xff, 2].as_slice(), &[0; 14], &[0, 32, 0x20, 1, 0xd, 0xb8]].concat());
    let agg = |v: &[u8]| attr(OT, AGGREGATOR, v);
    vec![
        ("ORIGIN value 3", AS4, body([origin(3), path4(), next_hop()].concat()), Withdrawn),
        ("ORIGIN length 2", AS4, body([attr(WK, ORIGIN, &[0, 0]), path4(), next_hop()].concat()), Withdrawn),
        ("ORIGIN optional flag", AS4, body([attr(OT, ORIGIN, &[0]), path4(), next_hop()].concat()), Withdrawn),
        ("AS_PATH segment type 5", AS4, body([origin(0), bad_seg_type, next_hop()].concat()), Withdrawn),
        ("AS_PATH empty segment", AS4, body([origin(0), attr(WK, AS_PATH, &[2, 0]), next_hop()].concat()), Withdrawn),
        ("AS_PATH segment overrun", AS4, body([origin(0), attr(WK, AS_PATH, &[2, 2, 0, 0, 0, 1]), next_hop()].concat()), Withdrawn),
        ("AS_PATH with AS 0", AS4, body([origin(0), attr(WK, AS_PATH, &[2, 1, 0, 0, 0, 0]), next_hop()].concat()), Withdrawn),
        ("AS_PATH 2-octet from 2-octet peer", AS2, body([origin(0), attr(WK, AS_PATH, &[2, 1, 0xfb, 0xf0]), next_hop()].concat()), Discarded(AS_PATH)),
        ("NEXT_HOP length 5", AS4, body([origin(0), path4(), attr(WK, NEXT_HOP, &[1, 2, 3, 4, 5])].concat()), Withdrawn),
        ("NEXT_HOP 0.0.0.0", AS4, body([origin(0), path4(), attr(WK, NEXT_HOP, &[0; 4])].concat()), Withdrawn),
        ("NEXT_HOP multicast", AS4, body([origin(0), path4(), attr(WK, NEXT_HOP, &[224, 0, 0, 1])].concat()), Withdrawn),
        ("MED length 3", AS4, body(with(&attr(ON, MED, &[0, 0, 1]))), Withdrawn),
        ("MED well-known flags", AS4, body(with(&attr(WK, MED, &[0, 0, 0, 1]))), Withdrawn),
        ("LOCAL_PREF from external peer", AS4, body(with(&attr(WK, LOCAL_PREF, &[0, 0, 0, 100]))), Discarded(LOCAL_PREF)),
        ("LOCAL_PREF length 3", AS4, body(with(&attr(WK, LOCAL_PREF, &[0, 0, 100]))), Discarded(LOCAL_PREF)),
        ("ATOMIC_AGGREGATE ok", AS4, body(with(&attr(WK, ATOMIC_AGGREGATE, &[]))), Kept(ATOMIC_AGGREGATE)),
        ("ATOMIC_AGGREGATE length 1", AS4, body(with(&attr(WK, ATOMIC_AGGREGATE, &[0]))), Discarded(ATOMIC_AGGREGATE)),
        ("AGGREGATOR ok", AS4, body(with(&agg(&[0, 0, 0xfb, 0xf0, 192, 0, 2, 9]))), Kept(AGGREGATOR)),
        ("AGGREGATOR length 6 from 4-octet peer", AS4, body(with(&agg(&[0xfb, 0xf0, 192, 0, 2, 9]))), Discarded(AGGREGATOR)),
        ("AGGREGATOR AS 0", AS4, body(with(&agg(&[0, 0, 0, 0, 192, 0, 2, 9]))), Discarded(AGGREGATOR)),
        ("AGGREGATOR well-known flags", AS4, body(with(&attr(WK, AGGREGATOR, &[0, 0, 0xfb, 0xf0, 192, 0, 2, 9]))), Discarded(AGGREGATOR)),
        ("COMMUNITIES ok", AS4, body(with(&attr(OT, COMMUNITIES, &[0xfb, 0xf0, 0, 1]))), Kept(COMMUNITIES)),
        ("COMMUNITIES length 5", AS4, body(with(&attr(OT, COMMUNITIES, &[0, 0, 0, 1, 2]))), Withdrawn),
        ("COMMUNITIES length 0", AS4, body(with(&attr(OT, COMMUNITIES, &[]))), Withdrawn),
        ("COMMUNITIES non-transitive", AS4, body(with(&attr(ON, COMMUNITIES, &[0, 0, 0, 1]))), Withdrawn),
        ("EXTENDED_COMMUNITIES length 12", AS4, body(with(&attr(OT, EXT_COMMUNITIES, &[0; 12]))), Withdrawn),
        ("EXTENDED_COMMUNITIES ok", AS4, body(with(&attr(OT, EXT_COMMUNITIES, &[0; 16]))), Kept(EXT_COMMUNITIES)),
        ("LARGE_COMMUNITY length 13", AS4, body(with(&attr(OT, LARGE_COMMUNITIES, &[0; 13]))), Withdrawn),
        ("LARGE_COMMUNITY ok", AS4, body(with(&attr(OT, LARGE_COMMUNITIES, &[1; 24]))), Kept(LARGE_COMMUNITIES)),
        ("ORIGINATOR_ID length 3", AS4, body(with(&attr(ON, ORIGINATOR_ID, &[1, 2, 3]))), Discarded(ORIGINATOR_ID)),
        ("CLUSTER_LIST length 5", AS4, body(with(&attr(ON, CLUSTER_LIST, &[1, 2, 3, 4, 5]))), Discarded(CLUSTER_LIST)),
        ("missing ORIGIN", AS4, body([path4(), next_hop()].concat()), Withdrawn),
        ("missing AS_PATH", AS4, body([origin(0), next_hop()].concat()), Withdrawn),
        ("missing NEXT_HOP with body NLRI", AS4, body([origin(0), path4()].concat()), Withdrawn),
        ("no NEXT_HOP needed for MP_REACH only", AS4, mp_only([mp_reach(ON), origin(0), path4()].concat()), Discarded(NEXT_HOP)),
        ("repeated ORIGIN: first kept", AS4, body(with(&origin(7))), Discarded(ORIGIN)),
        ("repeated MP_REACH", AS4, mp_only([mp_reach(ON), mp_reach(ON), origin(0), path4()].concat()), Reset(3, 1)),
        ("repeated MP_UNREACH", AS4, mp_only([attr(ON, MP_UNREACH, &[0, 2, 1]), attr(ON, MP_UNREACH, &[0, 2, 1])].concat()), Reset(3, 1)),
        ("MP_REACH next hop length 20", AS4, mp_only([nh_len_20, origin(0), path4()].concat()), Reset(3, 9)),
        ("MP_REACH prefix length 129", AS4, mp_only([mp_len_129, origin(0), path4()].concat()), Reset(3, 9)),
        ("MP_REACH truncated", AS4, mp_only([attr(ON, MP_REACH, &[0, 2]), origin(0), path4()].concat()), Reset(3, 9)),
        ("MP_REACH transitive flag", AS4, mp_only([mp_reach(OT), origin(0), path4()].concat()), Withdrawn),
        ("MP_REACH multicast next hop", AS4, mp_only([mp_mcast_nh, origin(0), path4()].concat()), Withdrawn),
        ("MP_UNREACH prefix overrun", AS4, mp_only(attr(ON, MP_UNREACH, &[0, 2, 1, 64, 0x20])), Reset(3, 9)),
        ("unknown well-known attribute", AS4, body(with(&attr(WK, 99, &[1]))), Reset(3, 2)),
        ("unknown optional transitive", AS4, body(with(&attr(OT, 99, &[1, 2]))), Kept(99)),
        ("unknown optional non-transitive", AS4, body(with(&attr(ON, 99, &[1, 2]))), Discarded(99)),
        ("AS4_PATH from 4-octet peer", AS4, body(with(&attr(OT, AS4_PATH, &[2, 1, 0, 1, 0, 0]))), Discarded(AS4_PATH)),
        ("withdrawn length past message", AS4, wlen_overrun, Reset(3, 1)),
        ("attribute length past message", AS4, alen_overrun, Reset(3, 1)),
        ("NLRI prefix length 33", AS4, update(&[], &with(&[]), &[33, 1, 2, 3, 4, 5]), Reset(3, 10)),
        ("NLRI trailing byte", AS4, update(&[], &with(&[]), &[24, 198, 51, 100, 24, 1]), Reset(3, 10)),
        ("withdrawn prefix length 33", AS4, update(&[33, 1, 2, 3, 4, 5], &[], &[]), Reset(3, 10)),
        ("attribute overrun inside list, NLRI present", AS4, body([with(&[]), vec![0x40, 1, 9, 0]].concat()), Withdrawn),
        ("two bytes left in list, NLRI present", AS4, body([with(&[]), vec![0x40, 1]].concat()), Withdrawn),
        ("attribute overrun, nothing to withdraw", AS4, update(&[], &[0x40, 1, 9, 0], &[]), Reset(3, 1)),
    ]
}

fn has_attr(other: &[u8], code: u8) -> bool {
    RawAttrs::new(other).any(|a| a.is_ok_and(|a| a.code == code))
}

fn check(name: &str, got: Result<Update, Notification>, want: &Want, msg: &[u8]) {
    let announced = |u: &Update| u.announced.iter().flat_map(|(_, v)| v.clone()).count();
    match (want, got) {
        (Want::Reset(c, s), Err(n)) => assert_eq!((n.code, n.subcode), (*c, *s), "{name}"),
        (Want::Withdrawn, Ok(u)) => {
            assert!(
                u.announced.is_empty(),
                "{name}: nothing announced, got {u:?}"
            );
            let expect = if msg.ends_with(&NLRI) {
                net("198.51.100.0/24")
            } else {
                net("2001:db8:1::/48")
            };
            let alt = if msg.ends_with(&NLRI) {
                None
            } else {
                Some(net("2001:db8::/32"))
            };
            assert!(
                u.withdrawn.contains(&expect) || alt.is_some_and(|a| u.withdrawn.contains(&a)),
                "{name}: {u:?}"
            );
        }
        (Want::Discarded(code) | Want::Kept(code), Ok(u)) => {
            assert_eq!(announced(&u), 1, "{name}: announced, got {u:?}");
            assert!(u.withdrawn.is_empty(), "{name}");
            let (a, _) = &u.announced[0];
            assert_eq!(
                has_attr(&a.other, *code),
                matches!(want, Want::Kept(_)),
                "{name}: {:?}",
                a.other
            );
        }
        (want, got) => panic!("{name}: want {want:?}, got {got:?}"),
    }
}

#[test]
fn malformed_updates_get_the_rfc7606_outcome() {
    for (name, caps, msg, want) in cases() {
        let got = decode_update_faults(&msg, &caps);
        if let Ok((_, faults)) = &got {
            match want {
                Want::Withdrawn => assert!(faults.withdraw.is_some(), "{name}: {faults:?}"),
                Want::Kept(_) => assert_eq!(*faults, Faults::default(), "{name}"),
                _ => assert!(faults.withdraw.is_none(), "{name}: {faults:?}"),
            }
        }
        check(name, got.map(|(u, _)| u), &want, &msg);
    }
}

/// Expected: the session is told the first attribute behind each outcome, and an
/// attribute RFC 7606 drops only because the peer is external is no fault.
#[test]
fn faults_name_the_attribute() {
    let fault = |attribute, why| Some(Fault { attribute, why });
    #[rustfmt::skip]
    let cases = [
        (with(&origin(7)), None, fault(Some(ORIGIN), "repeated attribute")),
        (with(&attr(WK, ATOMIC_AGGREGATE, &[0])), None, fault(Some(ATOMIC_AGGREGATE), "attribute value or length")),
        (with(&attr(OT, AS4_PATH, &[2, 1, 0, 1, 0, 0])), None, fault(Some(AS4_PATH), "AS4 attribute from a 4-octet peer")),
        (with(&attr(WK, LOCAL_PREF, &[0, 0, 0, 100])), None, None),
        ([origin(3), path4(), next_hop()].concat(), fault(Some(ORIGIN), "attribute value or length"), None),
        ([origin(0), path4()].concat(), fault(Some(NEXT_HOP), "missing"), None),
        ([with(&[]), vec![0x40, 1, 9, 0]].concat(), fault(None, "attribute list overrun"), None),
    ];
    for (attrs, withdraw, discard) in cases {
        let msg = update(&[], &attrs, &NLRI);
        let (_, faults) = decode_update_faults(&msg, &AS4).expect("decodes");
        assert_eq!(faults, Faults { withdraw, discard }, "{attrs:?}");
    }
}

#[test]
fn repeated_attribute_keeps_the_first() {
    let msg = update(&[], &with(&origin(2)), &NLRI);
    let u = decode_update(&msg, &AS4).expect("decodes");
    assert_eq!(u.announced[0].0.origin, 0);
}

#[test]
fn unknown_optional_transitive_gets_the_partial_bit() {
    let msg = update(&[], &with(&attr(OT, 99, &[1, 2])), &NLRI);
    let u = decode_update(&msg, &AS4).expect("decodes");
    let kept: Vec<_> = RawAttrs::new(&u.announced[0].0.other)
        .map(|a| a.expect("well-formed"))
        .collect();
    assert_eq!(
        (kept[0].flags, kept[0].code, kept[0].value),
        (OT | PARTIAL, 99, &[1u8, 2][..])
    );
}

/// AS_PATH 200 1 23456 23456 23456 with AS4_PATH 1 222222 333333 4294967290 (the
/// tcpdump bgp-4byte-asn capture), and the RFC 6793 §4.2.3 exceptions.
#[test]
fn as4_path_merges_into_a_two_octet_peers_path() {
    let as_path = attr(
        WK,
        AS_PATH,
        &[2, 5, 0, 200, 0, 1, 0x5b, 0xa0, 0x5b, 0xa0, 0x5b, 0xa0],
    );
    let as4: Vec<u8> = [
        &[2u8, 4][..],
        &1u32.to_be_bytes(),
        &222222u32.to_be_bytes(),
        &333333u32.to_be_bytes(),
        &4294967290u32.to_be_bytes(),
    ]
    .concat();
    let as4_path = attr(OT, AS4_PATH, &as4);
    let merged = AsPath(vec![Segment::Sequence(vec![
        200, 1, 222222, 333333, 4294967290,
    ])]);
    let plain = AsPath(vec![Segment::Sequence(vec![200, 1, 23456, 23456, 23456])]);
    let agg = |asn: u16| attr(OT, AGGREGATOR, &[(asn >> 8) as u8, asn as u8, 10, 0, 0, 1]);
    let as4_agg = attr(OT, AS4_AGGREGATOR, &[0, 3, 0x64, 0x0d, 10, 0, 0, 1]);
    let cases = [
        ("merge", vec![as4_path.clone()], &merged),
        (
            "AGGREGATOR AS_TRANS keeps merge",
            vec![agg(23456), as4_path.clone(), as4_agg.clone()],
            &merged,
        ),
        (
            "AGGREGATOR real AS: AS4_PATH ignored",
            vec![agg(64500), as4_path.clone()],
            &plain,
        ),
        (
            "AS4_PATH longer than AS_PATH ignored",
            vec![attr(
                OT,
                AS4_PATH,
                &[as4.clone(), vec![2, 2, 0, 0, 0, 9, 0, 0, 0, 8]].concat(),
            )],
            &plain,
        ),
        (
            "malformed AS4_PATH discarded",
            vec![attr(OT, AS4_PATH, &[2, 3, 0, 0, 0, 1])],
            &plain,
        ),
    ];
    for (name, extra, want) in cases {
        let attrs = [origin(2), as_path.clone(), next_hop(), extra.concat()].concat();
        let u = decode_update(&update(&[], &attrs, &NLRI), &AS2).expect(name);
        let a = &u.announced[0].0;
        assert_eq!(&a.as_path, want, "{name}");
        assert_eq!(
            a.as_path.origin().map(|x| x.0),
            want.origin().map(|x| x.0),
            "{name}"
        );
        assert!(
            !has_attr(&a.other, AS4_PATH) && !has_attr(&a.other, AS4_AGGREGATOR),
            "{name}"
        );
    }
    // The AGGREGATOR AS_TRANS is replaced by AS4_AGGREGATOR's AS, stored 4-octet.
    let attrs = [origin(2), as_path, next_hop(), agg(23456), as4_agg].concat();
    let u = decode_update(&update(&[], &attrs, &NLRI), &AS2).expect("decodes");
    let a = RawAttrs::new(&u.announced[0].0.other)
        .find_map(|a| a.ok().filter(|a| a.code == AGGREGATOR));
    assert_eq!(
        a.map(|a| a.value.to_vec()),
        Some(vec![0, 3, 0x64, 0x0d, 10, 0, 0, 1])
    );
}

#[test]
fn mp_reach_of_other_families_is_ignored() {
    // AFI 1 SAFI 128 (VPN): skipped; the body NLRI is still announced.
    let vpn = attr(
        ON,
        MP_REACH,
        &[[0, 1, 128, 12].as_slice(), &[0; 12], &[0, 88], &[0; 11]].concat(),
    );
    let u = decode_update(&update(&[], &with(&vpn), &NLRI), &AS4).expect("decodes");
    assert_eq!(u.announced.len(), 1);
    assert_eq!(u.announced[0].1, vec![net("198.51.100.0/24")]);
    assert_eq!(
        u.announced[0].0.next_hop,
        NextHop::V4("192.0.2.1".parse().expect("addr"))
    );
}

#[test]
fn host_bits_are_cleared_from_prefixes() {
    let u = decode_update(&update(&[], &with(&[]), &[23, 198, 51, 101]), &AS4).expect("decodes");
    assert_eq!(u.announced[0].1, vec![net("198.51.100.0/23")]);
}
