//! UPDATEs with path identifiers (RFC 7911 §3), read back by netgauze, an independent
//! decoder, told that ADD-PATH was negotiated for both families.

use std::collections::HashMap;
use std::sync::Arc;

use netgauze_bgp_pkt::codec::BgpCodec;
use netgauze_bgp_pkt::nlri::{Ipv4UnicastAddress, Ipv6UnicastAddress};
use netgauze_bgp_pkt::path_attribute::{MpReach, MpUnreach, PathAttributeValue};
use netgauze_bgp_pkt::wire::deserializer::BgpParsingContext;
use netgauze_bgp_pkt::BgpMessage;
use netgauze_iana::address_family::AddressType;

use super::*;
use crate::route::{AsPath, AttrSet, Export, NextHop, PathNlri, Segment};

/// The paths one UPDATE announces and withdraws, as (path id, prefix).
#[derive(Debug, Default, PartialEq)]
struct Paths {
    announced: Vec<(u32, IpNet)>,
    withdrawn: Vec<(u32, IpNet)>,
}

fn v4(n: &[Ipv4UnicastAddress]) -> impl Iterator<Item = (u32, IpNet)> + '_ {
    n.iter().map(|a| {
        (
            a.path_id().expect("a path id"),
            IpNet::V4(a.network().address()),
        )
    })
}

fn v6(n: &[Ipv6UnicastAddress]) -> impl Iterator<Item = (u32, IpNet)> + '_ {
    n.iter().map(|a| {
        (
            a.path_id().expect("a path id"),
            IpNet::V6(a.network().address()),
        )
    })
}

/// Reads an UPDATE with netgauze (strict), ADD-PATH on for IPv4 and IPv6 unicast.
fn read(msg: &[u8]) -> Paths {
    let add_path = HashMap::from([
        (AddressType::Ipv4Unicast, true),
        (AddressType::Ipv6Unicast, true),
    ]);
    let ctx = BgpParsingContext::new(true, HashMap::new(), add_path, true, true, true, true);
    let mut codec = BgpCodec::new_from_ctx(true, ctx);
    let mut buf = BytesMut::from(msg);
    let Ok(Some((BgpMessage::Update(u), _))) = codec.decode(&mut buf) else {
        panic!("netgauze reads the UPDATE");
    };
    let mut paths = Paths {
        announced: v4(u.nlri()).collect(),
        withdrawn: v4(u.withdraw_routes()).collect(),
    };
    for a in u.path_attributes() {
        match a.value() {
            PathAttributeValue::MpReach(MpReach::Ipv6Unicast { nlri, .. }) => {
                paths.announced.extend(v6(nlri))
            }
            PathAttributeValue::MpUnreach(MpUnreach::Ipv6Unicast { nlri }) => {
                paths.withdrawn.extend(v6(nlri))
            }
            _ => {}
        }
    }
    paths
}

fn path(id: u32, prefix: &str) -> PathNlri {
    PathNlri {
        id,
        prefix: net(prefix),
    }
}

fn attrs(next_hop: NextHop) -> Arc<AttrSet> {
    let as_path = AsPath(vec![Segment::Sequence(vec![64496])]);
    Arc::new(AttrSet::new(0, as_path, next_hop, None, Vec::new().into()))
}

/// Every message's paths, in order, and whether each fits the peer's maximum.
fn encode(export: &Export, caps: &Caps) -> Vec<Paths> {
    let mut msgs = Vec::new();
    encode_updates(export, caps, &mut msgs);
    assert!(msgs.iter().all(|m| m.len() <= caps.max_len), "{export:?}");
    msgs.iter().map(|m| read(m)).collect()
}

/// Expected: each prefix goes out with its path id before it (two paths of one prefix in
/// one UPDATE), IPv4 in the NLRI and withdrawn routes fields, IPv6 in MP_REACH and
/// MP_UNREACH.
#[test]
fn paths_go_out_with_their_identifiers() {
    let v4 = [
        path(1, "192.0.2.0/24"),
        path(7, "192.0.2.0/24"),
        path(0, "10.0.0.0/8"),
    ];
    let v6 = [
        path(3, "2001:db8::/32"),
        path(4_000_000_000, "2001:db8:1::/48"),
    ];
    let pairs = |p: &[PathNlri]| p.iter().map(|p| (p.id, p.prefix)).collect::<Vec<_>>();
    let nh6 = NextHop::V6("2001:db8::1".parse().expect("addr"), None);
    let nh4 = NextHop::V4("192.0.2.1".parse().expect("addr"));
    // (export, the one message netgauze reads)
    let cases = [
        (
            Export::AnnouncePaths(attrs(nh4), v4.to_vec()),
            Paths {
                announced: pairs(&v4),
                ..Paths::default()
            },
        ),
        (
            Export::AnnouncePaths(attrs(nh6), v6.to_vec()),
            Paths {
                announced: pairs(&v6),
                ..Paths::default()
            },
        ),
        (
            Export::WithdrawPaths(v4.to_vec()),
            Paths {
                withdrawn: pairs(&v4),
                ..Paths::default()
            },
        ),
        (
            Export::WithdrawPaths(v6.to_vec()),
            Paths {
                withdrawn: pairs(&v6),
                ..Paths::default()
            },
        ),
    ];
    for (export, expected) in cases {
        assert_eq!(encode(&export, &AS4), [expected], "{export:?}");
    }
}

