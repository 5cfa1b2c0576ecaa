//! Encode then decode: what rovgate sends decodes back to what it meant, for 4-octet and
//! 2-octet peers, IPv6 with link-local next hops, extended lengths and packing; and
//! netgauze, an independent decoder, reads every message the same way.

use std::collections::HashMap;
use std::sync::Arc;

use netgauze_bgp_pkt::codec::BgpCodec;
use netgauze_bgp_pkt::nlri::{Ipv4UnicastAddress, Ipv6UnicastAddress};
use netgauze_bgp_pkt::path_attribute::{
    AsPath as NgAsPath, MpReach, MpUnreach, PathAttributeValue,
};
use netgauze_bgp_pkt::wire::deserializer::BgpParsingContext;
use netgauze_bgp_pkt::BgpMessage;

use super::super::attr::*;
use super::*;
use crate::route::{AsPath, AttrSet, Export, NextHop, Segment, Update};

/// What netgauze reads from one UPDATE.
#[derive(Debug, Default)]
pub(super) struct Seen {
    pub(super) announced: Vec<IpNet>,
    pub(super) withdrawn: Vec<IpNet>,
    /// AS_PATH ASNs, segment by segment.
    as_path: Vec<Vec<u32>>,
    /// AS4_PATH ASNs, if present.
    as4_path: Option<Vec<Vec<u32>>>,
}

fn v4(n: &[Ipv4UnicastAddress]) -> impl Iterator<Item = IpNet> + '_ {
    n.iter().map(|a| IpNet::V4(a.network().address()))
}
fn v6(n: &[Ipv6UnicastAddress]) -> impl Iterator<Item = IpNet> + '_ {
    n.iter().map(|a| IpNet::V6(a.network().address()))
}

/// Decodes a message with netgauze in strict mode (every error fails).
fn netgauze(msg: &[u8], as4: bool) -> Seen {
    netgauze_strict(msg, as4).expect("netgauze parses")
}

/// Decodes a message with netgauze in strict mode; `None` if netgauze finds an error.
pub(super) fn netgauze_strict(msg: &[u8], as4: bool) -> Option<Seen> {
    let ctx = BgpParsingContext::new(as4, HashMap::new(), HashMap::new(), true, true, true, true);
    let mut codec = BgpCodec::new_from_ctx(as4, ctx);
    let mut buf = BytesMut::from(msg);
    let Ok(Some((BgpMessage::Update(u), _))) = codec.decode(&mut buf) else {
        return None;
    };
    let mut seen = Seen {
        announced: v4(u.nlri()).collect(),
        withdrawn: v4(u.withdraw_routes()).collect(),
        ..Seen::default()
    };
    for a in u.path_attributes() {
        match a.value() {
            PathAttributeValue::AsPath(NgAsPath::As4PathSegments(s)) => {
                seen.as_path = s.iter().map(|s| s.as_numbers().to_vec()).collect()
            }
            PathAttributeValue::AsPath(NgAsPath::As2PathSegments(s)) => {
                seen.as_path = s
                    .iter()
                    .map(|s| s.as_numbers().iter().map(|&a| u32::from(a)).collect())
                    .collect()
            }
            PathAttributeValue::As4Path(p) => {
                seen.as4_path = Some(
                    p.segments()
                        .iter()
                        .map(|s| s.as_numbers().to_vec())
                        .collect(),
                )
            }
            PathAttributeValue::MpReach(MpReach::Ipv6Unicast { nlri, .. }) => {
                seen.announced.extend(v6(nlri))
            }
            PathAttributeValue::MpUnreach(MpUnreach::Ipv6Unicast { nlri }) => {
                seen.withdrawn.extend(v6(nlri))
            }
            PathAttributeValue::MpReach(MpReach::Ipv4Unicast { nlri, .. }) => {
                seen.announced.extend(v4(nlri))
            }
            PathAttributeValue::MpUnreach(MpUnreach::Ipv4Unicast { nlri }) => {
                seen.withdrawn.extend(v4(nlri))
            }
            _ => {}
        }
    }
    Some(seen)
}

/// An attribute set with communities, large communities, an AGGREGATOR and MED; the path
/// has 4-octet ASNs.
fn attrs(next_hop: NextHop) -> AttrSet {
    let other = [
        attr(
            OPTIONAL | TRANSITIVE,
            AGGREGATOR,
            &[0, 3, 0x0d, 0x40, 192, 0, 2, 7],
        ),
        attr(
            OPTIONAL | TRANSITIVE,
            COMMUNITIES,
            &[0xfb, 0xf0, 0, 1, 0xff, 0xff, 0xff, 0x01],
        ),
        attr(
            OPTIONAL | TRANSITIVE,
            LARGE_COMMUNITIES,
            &[[0, 3, 0x0d, 0x40].as_slice(), &[0, 0, 0, 1], &[0, 0, 0, 4]].concat(),
        ),
    ]
    .concat();
    let path = AsPath(vec![
        Segment::Sequence(vec![64496, 200_000, 3356, 4_200_000_000]),
        Segment::Set(vec![65551, 15169]),
    ]);
    AttrSet::new(1, path, next_hop, Some(50), Bytes::from(other))
}

