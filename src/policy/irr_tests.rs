//! Tests of the IRR ranges: the bgpq4 forms, lookups against a scan of the entries.

use ipnet::{Ipv4Net, Ipv6Net};

use super::*;

// The three entry forms bgpq4 writes (its printer's format strings), with -A aggregation.
const PREFIXES: &str = r#"{ "AS-EXAMPLE": [
{ "prefix": "192.0.2.0/24", "exact": true },
{ "prefix": "198.51.100.0/22", "exact": false,
  "greater-equal": 23, "less-equal": 24 },
{ "prefix": "2001:db8::/32", "exact": false, "less-equal": 48 }
] }"#;

fn irr() -> Irr {
    let mut irr = Irr::default();
    irr.add_prefixes(PREFIXES).unwrap();
    irr.add_origins("{\"AS-EXAMPLE\": [\n  64496,\n  64497\n]}")
        .unwrap();
    irr
}

/// An AS-SET of `(prefix, le)` entries, each from the prefix's own length up to `le`.
fn irr_up_to(entries: impl Iterator<Item = (String, u8)>) -> Irr {
    let list: Vec<String> = entries
        .map(|(p, max)| format!(r#"{{"prefix": "{p}", "exact": false, "less-equal": {max}}}"#))
        .collect();
    let mut irr = Irr::default();
    irr.add_prefixes(&format!(r#"{{"A": [{}]}}"#, list.join(",")))
        .unwrap();
    irr
}

#[test]
fn prefixes_are_covered_by_their_ranges() {
    let irr = irr();
    let covered = |p: &str| irr.covers(&p.parse().unwrap());
    assert!(covered("192.0.2.0/24"));
    assert!(!covered("192.0.2.0/25"), "exact means exactly /24");
    assert!(!covered("198.51.100.0/22"), "below greater-equal");
    assert!(covered("198.51.100.0/23") && covered("198.51.102.0/24"));
    assert!(!covered("198.51.100.0/25"), "above less-equal");
    assert!(covered("2001:db8::/32") && covered("2001:db8:ff::/48"));
    assert!(!covered("2001:db8::/49") && !covered("2001:db9::/48"));
    assert!(!covered("203.0.113.0/24"));
}

#[test]
fn every_prefix_agrees_with_a_scan_of_the_entries() {
    // Overlapping, nested and adjacent entries, merged per length.
    let entries = [
        ("10.0.0.0/9", 9, 11),
        ("10.0.0.0/10", 12, 12),
        ("10.64.0.0/10", 10, 10),
        ("10.96.0.0/11", 11, 14),
        ("10.128.0.0/12", 14, 14),
        ("10.144.0.0/12", 13, 14),
        ("10.192.0.0/12", 14, 14),
    ];
    let mut irr = Irr::default();
    for (prefix, min, max) in entries {
        let entry = format!(
            r#"{{"prefix": "{prefix}", "exact": false, "greater-equal": {min}, "less-equal": {max}}}"#
        );
        irr.add_prefixes(&format!(r#"{{"A": [{entry}]}}"#)).unwrap();
    }
    let eight: Ipv4Net = "10.0.0.0/8".parse().unwrap();
    for len in 8..=16 {
        for prefix in eight.subnets(len).unwrap() {
            let within = |e: &(&str, u8, u8)| e.0.parse::<Ipv4Net>().unwrap().contains(&prefix);
            let scan = entries
                .iter()
                .any(|e| within(e) && (e.1..=e.2).contains(&len));
            let registered = entries.iter().any(within);
            let p = IpNet::V4(prefix);
            assert_eq!(irr.covers(&p), scan, "{prefix}");
            assert_eq!(irr.covers_any_length(&p), registered, "{prefix}");
        }
    }
}

#[test]
fn many_ranges_agree_with_a_scan_in_every_bucket() {
    // Enough entries that the index uses many buckets; spread over the whole space,
    // some adjacent, some nested. A fixed linear congruential sequence picks them.
    let mut seed = 12345_u32;
    let mut next = || {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        seed
    };
    let entries: Vec<(Ipv4Net, u8)> = (0..3000)
        .map(|i| {
            // One in fifty is short (/8 to /11) and spans many buckets.
            let (len, max) = match i % 50 {
                0 => (8 + (next() % 4) as u8, 24),
                _ => (16 + (next() % 9) as u8, 0),
            };
            let base = if i % 3 == 0 {
                next() & 0xffff_0000
            } else {
                next()
            };
            let net = Ipv4Net::new(base.into(), len).unwrap().trunc();
            (net, max.max(len + (next() % 3) as u8))
        })
        .collect();
    let irr = irr_up_to(entries.iter().map(|(p, max)| (p.to_string(), *max)));
    let probes = entries.iter().flat_map(|(p, _)| {
        let (start, end) = (u32::from(p.network()), u32::from(p.broadcast()));
        [
            start,
            end,
            start.wrapping_sub(1),
            end.wrapping_add(1),
            next(),
        ]
    });
    for addr in probes {
        for len in [9, 16, 20, 24, 26] {
            let prefix = Ipv4Net::new(addr.into(), len).unwrap().trunc();
            let scan = entries
                .iter()
                .any(|(p, max)| p.contains(&prefix) && (p.prefix_len()..=*max).contains(&len));
            assert_eq!(irr.covers(&IpNet::V4(prefix)), scan, "{prefix}");
        }
    }
}

#[test]
fn many_ipv6_ranges_agree_with_a_scan() {
    // IPv6 routes cluster (all start 2xxx, most in a few /12s), so most of its buckets are
    // empty and a few full. /29 to /48 entries in 2001::/16 and 2a00::/12, probed at their
    // edges.
    let mut seed = 54321_u64;
    let mut next = || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        seed
    };
    let entries: Vec<(Ipv6Net, u8)> = (0..4000)
        .map(|i| {
            let top: u128 = if i % 4 == 0 {
                0x2001 << 112
            } else {
                0x2a0 << 116
            };
            let len = 29 + (next() % 20) as u8;
            let base = top | u128::from(next() >> 20) << 64;
            let net = Ipv6Net::new(base.into(), len).unwrap().trunc();
            (net, (len + (next() % 3) as u8).min(48))
        })
        .collect();
    let irr = irr_up_to(entries.iter().map(|(p, max)| (p.to_string(), *max)));
    let probes = entries.iter().flat_map(|(p, _)| {
        let (start, end) = (u128::from(p.network()), u128::from(p.broadcast()));
        [start, end, start.wrapping_sub(1), end.wrapping_add(1)]
    });
    for addr in probes {
        for len in [32, 40, 44, 48] {
            let prefix = Ipv6Net::new(addr.into(), len).unwrap().trunc();
            let scan = entries
                .iter()
                .any(|(p, max)| p.contains(&prefix) && (p.prefix_len()..=*max).contains(&len));
            assert_eq!(irr.covers(&IpNet::V6(prefix)), scan, "{prefix}");
        }
    }
}

#[test]
fn origins() {
    let irr = irr();
    assert!(irr.has_origin(Asn(64496)) && irr.has_origin(Asn(64497)));
    assert!(!irr.has_origin(Asn(64498)));
}

#[test]
fn bad_files_say_what_is_wrong() {
    let mut irr = Irr::default();
    let err = |json: &str| Irr::default().add_prefixes(json).unwrap_err().to_string();
    assert!(err("[]").starts_with("not bgpq4 JSON"));
    assert_eq!(err("{}"), "expected one named list, found 0");
    assert_eq!(
        err(r#"{"A": [], "B": []}"#),
        "expected one named list, found 2"
    );
    let wide = r#"{"A": [{"prefix": "192.0.2.0/24", "exact": false, "less-equal": 33}]}"#;
    assert_eq!(err(wide), "prefix 192.0.2.0/24: lengths 24-33 do not fit");
    let typo = r#"{"A": [{"prefix": "192.0.2.0/24", "exact": true, "ge": 25}]}"#;
    assert!(err(typo).contains("unknown field `ge`"));
    assert!(irr.add_origins(r#"{"A": ["AS1"]}"#).is_err());
}
