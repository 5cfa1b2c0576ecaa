//! The members (from INEX's real clients file), the share rule, the copies and the slices;
//! and what a member's tally waits for. Reading the file is the config side's
//! (`config/members_tests.rs`).

use std::path::PathBuf;
use std::sync::Arc;

use ipnet::IpNet;

use super::*;
use crate::replay::prefix_set::PrefixSet;
use crate::replay::tally::{Catalog, Tally};
use crate::route::{AttrSet, NextHop};

fn p(s: &str) -> IpNet {
    s.parse().expect("prefix")
}

/// IPv4 clients only, one per AS; 60 % of the limit; copies from private ASNs, same slices.
#[test]
fn members_are_ipv4_clients_per_as_copied() {
    // As the config side's reader gives the addresses of a clients file, in file order.
    let client = |asn, address: &str, max_prefixes| MemberPeer {
        key: String::new(),
        asn,
        address: address.parse().expect("address"),
        max_prefixes,
        as_sets: vec![],
    };
    let clients = [
        client(112, "185.6.36.6", Some(20)),
        client(112, "2001:7f8:18::6", Some(20)),
        client(1213, "185.6.36.16", Some(100)),
        client(1213, "185.6.36.15", Some(100)),
        client(64511, "185.6.36.99", None),
    ];
    let m = members(&clients, 2);
    let member = |asn, max_prefix, group, share| Member {
        asn,
        max_prefix,
        group,
        share,
    };
    assert_eq!(
        m,
        [
            member(112, Some(20), 0, 12),
            member(1213, Some(100), 1, 60),
            member(64511, None, 2, 0),
            member(SYNTHETIC_AS, Some(20), 0, 12),
            member(SYNTHETIC_AS + 1, Some(100), 1, 60),
            member(SYNTHETIC_AS + 2, None, 2, 0),
        ]
    );
}

/// INEX's file: 87 IPv4 client entries of 83 ASes, whose shares total 240,384 routes
/// (about the 240k of issue 12); ten copies are 830 members with distinct ASNs.
#[test]
fn inex_has_83_members_and_240k_routes() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/ixp/inex.yml");
    let one = load(&path, 1).expect("loads");
    assert_eq!(one.len(), 83);
    assert_eq!(one.iter().map(|m| m.share).sum::<usize>(), 240_384);
    let ten = load(&path, 10).expect("loads");
    assert_eq!(ten.len(), 830);
    let asns: HashSet<u32> = ten.iter().map(|m| m.asn).collect();
    assert_eq!(asns.len(), 830);
    assert_eq!(ten.iter().map(|m| m.share).sum::<usize>(), 2_403_840);
}

fn prefixes(v: &[&str]) -> Vec<IpNet> {
    v.iter().map(|s| p(s)).collect()
}

fn announce(tally: &mut Tally, v: &[&str]) {
    tally.apply(&[], &prefixes(v));
}

fn withdraw(tally: &mut Tally, v: &[&str]) {
    tally.apply(&prefixes(v), &[]);
}

fn feed(batches: &[&[&str]]) -> FeedPeer {
    let nh = NextHop::V4("192.0.2.1".parse().expect("address"));
    let attrs = || {
        Arc::new(AttrSet::new(
            0,
            Default::default(),
            nh,
            None,
            Default::default(),
        ))
    };
    FeedPeer {
        asn: 64496,
        address: "192.0.2.1".parse().expect("address"),
        batches: (batches.iter())
            .map(|b| (attrs(), b.iter().map(|s| p(s)).collect()))
            .collect(),
    }
}