fn nh4() -> NextHop {
    NextHop::V4("192.0.2.1".parse().expect("addr"))
}
fn nh6() -> NextHop {
    NextHop::V6(
        "2001:db8::1".parse().expect("addr"),
        Some("fe80::1".parse().expect("addr")),
    )
}

/// `n` distinct IPv4 /24s and IPv6 /48s.
fn prefixes(n: u32) -> (Vec<IpNet>, Vec<IpNet>) {
    let v4 = (0..n)
        .map(|i| {
            net(&format!(
                "{}.{}.{}.0/24",
                10 + i / 65536,
                (i / 256) % 256,
                i % 256
            ))
        })
        .collect();
    let v6 = (0..n)
        .map(|i| net(&format!("2001:db8:{:x}::/48", i)))
        .collect();
    (v4, v6)
}

/// Encodes an export, checks every message against netgauze and the size limit, and
/// decodes all of them back.
fn round_trip(export: &Export, caps: &Caps) -> (Vec<Bytes>, Vec<Update>) {
    let mut out = Vec::new();
    encode_updates(export, caps, &mut out);
    let mut decoded = Vec::new();
    for m in &out {
        assert!(
            m.len() <= caps.max_len,
            "message of {} bytes over {}",
            m.len(),
            caps.max_len
        );
        let u = decode_update(m, caps).expect("own message decodes");
        let seen = netgauze(m, caps.as4);
        let ours: Vec<IpNet> = u.announced.iter().flat_map(|(_, v)| v.clone()).collect();
        assert_eq!(seen.announced, ours, "netgauze sees the same NLRI");
        assert_eq!(
            seen.withdrawn, u.withdrawn,
            "netgauze sees the same withdrawals"
        );
        if let Some((a, _)) = u.announced.first() {
            check_path_seen_by_netgauze(&seen, &a.as_path, caps.as4);
        }
        decoded.push(u);
    }
    (out, decoded)
}

fn check_path_seen_by_netgauze(seen: &Seen, path: &AsPath, as4: bool) {
    let asns: Vec<u32> = path.asns().collect();
    let trans = |a: &u32| if *a > 0xffff { AS_TRANS } else { *a };
    let wire: Vec<u32> = seen.as_path.concat();
    if as4 {
        assert_eq!(wire, asns);
        assert_eq!(seen.as4_path, None, "no AS4_PATH towards 4-octet peers");
    } else {
        assert_eq!(wire, asns.iter().map(trans).collect::<Vec<_>>());
        let needs = asns.iter().any(|&a| a > 0xffff);
        assert_eq!(
            seen.as4_path.as_ref().map(|p| p.concat()),
            needs.then_some(asns)
        );
    }
}

#[test]
fn announce_round_trips_for_4_and_2_octet_peers() {
    for caps in [AS4, AS2] {
        for nh in [nh4(), nh6()] {
            let want = attrs(nh);
            let p = vec![if matches!(nh, NextHop::V4(_)) {
                net("198.51.100.0/24")
            } else {
                net("2001:db8:5::/48")
            }];
            let export = Export::Announce(Arc::new(attrs(nh)), p.clone());
            let (_, got) = round_trip(&export, &caps);
            assert_eq!(got.len(), 1);
            let (a, prefixes) = &got[0].announced[0];
            assert_eq!(a, &want, "as4={} {nh:?}", caps.as4);
            assert_eq!(prefixes, &p);
        }
    }
}

#[test]
fn encoded_attributes_are_cached_per_as_width() {
    let a = Arc::new(attrs(nh4()));
    let export = Export::Announce(a.clone(), vec![net("198.51.100.0/24")]);
    let (first, _) = round_trip(&export, &AS4);
    assert!(a.encoded(true).get().is_some() && a.encoded(false).get().is_none());
    let (second, _) = round_trip(&export, &AS4);
    assert_eq!(first, second);
    round_trip(&export, &AS2);
    assert!(a.encoded(false).get().is_some());
    assert_ne!(
        a.encoded(false).get(),
        a.encoded(true).get(),
        "2-octet form differs (AS_TRANS, AS4_PATH)"
    );
}

