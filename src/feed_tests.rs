//! Loading real MRT files from `../shared/data` into feeds: counts of the shared full
//! table, multi-peer RIB dumps, update files, and the synthetic-UPDATE helpers.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use super::*;
use bytes::Bytes;

use crate::bgp::wire::attr::{self, RawAttrs};
use crate::route::NextHop;

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(path)
}

/// The shared full table: one peer, AS64496, 998,042 IPv4 + 160,147 IPv6 routes, about
/// 80,000 attribute sets, every prefix once, paths starting with the peer's AS. Prints the
/// load time (run with `--nocapture` to see it).
#[test]
fn full_table_groups_by_attribute_set() {
    let start = Instant::now();
    let peers = load(&data("tables/fulltable-2024.mrt.gz")).expect("load the full table");
    eprintln!("full table loaded in {:?}", start.elapsed());
    assert_eq!(peers.len(), 1);
    let peer = &peers[0];
    assert_eq!(peer.asn, 64496);
    assert_eq!(peer.routes_of(Family::Ipv4Unicast), 998_042);
    assert_eq!(peer.routes_of(Family::Ipv6Unicast), 160_147);
    assert_eq!(peer.routes(), 1_158_189);
    let v4 = peer
        .batches
        .iter()
        .filter(|(a, _)| matches!(a.next_hop, NextHop::V4(_)))
        .count();
    let v6 = peer.batches.len() - v4;
    eprintln!("{v4} IPv4 + {v6} IPv6 attribute sets");
    assert!((70_000..=100_000).contains(&v4), "{v4} IPv4 groups");
    let distinct: HashSet<&IpNet> = peer.batches.iter().flat_map(|(_, p)| p).collect();
    assert_eq!(distinct.len(), 1_158_189);
    // One route's path ends in AS 0: sent, but not waited for (RFC 7607).
    let undeliverable: Vec<String> = (peer.batches.iter())
        .filter(|(a, _)| !deliverable(a))
        .flat_map(|(a, p)| p.iter().map(move |p| format!("{p} {}", a.as_path)))
        .collect();
    assert_eq!(
        undeliverable,
        ["2001:7f8:66::/64 64496 206499 200753 34549 6939 0"]
    );
    for (a, prefixes) in &peer.batches {
        assert_eq!(a.as_path.first().map(|a| a.0), Some(64496), "{}", a.as_path);
        let v6 = matches!(a.next_hop, NextHop::V6(..));
        assert!(prefixes.iter().all(|p| matches!(p, IpNet::V6(_)) == v6));
    }
}

/// Communities and large communities stay in `other` as wire attributes that the
/// attribute iterator reads back whole.
#[test]
fn other_attributes_stay_valid_wire_bytes() {
    let peers = load(&data("tables/fulltable-2024.mrt.gz")).expect("load");
    let mut codes = HashSet::new();
    for (a, _) in &peers[0].batches {
        for raw in RawAttrs::new(&a.other) {
            codes.insert(raw.expect("whole attribute").code);
        }
    }
    assert!(codes.contains(&attr::COMMUNITIES), "{codes:?}");
    assert!(codes.contains(&attr::LARGE_COMMUNITIES), "{codes:?}");
    assert!(!codes.contains(&attr::LOCAL_PREF), "{codes:?}");
}

/// A multi-peer RouteViews RIB dump, cut after 1 MiB: refused, or read up to the cut on
/// request: several peers, each with routes.
#[test]
fn multi_peer_rib_dump_cut_short() {
    let file = data("mrt/rib.20140523.0600_firstMB.bz2");
    match load(&file) {
        Err(e @ MrtError::Read(ReadError::Truncated { records: 9073, .. })) => {
            assert!(
                e.to_string()
                    .contains("rib.20140523.0600_firstMB.bz2 is cut short after 9073 records: "),
                "{e}"
            );
        }
        other => panic!("expected cut short after 9073 records, got {other:?}"),
    }
    let peers = load_with(&file, Truncated::Read).expect("load");
    assert!(peers.len() > 10, "{} peers", peers.len());
    assert!(peers.iter().all(|p| p.routes() > 0 && p.asn != 0));
    let v6 = load_with(&data("mrt/rib6.20151101.0600_firstMB.bz2"), Truncated::Read).expect("load");
    assert!(
        v6.iter()
            .map(|p| p.routes_of(Family::Ipv6Unicast))
            .sum::<usize>()
            > 1000
    );
}

/// An update file: the routes announced at its end, per peer; far fewer than the 159,948
/// announcements, since withdrawals and re-announcements replace earlier ones.
#[test]
fn update_file_keeps_final_routes() {
    let peers = load(&data("mrt/updates.20190101.0000.gz")).expect("load");
    let total: usize = peers.iter().map(FeedPeer::routes).sum();
    assert!(peers.len() > 10, "{} peers", peers.len());
    assert!((10_000..159_948).contains(&total), "{total} routes");
    for p in &peers {
        let prefixes: HashSet<&IpNet> = p.batches.iter().flat_map(|(_, v)| v).collect();
        assert_eq!(
            prefixes.len(),
            p.routes(),
            "a prefix twice for {}",
            p.address
        );
    }
}

/// A missing file is an error naming it.
#[test]
fn missing_file_is_named() {
    let err = load(Path::new("/nonexistent/rib.gz")).expect_err("no such file");
    assert!(err.to_string().contains("/nonexistent/rib.gz"), "{err}");
}

/// `with_asn` replaces the peer's own first AS, and prepends to other paths.
#[test]
fn with_asn_rewrites_the_first_as() {
    let nh = NextHop::V4("192.0.2.1".parse().expect("address"));
    let set = |path: Vec<u32>| {
        Arc::new(AttrSet::new(
            0,
            AsPath(vec![Segment::Sequence(path)]),
            nh,
            None,
            Bytes::new(),
        ))
    };
    let peer = FeedPeer {
        asn: 64496,
        address: "192.0.2.1".parse().expect("address"),
        batches: vec![
            (
                set(vec![64496, 3356, 15169]),
                vec!["10.0.0.0/8".parse().expect("prefix")],
            ),
            (
                set(vec![174, 15169]),
                vec!["11.0.0.0/8".parse().expect("prefix")],
            ),
        ],
    };
    let moved = peer.with_asn(64510);
    assert_eq!(moved.asn, 64510);
    assert_eq!(moved.batches[0].0.as_path.to_string(), "64510 3356 15169");
    assert_eq!(moved.batches[1].0.as_path.to_string(), "64510 174 15169");
}

/// Prefixes in NLRI form, host bits cleared; lengths past the family's maximum refused.
#[test]
fn nlri_prefixes() {
    let p = |b: &[u8], f| updates::prefix(b, f).map(|p| p.to_string());
    assert_eq!(
        p(&[24, 192, 0, 2], Family::Ipv4Unicast).as_deref(),
        Some("192.0.2.0/24")
    );
    assert_eq!(
        p(&[7, 0xff], Family::Ipv4Unicast).as_deref(),
        Some("254.0.0.0/7")
    );
    assert_eq!(p(&[0], Family::Ipv6Unicast).as_deref(), Some("::/0"));
    assert_eq!(p(&[33, 1, 2, 3, 4, 5], Family::Ipv4Unicast), None);
    assert_eq!(p(&[24, 1, 2], Family::Ipv4Unicast), None);
}