/// Expected: paths that do not fit one message are packed into several, counting the
/// identifiers' 4 octets, none lost.
#[test]
fn many_paths_are_packed_by_their_size() {
    let paths: Vec<PathNlri> = (0..2000u32)
        .map(|i| PathNlri {
            id: i % 5,
            prefix: IpNet::V4(
                ipnet::Ipv4Net::new((0x0a00_0000 + (i << 8)).into(), 24).expect("net"),
            ),
        })
        .collect();
    let nh4 = NextHop::V4("192.0.2.1".parse().expect("addr"));
    for export in [
        Export::AnnouncePaths(attrs(nh4), paths.clone()),
        Export::WithdrawPaths(paths.clone()),
    ] {
        let msgs = encode(&export, &AS4);
        assert!(msgs.len() > 1, "one message cannot carry 2000 paths");
        let got: Vec<(u32, IpNet)> = (msgs.into_iter())
            .flat_map(|m| m.announced.into_iter().chain(m.withdrawn))
            .collect();
        assert_eq!(
            got,
            paths.iter().map(|p| (p.id, p.prefix)).collect::<Vec<_>>()
        );
    }
}

/// Decodes with `ids`, as (path id, prefix) pairs announced and withdrawn.
fn decode_paths(msg: &[u8], ids: PathIds) -> Paths {
    let (update, faults) = decode_update_paths(msg, &AS4, ids).expect("decodes");
    assert_eq!(faults, Faults::default());
    let pairs = |v: &[PathNlri]| v.iter().map(|p| (p.id, p.prefix)).collect::<Vec<_>>();
    Paths {
        announced: (update.announced.iter())
            .flat_map(|(_, p)| pairs(p))
            .collect(),
        withdrawn: pairs(&update.withdrawn),
    }
}

/// Expected: what the encoder writes with path ids (checked against netgauze above) reads
/// back with the same ids, two paths of one prefix as two: IPv4 in the body fields, IPv6
/// in MP_REACH/MP_UNREACH.
#[test]
fn paths_are_read_with_their_identifiers() {
    let both = PathIds {
        ipv4: true,
        ipv6: true,
    };
    let v4 = vec![path(1, "192.0.2.0/24"), path(2, "192.0.2.0/24")];
    let v6 = vec![path(9, "2001:db8::/32"), path(u32::MAX, "2001:db8::/32")];
    let nh4 = NextHop::V4("192.0.2.1".parse().expect("addr"));
    let nh6 = NextHop::V6("2001:db8::1".parse().expect("addr"), None);
    let exports = [
        Export::AnnouncePaths(attrs(nh4), v4.clone()),
        Export::AnnouncePaths(attrs(nh6), v6.clone()),
        Export::WithdrawPaths(v4),
        Export::WithdrawPaths(v6),
    ];
    for export in exports {
        let mut msgs = Vec::new();
        encode_updates(&export, &AS4, &mut msgs);
        let [msg] = &msgs[..] else {
            panic!("one message")
        };
        assert_eq!(decode_paths(msg, both), read(msg), "{export:?}");
    }
}

/// Expected: a family without ADD-PATH reads as before (path id 0) next to one with it.
#[test]
fn only_the_families_with_add_path_carry_identifiers() {
    let v4_only = PathIds {
        ipv4: true,
        ipv6: false,
    };
    let nh6 = NextHop::V6("2001:db8::1".parse().expect("addr"), None);
    let plain = Export::Announce(attrs(nh6), vec![net("2001:db8::/32")]);
    let mut msgs = Vec::new();
    encode_updates(&plain, &AS4, &mut msgs);
    let got = decode_paths(&msgs[0], v4_only);
    assert_eq!(got.announced, [(0, net("2001:db8::/32"))]);
}

/// Expected: a path identifier cut short, or one with no prefix after it, is a bad prefix
/// field: NOTIFICATION 3/10 in the body (RFC 7606 §5.3), 3/9 inside MP_UNREACH (RFC 4760
/// §7); without ADD-PATH the same four bytes are four default routes withdrawn.
#[test]
fn a_truncated_path_identifier_is_a_bad_prefix() {
    let ids = PathIds {
        ipv4: true,
        ipv6: true,
    };
    let subcode = |msg: &[u8]| {
        decode_update_paths(msg, &AS4, ids)
            .err()
            .map(|n| (n.code, n.subcode))
    };
    let withdrawn_id_only = update(&[0, 0, 0, 0], &[], &[]);
    assert_eq!(subcode(&withdrawn_id_only), Some((3, 10)));
    let withdrawn_short_id = update(&[0, 0, 1], &[], &[]);
    assert_eq!(subcode(&withdrawn_short_id), Some((3, 10)));
    let unreach = attr(0x80, 15, &[0, 2, 1, 0, 0, 0]);
    assert_eq!(subcode(&update(&[], &unreach, &[])), Some((3, 9)));
    let plain = decode_update(&withdrawn_id_only, &AS4).expect("four default routes");
    assert_eq!(plain.withdrawn, [net("0.0.0.0/0"); 4]);
}