#[test]
fn long_values_use_extended_length() {
    let long_path = AsPath(vec![Segment::Sequence(
        (1..=300).map(|i| 4_200_000_000 + i).collect(),
    )]);
    let communities = attr(OPTIONAL | TRANSITIVE, COMMUNITIES, &[7u8; 400]);
    assert_eq!(communities[0] & EXTENDED, EXTENDED);
    for caps in [AS4, AS2] {
        let set = AttrSet::new(
            0,
            long_path.clone(),
            nh4(),
            None,
            Bytes::from(communities.clone()),
        );
        let export = Export::Announce(Arc::new(set), vec![net("198.51.100.0/24")]);
        let (msgs, got) = round_trip(&export, &caps);
        let body = msgs[0].get(23..).expect("attributes");
        let path_attr = RawAttrs::new(body)
            .nth(1)
            .expect("AS_PATH")
            .expect("well-formed");
        assert_eq!(
            (path_attr.code, path_attr.flags & EXTENDED),
            (AS_PATH, EXTENDED)
        );
        let a = &got[0].announced[0].0;
        // 300 ASNs travel as two segments (255 + 45): the same path.
        assert_eq!(
            a.as_path.asns().collect::<Vec<_>>(),
            long_path.asns().collect::<Vec<_>>()
        );
        assert_eq!(a.other, Bytes::from(communities.clone()));
    }
}

#[test]
fn many_prefixes_pack_into_full_messages_each_sent_once() {
    let (v4, v6) = prefixes(1000);
    for max_len in [MAX_LEN, MAX_LEN_EXTENDED] {
        let caps = Caps {
            as4: true,
            max_len,
            rov_ext_community: false,
            extended_next_hop: false,
        };
        for (nh, p) in [(nh4(), &v4), (nh6(), &v6)] {
            let export = Export::Announce(Arc::new(attrs(nh)), p.clone());
            let (msgs, got) = round_trip(&export, &caps);
            let mut all: Vec<IpNet> = got
                .iter()
                .flat_map(|u| u.announced.iter().flat_map(|(_, v)| v.clone()))
                .collect();
            assert_eq!(all.len(), p.len(), "every prefix exactly once");
            all.sort();
            let mut want = p.clone();
            want.sort();
            assert_eq!(all, want);
            // Full: every message but the last has no room for one more prefix.
            for m in &msgs[..msgs.len() - 1] {
                assert!(
                    m.len() + nlri::prefix_size(&p[0]) > max_len,
                    "{} bytes not full",
                    m.len()
                );
            }
            if max_len == MAX_LEN {
                assert!(
                    msgs.len() > 1,
                    "1000 prefixes need several 4096-byte messages"
                );
            }
        }
        let both: Vec<IpNet> = v4.iter().chain(&v6).copied().collect();
        let (msgs, got) = round_trip(&Export::Withdraw(both.clone()), &caps);
        let withdrawn: Vec<IpNet> = got.iter().flat_map(|u| u.withdrawn.clone()).collect();
        assert_eq!(
            withdrawn, both,
            "withdrawals packed in order, IPv4 then IPv6"
        );
        assert!(msgs.len() >= if max_len == MAX_LEN { 3 } else { 2 });
    }
}

#[test]
fn routes_that_cannot_be_encoded_are_withdrawn() {
    // 4,064 bytes of communities leave no room for a prefix in a 4096-byte message.
    let big = attr(OPTIONAL | TRANSITIVE, COMMUNITIES, &[1u8; 4064]);
    let set = AttrSet::new(
        0,
        AsPath(vec![Segment::Sequence(vec![64496])]),
        nh4(),
        None,
        Bytes::from(big),
    );
    let p = vec![net("198.51.100.0/24")];
    let (_, got) = round_trip(&Export::Announce(Arc::new(set), p.clone()), &AS4);
    assert_eq!(got.len(), 1);
    assert!(got[0].announced.is_empty());
    assert_eq!(got[0].withdrawn, p);
    // An IPv6 prefix with an IPv4 next hop cannot be announced either.
    let v6 = vec![net("2001:db8::/32")];
    let (_, got) = round_trip(&Export::Announce(Arc::new(attrs(nh4())), v6.clone()), &AS4);
    assert_eq!(got[0].withdrawn, v6);
}

#[test]
fn ipv6_next_hop_with_and_without_link_local() {
    for nh in [
        nh6(),
        NextHop::V6("2001:db8::2".parse().expect("addr"), None),
    ] {
        let export = Export::Announce(Arc::new(attrs(nh)), vec![net("2001:db8:7::/48")]);
        let (msgs, got) = round_trip(&export, &AS4);
        assert_eq!(got[0].announced[0].0.next_hop, nh);
        // MP_REACH_NLRI is the first attribute (RFC 7606 §5.1).
        let first = RawAttrs::new(msgs[0].get(23..).expect("attrs")).next();
        assert_eq!(first.and_then(|a| a.ok()).map(|a| a.code), Some(MP_REACH));
    }
}
