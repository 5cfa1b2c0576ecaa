//! Real BGP messages from packet captures (`../shared/data/pcap`), checked against the
//! values tcpdump's expected decodes (`*.out`) show, and against netgauze for every UPDATE
//! of every capture (read with `capture`, on `bgp::test_capture`).

use super::super::attr::*;
use super::capture::capture_updates;
use super::*;
use crate::bgp::test_capture::{captures, pcap_dir};
use crate::route::{NextHop, Update};

/// The decoded UPDATEs of a tcpdump test capture; `as4` for sessions whose OPENs are not
/// in the capture.
fn tcpdump(name: &str, as4: bool) -> Vec<(Caps, Update)> {
    capture_updates(&pcap_dir().join("tcpdump-tests").join(name), as4)
        .into_iter()
        .map(|(caps, m)| {
            (
                caps,
                decode_update(&m, &caps).unwrap_or_else(|n| panic!("{name}: {n}")),
            )
        })
        .collect()
}

fn path_string(u: &Update) -> String {
    u.announced[0].0.as_path.to_string()
}

#[test]
fn tcpdump_4byte_asn_sessions_decode_as_tcpdump_shows() {
    let updates = tcpdump("bgp-4byte-asn.pcap", true);
    let mut got: Vec<(bool, String, String)> = updates
        .iter()
        .filter(|(_, u)| !u.announced.is_empty())
        .map(|(caps, u)| {
            (
                caps.as4,
                path_string(u),
                u.announced[0].0.next_hop.addr().to_string(),
            )
        })
        .collect();
    got.sort();
    // 2-octet sessions (as4 false) have AS4_PATH merged in: the paths tcpdump shows in
    // AS4 Path, with AS_PATH's leading ASNs where AS_PATH is longer.
    let mut want: Vec<(bool, String, String)> = [
        (false, "200 1 222222 333333 4294967290", "1.0.2.1"),
        (true, "2764334674 200 1 222222 333333 4294967290", "1.0.3.1"),
        (
            false,
            "2764334674 200 1 222222 333333 4294967290",
            "1.0.4.1",
        ),
        (true, "1", "1.0.0.1"),
        (true, "2764334674 1", "1.0.3.1"),
        (false, "2764334674 1", "1.0.4.1"),
        (false, "2764334674 1", "1.0.2.2"),
    ]
    .map(|(a, p, n)| (a, p.to_string(), n.to_string()))
    .to_vec();
    want.sort();
    assert_eq!(got, want);
    let first = updates
        .iter()
        .find(|(_, u)| !u.announced.is_empty())
        .map(|(_, u)| &u.announced[0])
        .expect("announced");
    assert_eq!(first.0.origin, 2, "Incomplete");
    assert_eq!(
        first.1,
        [
            "4.4.4.4/32",
            "5.5.5.5/32",
            "1.1.1.1/32",
            "2.2.2.2/32",
            "3.3.3.3/32"
        ]
        .map(net)
    );
    let withdrawals = updates
        .iter()
        .filter(|(_, u)| u.withdrawn.len() == 5)
        .count();
    assert_eq!(withdrawals, 3, "three sessions withdraw their five routes");
}

#[test]
fn tcpdump_large_communities_pass_through_in_other() {
    let updates = tcpdump("bgp-large-community.pcap", true);
    let lc = |a: u32, b: u32, c: u32| [a.to_be_bytes(), b.to_be_bytes(), c.to_be_bytes()].concat();
    let want: [(&str, Vec<u8>); 5] = [
        (
            "203.0.113.16/32",
            [lc(65535, 1, 1), lc(u32::MAX, u32::MAX, u32::MAX)].concat(),
        ),
        (
            "203.0.113.12/32",
            [lc(65536, 1, 1), lc(65536, 1, 2)].concat(),
        ),
        ("203.0.113.11/32", lc(65536, 1, 1)),
        (
            "203.0.113.15/32",
            [lc(65536, 0, 1), lc(65536, 1, 0)].concat(),
        ),
        (
            "203.0.113.13/32",
            [lc(65536, 1, 1), lc(65536, 1, 2), lc(65536, 1, 3)].concat(),
        ),
    ];
    assert_eq!(updates.len(), want.len());
    for ((_, u), (prefix, value)) in updates.iter().zip(want) {
        let (a, p) = &u.announced[0];
        assert_eq!(p, &vec![net(prefix)]);
        assert_eq!(a.as_path.to_string(), "65536");
        assert_eq!(a.next_hop, NextHop::V4("192.0.2.2".parse().expect("addr")));
        let kept =
            RawAttrs::new(&a.other).find_map(|x| x.ok().filter(|x| x.code == LARGE_COMMUNITIES));
        assert_eq!(
            kept.map(|x| (x.flags, x.value.to_vec())),
            Some((OPTIONAL | TRANSITIVE, value))
        );
    }
}

#[test]
fn tcpdump_ipv6_link_local_next_hop() {
    let updates = tcpdump("mpbgp-linklocal-nexthop.pcap", false);
    let (a, p) = &updates[0].1.announced[0];
    assert_eq!(p, &vec![net("4:5::/64")]);
    let nh = NextHop::V6(
        "dead:beef::1".parse().expect("addr"),
        Some("fe80::1ff:fe01:0".parse().expect("addr")),
    );
    assert_eq!(
        (a.next_hop, a.origin, a.as_path.to_string()),
        (nh, 2, "1".to_string())
    );
}

/// Every UPDATE in every capture decodes without panic; where netgauze (strict) also
/// reads it, both see the same unicast NLRI and withdrawals (or rovgate withdraws what
/// netgauze sees announced: treat-as-withdraw for errors netgauze does not check, such as
/// a missing NEXT_HOP). ADD-PATH captures are read without the capability by both, so
/// they are only checked for not panicking.
#[test]
fn every_captured_update_decodes_and_agrees_with_netgauze() {
    let (mut total, mut compared) = (0, 0);
    for file in captures(&pcap_dir()) {
        let name = file.to_string_lossy().to_string();
        let add_path = name.contains("add-path") || name.contains("addpath");
        for (caps, m) in capture_updates(&file, true) {
            total += 1;
            let ours = decode_update(&m, &caps);
            let theirs = super::roundtrip::netgauze_strict(&m, caps.as4);
            if let (Err(n), Some(_)) = (&ours, &theirs) {
                eprintln!("{name}: rovgate {n}, netgauze reads it");
            }
            let (Ok(u), Some(theirs), false) = (ours, theirs, add_path) else {
                continue;
            };
            compared += 1;
            let sorted = |mut v: Vec<IpNet>| {
                v.sort();
                v
            };
            let ann = sorted(u.announced.iter().flat_map(|(_, v)| v.clone()).collect());
            let (their_ann, their_wd) = (sorted(theirs.announced), sorted(theirs.withdrawn));
            if ann.is_empty() && !their_ann.is_empty() {
                assert_eq!(
                    sorted(u.withdrawn),
                    sorted([their_wd, their_ann].concat()),
                    "{name}: treat-as-withdraw"
                );
            } else {
                assert_eq!((ann, sorted(u.withdrawn)), (their_ann, their_wd), "{name}");
            }
        }
    }
    eprintln!("{total} captured UPDATEs, {compared} compared with netgauze");
    assert!(
        total > 500,
        "captures hold hundreds of UPDATEs, found {total}"
    );
    assert!(
        compared > 400,
        "most UPDATEs compared with netgauze, {compared} of {total}"
    );
}
