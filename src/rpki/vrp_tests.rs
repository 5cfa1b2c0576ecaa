//! RFC 6811 table tests for `VrpTable::state` and `VrpTable::validate`.

use super::*;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn v(prefix: &str, max_length: u8, asn: u32) -> Vrp {
    Vrp::new(net(prefix), max_length, Asn(asn)).unwrap()
}

fn table(vrps: &[Vrp]) -> VrpTable {
    let mut t = VrpTable::new();
    for vrp in vrps {
        t.insert(*vrp);
    }
    t
}

use RovState::{Invalid, NotFound, Valid};

/// (case, VRPs, route prefix, origin, expected state, matched, bad_asn, bad_length)
#[allow(clippy::type_complexity)]
fn cases() -> Vec<(
    &'static str,
    Vec<Vrp>,
    &'static str,
    Option<u32>,
    RovState,
    usize,
    usize,
    usize,
)> {
    let roa24 = v("192.0.2.0/24", 24, 64496);
    let roa24_25 = v("192.0.2.0/24", 25, 64496);
    vec![
        (
            "no VRP at all",
            vec![],
            "192.0.2.0/24",
            Some(64496),
            NotFound,
            0,
            0,
            0,
        ),
        (
            "exact match",
            vec![roa24],
            "192.0.2.0/24",
            Some(64496),
            Valid,
            1,
            0,
            0,
        ),
        (
            "wrong origin",
            vec![roa24],
            "192.0.2.0/24",
            Some(64497),
            Invalid,
            0,
            1,
            0,
        ),
        (
            "longer than max length",
            vec![roa24],
            "192.0.2.0/25",
            Some(64496),
            Invalid,
            0,
            0,
            1,
        ),
        (
            "within max length",
            vec![roa24_25],
            "192.0.2.128/25",
            Some(64496),
            Valid,
            1,
            0,
            0,
        ),
        (
            "less specific than VRP is not covered",
            vec![roa24],
            "192.0.0.0/16",
            Some(64496),
            NotFound,
            0,
            0,
            0,
        ),
        (
            "sibling prefix not covered",
            vec![roa24],
            "192.0.3.0/24",
            Some(64496),
            NotFound,
            0,
            0,
            0,
        ),
        (
            "AS0 VRP never matches",
            vec![v("192.0.2.0/24", 32, 0)],
            "192.0.2.0/24",
            Some(0),
            Invalid,
            0,
            1,
            0,
        ),
        (
            "AS0 VRP makes others invalid",
            vec![v("192.0.2.0/24", 32, 0)],
            "192.0.2.0/25",
            Some(64496),
            Invalid,
            0,
            1,
            0,
        ),
        (
            "AS0 VRP beside a matching one",
            vec![v("192.0.2.0/24", 24, 0), roa24],
            "192.0.2.0/24",
            Some(64496),
            Valid,
            1,
            1,
            0,
        ),
        (
            "AS_SET origin covered is invalid",
            vec![roa24],
            "192.0.2.0/24",
            None,
            Invalid,
            0,
            1,
            0,
        ),
        (
            "AS_SET origin uncovered is not found",
            vec![roa24],
            "198.51.100.0/24",
            None,
            NotFound,
            0,
            0,
            0,
        ),
        (
            "one of several covering matches",
            vec![
                v("192.0.0.0/16", 24, 64500),
                roa24,
                v("192.0.2.0/23", 24, 64501),
            ],
            "192.0.2.0/24",
            Some(64501),
            Valid,
            1,
            2,
            0,
        ),
        (
            "a matching more-specific VRP beats a wrong-AS less-specific",
            vec![v("192.0.0.0/16", 16, 64500), roa24],
            "192.0.2.0/24",
            Some(64496),
            Valid,
            1,
            1,
            0,
        ),
        (
            "several covering, wrong length and AS",
            vec![v("192.0.0.0/16", 16, 64500), roa24],
            "192.0.2.0/25",
            Some(64496),
            Invalid,
            0,
            1,
            1,
        ),
        (
            "/0 VRP covers everything",
            vec![v("0.0.0.0/0", 0, 64500)],
            "203.0.113.0/24",
            Some(64500),
            Invalid,
            0,
            0,
            1,
        ),
        (
            "/0 VRP with max 32",
            vec![v("0.0.0.0/0", 32, 64500)],
            "203.0.113.0/24",
            Some(64500),
            Valid,
            1,
            0,
            0,
        ),
        (
            "/0 route, /0 VRP",
            vec![v("0.0.0.0/0", 0, 64500)],
            "0.0.0.0/0",
            Some(64500),
            Valid,
            1,
            0,
            0,
        ),
        (
            "host route within max 32",
            vec![v("192.0.2.0/24", 32, 64496)],
            "192.0.2.1/32",
            Some(64496),
            Valid,
            1,
            0,
            0,
        ),
        (
            "host route VRP",
            vec![v("192.0.2.1/32", 32, 64496)],
            "192.0.2.1/32",
            Some(64497),
            Invalid,
            0,
            1,
            0,
        ),
        (
            "IPv6 valid",
            vec![v("2001:db8::/32", 48, 64496)],
            "2001:db8:1::/48",
            Some(64496),
            Valid,
            1,
            0,
            0,
        ),
        (
            "IPv6 too long",
            vec![v("2001:db8::/32", 48, 64496)],
            "2001:db8:1:1::/64",
            Some(64496),
            Invalid,
            0,
            0,
            1,
        ),
        (
            "IPv6 /128 host route",
            vec![v("2001:db8::/32", 128, 64496)],
            "2001:db8::1/128",
            Some(64496),
            Valid,
            1,
            0,
            0,
        ),
        (
            "IPv6 ::/0 VRP",
            vec![v("::/0", 0, 64500)],
            "2001:db8::/32",
            Some(64500),
            Invalid,
            0,
            0,
            1,
        ),
        (
            "IPv4 VRP does not cover IPv6",
            vec![v("0.0.0.0/0", 32, 64500)],
            "2001:db8::/32",
            Some(64500),
            NotFound,
            0,
            0,
            0,
        ),
        (
            "4-byte ASN",
            vec![v("192.0.2.0/24", 24, 4_200_000_000)],
            "192.0.2.0/24",
            Some(4_200_000_000),
            Valid,
            1,
            0,
            0,
        ),
    ]
}

