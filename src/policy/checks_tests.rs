//! Tests for `checks.rs`: each check by itself, paths, next-hop policies (IPv6 next hops of
//! IPv4 routes too), blackhole requests.
use super::*;

const PEER: u32 = 64496;
const ALL: CheckModes = CheckModes::ALL_DROP;

fn filters() -> Filters {
    let mut irr = Irr::default();
    let prefixes = r#"{"AS-PEER": [{"prefix": "1.2.0.0/16", "exact": false, "less-equal": 24}]}"#;
    irr.add_prefixes(prefixes).unwrap();
    irr.add_origins(r#"{"AS-PEER": [64496, 3333]}"#).unwrap();
    Filters {
        irr: Some(irr),
        ..Filters::ixp_defaults(Asn(PEER), "192.0.2.1".parse().unwrap())
    }
}

fn route<'a>(prefix: &'a IpNet, path: &'a AsPath, next_hop: IpAddr) -> Route<'a> {
    Route {
        prefix,
        path,
        next_hop,
        blackhole: false,
        state: RovState::NotFound,
    }
}

fn failed(f: &Filters, prefix: &str, path: &[u32], next_hop: &str) -> Vec<Check> {
    let path = AsPath(vec![Segment::Sequence(path.to_vec())]);
    let prefix = prefix.parse().unwrap();
    let route = route(&prefix, &path, next_hop.parse().unwrap());
    check(f, &ALL, &AspaTable::default(), route)
        .iter()
        .collect()
}

#[test]
fn each_check_by_itself() {
    use Check::*;
    let f = filters();
    let nh = "192.0.2.1";
    let cases: [(&str, &[u32], &str, &[Check]); 10] = [
        ("1.2.3.0/24", &[PEER], nh, &[]),
        ("1.2.3.0/24", &[PEER, PEER, 3333], nh, &[]),
        ("1.2.3.128/25", &[PEER], nh, &[PrefixTooLong, IrrPrefix]),
        ("1.0.0.0/7", &[PEER], nh, &[PrefixTooShort, IrrPrefix]),
        ("1.2.3.0/24", &[PEER, 65000, 3333], nh, &[BogonAsn]),
        ("1.2.3.0/24", &[PEER, 3356, 3333], nh, &[TransitFree]),
        ("1.2.3.0/24", &[PEER], "192.0.2.9", &[NextHop]),
        ("5.6.7.0/24", &[PEER], nh, &[IrrPrefix]),
        ("1.2.3.0/24", &[PEER, 64497], nh, &[BogonAsn, IrrOrigin]),
        ("10.0.0.0/8", &[PEER], nh, &[Bogon, IrrPrefix]),
    ];
    for (prefix, path, next_hop, expected) in cases {
        assert_eq!(
            failed(&f, prefix, path, next_hop),
            expected,
            "{prefix} {path:?}"
        );
    }
}

#[test]
fn the_peers_own_documentation_asn_is_not_a_bogon() {
    assert_eq!(failed(&filters(), "1.2.3.0/24", &[PEER], "192.0.2.1"), []);
}

#[test]
fn long_paths_and_sets() {
    let f = Filters {
        max_as_path: 3,
        irr: None,
        ..filters()
    };
    let long = [PEER, PEER, PEER, 3333];
    assert_eq!(
        failed(&f, "1.2.3.0/24", &long, "192.0.2.1"),
        [Check::AsPathTooLong]
    );
    let set = AsPath(vec![
        Segment::Sequence(vec![PEER]),
        Segment::Set(vec![3333, 3334]),
    ]);
    let prefix = "1.2.3.0/24".parse().unwrap();
    let got = check(
        &f,
        &ALL,
        &AspaTable::default(),
        route(&prefix, &set, f.address),
    );
    assert_eq!(got.iter().collect::<Vec<_>>(), [Check::AsPathTooLong]);
}

#[test]
fn next_hop_policies() {
    let other: IpAddr = "192.0.2.2".parse().unwrap();
    let hop = |policy| {
        let f = Filters {
            next_hop: policy,
            ..filters()
        };
        let (prefix, path) = ("1.2.3.0/24".parse().unwrap(), AsPath::default());
        check(
            &f,
            &ALL,
            &AspaTable::default(),
            route(&prefix, &path, other),
        )
        .has(Check::NextHop)
    };
    assert!(hop(NextHopPolicy::Strict));
    assert!(!hop(NextHopPolicy::SameAs(vec![other])));
    assert!(hop(NextHopPolicy::SameAs(vec![])));
    assert!(!hop(NextHopPolicy::Off));
}

#[test]
fn a_blackhole_request_may_be_a_host_route_of_registered_space() {
    let path = AsPath(vec![Segment::Sequence(vec![PEER])]);
    let host: IpNet = "1.2.3.4/32".parse().unwrap();
    let outside: IpNet = "5.6.7.8/32".parse().unwrap();
    let request = |f: &Filters, prefix| {
        let blackhole = Route {
            blackhole: true,
            ..route(prefix, &path, f.address)
        };
        check(f, &ALL, &AspaTable::default(), blackhole)
            .iter()
            .collect::<Vec<_>>()
    };
    let not_taken = filters();
    use Check::{IrrPrefix, PrefixTooLong};
    assert_eq!(request(&not_taken, &host), [PrefixTooLong, IrrPrefix]);
    let taken = Filters {
        blackhole_v4: Some("192.0.2.66".parse().unwrap()),
        ..filters()
    };
    assert_eq!(request(&taken, &host), []);
    assert_eq!(request(&taken, &outside), [IrrPrefix], "not its space");
}

/// Expected (RFC 8950): an IPv4 route with an IPv6 next hop from a peer on an IPv6 session
/// is checked against the peer's IPv6 address (strict) and its AS's others (same-as).
#[test]
fn ipv4_routes_with_ipv6_next_hops_are_checked_against_the_peers_ipv6_address() {
    let own: IpAddr = "2001:db8::2".parse().unwrap();
    let other: IpAddr = "2001:db8::3".parse().unwrap();
    let fails = |policy, next_hop: IpAddr| {
        let f = Filters {
            next_hop: policy,
            ..Filters::ixp_defaults(Asn(PEER), own)
        };
        let (prefix, path) = ("1.2.3.0/24".parse().unwrap(), AsPath::default());
        let route = route(&prefix, &path, next_hop);
        check(&f, &ALL, &AspaTable::default(), route).has(Check::NextHop)
    };
    assert!(!fails(NextHopPolicy::Strict, own));
    assert!(fails(NextHopPolicy::Strict, other));
    assert!(!fails(NextHopPolicy::SameAs(vec![other]), other));
    assert!(fails(NextHopPolicy::Strict, "192.0.2.1".parse().unwrap()));
}
