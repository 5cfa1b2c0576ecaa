//! The replay's pure parts: the feeder's encoding of a whole feed (decoded back by the
//! codec), the median, and the address/AS numbering.

use std::path::PathBuf;
use std::time::Duration;

use foldhash::HashMap;

use super::feeder::encode;
use super::*;
use crate::bgp::wire::{self, Caps, MAX_LEN, MAX_LEN_EXTENDED};
use crate::route::{AttrSet, NextHop};

fn full_table() -> feed::FeedPeer {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/tables/fulltable-2024.mrt.gz");
    feed::load(&path).expect("load the full table").remove(0)
}

fn same(a: &AttrSet, b: &AttrSet) -> bool {
    (a.origin, &a.as_path, a.next_hop, a.med, &a.other)
        == (b.origin, &b.as_path, b.next_hop, b.med, &b.other)
}

/// Every route of the full table, encoded by the feeder for 4096-byte and for extended
/// messages, decodes back to its own attributes, End-of-RIB for both families last; the
/// route with AS 0 in its path decodes as treat-as-withdraw (RFC 7607).
#[test]
fn feeder_encoding_decodes_back_to_the_feed() {
    let feed = full_table();
    let sent: HashMap<IpNet, &AttrSet> = (feed.batches.iter())
        .flat_map(|(a, p)| p.iter().map(move |p| (*p, a.as_ref())))
        .collect();
    for max_len in [MAX_LEN, MAX_LEN_EXTENDED] {
        let caps = Caps {
            as4: true,
            max_len,
            rov_ext_community: false,
            extended_next_hop: false,
        };
        let (chunks, count) = encode(&feed, &caps, &Family::ALL);
        let mut framer = wire::Framer::new();
        framer.set_max_len(max_len);
        let mut buf = bytes::BytesMut::from(&chunks.concat()[..]);
        let (mut messages, mut announced, mut withdrawn, mut eor) = (0, 0, Vec::new(), Vec::new());
        while let Some(frame) =
            tokio_util::codec::Decoder::decode(&mut framer, &mut buf).expect("frame")
        {
            messages += 1;
            let update = wire::decode_update(&frame.bytes, &caps).expect("decodes");
            for (attrs, prefixes) in &update.announced {
                for p in prefixes {
                    assert!(same(attrs, sent[p]), "{p}: {attrs:?} != {:?}", sent[p]);
                    announced += 1;
                }
            }
            withdrawn.extend(update.withdrawn);
            eor.extend(update.end_of_rib);
        }
        assert!(buf.is_empty());
        assert_eq!(messages, count);
        assert_eq!(announced, 1_158_188, "max_len {max_len}");
        assert_eq!(
            withdrawn,
            ["2001:7f8:66::/64".parse::<IpNet>().expect("prefix")]
        );
        assert_eq!(eor, Family::ALL);
    }
}

/// Only the families asked for are encoded, with End-of-RIB for each.
#[test]
fn feeder_encodes_only_negotiated_families() {
    let nh = NextHop::V4("192.0.2.1".parse().expect("address"));
    let attrs = Arc::new(AttrSet::new(
        0,
        Default::default(),
        nh,
        None,
        Default::default(),
    ));
    let feed = feed::FeedPeer {
        asn: 64496,
        address: "192.0.2.1".parse().expect("address"),
        batches: vec![(attrs, vec!["10.0.0.0/8".parse().expect("prefix")])],
    };
    let caps = Caps {
        as4: true,
        max_len: MAX_LEN,
        rov_ext_community: false,
        extended_next_hop: false,
    };
    let (_, count) = encode(&feed, &caps, &[Family::Ipv6Unicast]);
    assert_eq!(count, 1, "End-of-RIB for IPv6 only");
    let (_, count) = encode(&feed, &caps, &Family::ALL);
    assert_eq!(count, 3, "one UPDATE, two End-of-RIBs");
}

fn result(secs: &[u64]) -> ReplayResult {
    let run = |s: &u64| RunResult {
        convergence: Duration::from_secs(*s),
        send_time: Duration::ZERO,
        received: 0,
        updates_sent: 0,
        bytes_sent: 0,
        updates_received: 0,
        announced: 0,
        withdrawn: 0,
        unexpected: 0,
        malformed: Vec::new(),
        routes: None,
        churn: None,
        members: None,
    };
    ReplayResult {
        load_time: Duration::ZERO,
        feeders: 1,
        sent: 0,
        expected: 0,
        runs: secs.iter().map(run).collect(),
        churn: None,
    }
}

#[test]
fn median_of_runs() {
    assert_eq!(result(&[5, 1, 3]).median(), Duration::from_secs(3));
    assert_eq!(result(&[4, 1, 3, 8]).median(), Duration::from_millis(3500));
    assert_eq!(result(&[]).median(), Duration::ZERO);
}

/// Feeder addresses and ASNs count up from the first, stepping over the sink's.
#[test]
fn numbering_skips_the_sink() {
    let n = |i| nth_from(64496, i, 64497);
    assert_eq!([n(0), n(1), n(2)], [64496, 64498, 64499]);
    assert_eq!(nth_from(64497, 0, 64497), 64498);
    assert_eq!(nth_from(10, 3, 99), 13);
}