/// Slices are consecutive and disjoint, cut across batches, each piece keeping its
/// batch's attributes; a table too small for the shares is an error.
#[test]
fn slices_cut_the_table_in_order() {
    let table = feed(&[&["10.0.0.0/8", "11.0.0.0/8", "12.0.0.0/8"], &["13.0.0.0/8"]]);
    let s = slices(&table, &[2, 0, 2]).expect("fits");
    let prefixes =
        |f: &FeedPeer| -> Vec<IpNet> { f.batches.iter().flat_map(|(_, p)| p.clone()).collect() };
    assert_eq!(prefixes(&s[0]), [p("10.0.0.0/8"), p("11.0.0.0/8")]);
    assert!(s[1].batches.is_empty());
    assert_eq!(prefixes(&s[2]), [p("12.0.0.0/8"), p("13.0.0.0/8")]);
    assert_eq!(s[2].batches.len(), 2, "one piece per batch");
    assert!(Arc::ptr_eq(&s[2].batches[1].0, &table.batches[1].0));
    assert!(matches!(
        slices(&table, &[3, 2]),
        Err(MembersError::TableTooSmall { needed: 5, have: 4 })
    ));
}

/// A member waits for every expected prefix outside its own slice: its own slice coming
/// back counts as unique but not as received, an uncatalogued prefix as unexpected, a
/// withdrawal takes a prefix away; complete once all arrived, and what it held then stays.
#[test]
fn a_member_waits_for_the_other_slices() {
    let table = feed(&[&["10.0.0.0/8", "11.0.0.0/8", "12.0.0.0/8", "13.0.0.0/8"]]);
    let s = slices(&table, &[1, 3]).expect("fits");
    // 13/8 is not expected (RPKI-invalid, say).
    let expected: PrefixSet = ["10.0.0.0/8", "11.0.0.0/8", "12.0.0.0/8"]
        .iter()
        .map(|s| p(s))
        .collect();
    let catalog = Arc::new(Catalog::new(&s, &expected));
    assert_eq!(
        (
            catalog.len(),
            catalog.expected_by(0),
            catalog.expected_by(1)
        ),
        (3, 2, 1)
    );
    let (done, mut complete) = tokio::sync::mpsc::unbounded_channel();
    let mut tally = Tally::new(catalog, 0, Arc::default(), done);
    announce(&mut tally, &["10.0.0.0/8", "11.0.0.0/8", "13.0.0.0/8"]);
    withdraw(&mut tally, &["11.0.0.0/8"]);
    announce(&mut tally, &["12.0.0.0/8"]);
    assert!(complete.try_recv().is_err(), "11/8 was withdrawn");
    assert_eq!(tally.report().received, 1);
    announce(&mut tally, &["11.0.0.0/8"]);
    assert!(complete.try_recv().is_ok());
    withdraw(&mut tally, &["12.0.0.0/8"]);
    let r = tally.report();
    assert_eq!((r.expected, r.received, r.unique), (2, 2, 3));
    assert_eq!(
        (r.announced, r.unexpected, r.withdrawn, r.updates),
        (5, 1, 2, 5)
    );
    assert!(r.complete_at.is_some() && r.last_new == r.complete_at);
}

/// The catalog tells prefixes apart: IPv4 at both ends of the address space, of equal
/// address but other lengths, in other blocks of its index, and IPv6; a prefix in two slices is
/// the first slice's.
#[test]
fn the_catalog_tells_prefixes_apart() {
    let own = ["10.1.0.0/24", "0.0.0.0/0", "2001:db8::/48"];
    let others = [
        "10.0.0.0/16",
        "10.0.0.0/8",
        "2001:db8::/32",
        "255.255.255.255/32",
    ];
    let s = [feed(&[&others]), feed(&[&["10.0.0.0/16"], &own])];
    let expected: PrefixSet = own.iter().chain(&others).map(|s| p(s)).collect();
    let catalog = Arc::new(Catalog::new(&s, &expected));
    assert_eq!(
        (
            catalog.len(),
            catalog.expected_by(0),
            catalog.expected_by(1)
        ),
        (7, 3, 4)
    );
    let (done, mut complete) = tokio::sync::mpsc::unbounded_channel();
    let mut tally = Tally::new(catalog, 1, Arc::default(), done);
    announce(&mut tally, &["10.0.0.0/24", "10.1.0.0/16", "2001:db8::/64"]);
    announce(&mut tally, &own);
    assert!(
        complete.try_recv().is_err(),
        "its own slice is not waited for"
    );
    announce(&mut tally, &others);
    assert!(complete.try_recv().is_ok());
    let r = tally.report();
    assert_eq!((r.received, r.unique, r.unexpected), (4, 7, 3));
}