#[test]
fn rfc6811_cases() {
    for (name, vrps, prefix, origin, state, matched, bad_asn, bad_length) in cases() {
        let t = table(&vrps);
        let origin = origin.map(Asn);
        let p = net(prefix);
        assert_eq!(t.state(&p, origin), state, "{name}: state");
        let verdict = t.validate(&p, origin);
        assert_eq!(verdict.state, state, "{name}: verdict state");
        assert_eq!(verdict.matched.len(), matched, "{name}: matched");
        assert_eq!(verdict.bad_asn.len(), bad_asn, "{name}: bad_asn");
        assert_eq!(verdict.bad_length.len(), bad_length, "{name}: bad_length");
    }
}

#[test]
fn max_length_outside_prefix_is_an_error() {
    assert!(Vrp::new(net("192.0.2.0/24"), 23, Asn(1)).is_err());
    assert!(Vrp::new(net("192.0.2.0/24"), 33, Asn(1)).is_err());
    assert!(Vrp::new(net("2001:db8::/32"), 129, Asn(1)).is_err());
    assert!(Vrp::new(net("2001:db8::/32"), 128, Asn(1)).is_ok());
}

#[test]
fn host_bits_are_cleared() {
    let vrp = Vrp::new(net("192.0.2.77/24"), 24, Asn(1)).unwrap();
    assert_eq!(vrp.prefix, net("192.0.2.0/24"));
}

#[test]
fn insert_remove_and_len() {
    let mut t = VrpTable::new();
    let a = v("192.0.2.0/24", 24, 1);
    let b = v("192.0.2.0/24", 25, 1);
    assert!(t.insert(a));
    assert!(!t.insert(a));
    assert!(t.insert(b));
    assert_eq!(t.len(), 2);
    assert!(t.contains(&b));
    assert!(t.remove(&a));
    assert!(!t.remove(&a));
    assert_eq!(t.len(), 1);
    assert_eq!(t.iter().collect::<Vec<_>>(), vec![b]);
    assert!(t.remove(&b));
    assert!(t.is_empty());
    assert_eq!(t.state(&net("192.0.2.0/24"), Some(Asn(1))), NotFound);
}

#[test]
fn asn_parses_with_and_without_prefix() {
    assert_eq!("AS64496".parse::<Asn>(), Ok(Asn(64496)));
    assert_eq!("as1".parse::<Asn>(), Ok(Asn(1)));
    assert_eq!("4200000000".parse::<Asn>(), Ok(Asn(4_200_000_000)));
    assert!("ASx".parse::<Asn>().is_err());
}
