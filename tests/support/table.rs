//! The shared full table as tests see it: where it is, and a check that routes which went
//! through a route server arrived with the MRT's attributes.

use std::path::PathBuf;

use foldhash::HashMap;
use ipnet::IpNet;
use rovgate::bgp::wire::attr::{RawAttrs, COMMUNITIES, LARGE_COMMUNITIES};
use rovgate::feed;
use rovgate::route::{AttrSet, Attrs};

/// The full table: one peer, 998,042 IPv4 + 160,147 IPv6 routes.
pub const FULL_TABLE: &str = "tables/fulltable-2024.mrt.gz";
/// A multi-peer RouteViews RIB, cut after 1 MiB: read it with `Truncated::Read`
/// (`--allow-truncated`).
pub const SMALL_RIB: &str = "mrt/rib.20140523.0600_firstMB.bz2";

/// A file under `../shared/data`.
pub fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(path)
}

/// The values of a community attribute as a sorted list of `unit`-byte communities: BIRD
/// sorts them on export, and a community attribute is a set (RFC 1997, RFC 8092).
fn communities(a: &AttrSet, code: u8, unit: usize) -> Option<Vec<Vec<u8>>> {
    let raw = RawAttrs::new(&a.other)
        .filter_map(Result::ok)
        .find(|r| r.code == code)?;
    let mut set: Vec<Vec<u8>> = raw.value.chunks(unit).map(<[u8]>::to_vec).collect();
    set.sort();
    Some(set)
}

/// Every 997th route of the MRT arrived with the same AS_PATH, COMMUNITIES and
/// LARGE_COMMUNITY.
pub fn check_sample(routes: &HashMap<IpNet, Attrs>) {
    let feed = feed::load(&data(FULL_TABLE)).expect("load");
    let sample = (feed[0].batches.iter())
        .flat_map(|(a, p)| p.iter().map(move |p| (p, a)))
        .filter(|(_, a)| feed::deliverable(a))
        .step_by(997);
    let (mut checked, mut large) = (0, 0);
    let (c, l) = (COMMUNITIES, LARGE_COMMUNITIES);
    for (prefix, sent) in sample {
        let got = routes
            .get(prefix)
            .unwrap_or_else(|| panic!("{prefix} missing"));
        assert_eq!(got.as_path, sent.as_path, "{prefix}");
        assert_eq!(communities(got, c, 4), communities(sent, c, 4), "{prefix}");
        assert_eq!(
            communities(got, l, 12),
            communities(sent, l, 12),
            "{prefix}"
        );
        large += usize::from(communities(sent, l, 12).is_some());
        checked += 1;
    }
    assert!(
        checked > 1000 && large > 10,
        "{checked} checked, {large} with large communities"
    );
}
