//! Tests for the import checks' keys (`config/filters.rs`, `convert/filters.rs`): the
//! modes resolve peer, role, `[defaults]`, built-in; `[filters]`; broken keys and IRR files
//! name line and key. The helpers are `config_tests.rs`'s.

use super::*;
use crate::policy::{CheckGroup, CheckModes, NextHopPolicy};

#[test]
fn modes_are_peer_then_role_then_defaults_then_the_roles_own() {
    let base = [
        peer("client", "127.0.0.2", "rs-client", ""),
        peer("transit", "127.0.0.3", "upstream", ""),
    ]
    .concat();
    let config = parse(&format!("{SERVER}{base}")).expect("valid");
    let modes: Vec<CheckModes> = config.peers.iter().map(|p| p.checks).collect();
    assert_eq!(
        modes,
        [CheckModes::ALL_DROP, CheckModes::default()],
        "built-in"
    );

    let text = format!(
        "{SERVER}[defaults]\nchecks = \"shadow\"\ncheck = {{ irr = \"tag\" }}\n\
         [defaults.role.rs-client]\ncheck = {{ next_hop = \"accept\" }}\n{}{}{}",
        peer("client", "127.0.0.2", "rs-client", ""),
        peer("transit", "127.0.0.3", "upstream", ""),
        peer(
            "own",
            "127.0.0.4",
            "rs-client",
            "checks = \"drop\"\ncheck = { as_path = \"tag\" }"
        ),
    );
    let config = parse(&text).expect("valid");
    let mode = |i: usize, g| config.peers[i].checks.group(g);
    use CheckGroup::{AsPath, BogonPrefix, Irr, NextHop};
    use RovMode::{Accept, Drop, Shadow, Tag};
    let got = [0, 1, 2].map(|i| [NextHop, BogonPrefix, Irr, AsPath].map(|g| mode(i, g)));
    assert_eq!(
        got,
        [
            [Accept, Shadow, Tag, Shadow],
            [Shadow, Shadow, Tag, Shadow],
            [Drop, Drop, Drop, Tag],
        ]
    );
}

#[test]
fn filters_table_and_next_hop_make_each_peers_filters() {
    let text = format!(
        "{SERVER}[filters]\nprefix_length_v4 = [8, 23]\nmax_as_path = 10\ntransit_free = [3356]\n\
         roa_as_route_object = false\n{}{}{}",
        peer("a", "127.0.0.2", "rs-client", "next_hop = \"same-as\""),
        peer("b", "127.0.0.3", "rs-client", "next_hop = \"off\""),
        peer("c", "127.0.0.4", "rs-client", ""),
    );
    let config = parse(&text).expect("valid");
    let f = config.filters_for(0).expect("no IRR files");
    assert_eq!(
        (f.v4_lengths, f.v6_lengths, f.max_as_path),
        ((8, 23), (16, 48), 10)
    );
    assert_eq!(f.transit_free, [Asn(3356)]);
    assert!(!f.roa_as_route_object && f.irr.is_none());
    let same_as: Vec<IpAddr> = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
        .map(|a| a.parse().unwrap())
        .into();
    assert_eq!(f.next_hop, NextHopPolicy::SameAs(same_as));
    assert_eq!(config.filters_for(1).unwrap().next_hop, NextHopPolicy::Off);
    assert_eq!(
        config.filters_for(2).unwrap().next_hop,
        NextHopPolicy::Strict
    );
}

#[test]
fn broken_check_keys_name_line_and_key() {
    #[rustfmt::skip]
    let cases: Vec<BrokenCase> = vec![
        ("bad checks", rs_client("checks = \"off\""), Some(10), Some("peer[0].checks"), "expected one of accept, tag, shadow, drop, got \"off\""),
        ("unknown check", rs_client("check = { rpki = \"drop\" }"), Some(10), Some("peer[0].check.rpki"), "expected one of next_hop, prefix_length, bogon_prefix"),
        ("bad check mode", rs_client("check = { irr = \"strict\" }"), Some(10), Some("peer[0].check.irr"), "expected one of accept"),
        ("bad next hop", rs_client("next_hop = \"same\""), Some(10), Some("peer[0].next_hop"), "expected one of strict, same-as, off, got \"same\""),
        ("bad lengths", format!("{SERVER}[filters]\nprefix_length_v4 = [24, 8]\n"), Some(6), Some("filters.prefix_length_v4"), "expected [shortest, longest] within 0-32, got [24, 8]"),
        ("v6 too long", format!("{SERVER}[filters]\nprefix_length_v6 = [16, 129]\n"), Some(6), Some("filters.prefix_length_v6"), "within 0-128"),
        ("zero path", format!("{SERVER}[filters]\nmax_as_path = 0\n"), Some(6), Some("filters.max_as_path"), "expected at least 1"),
        ("unknown filter", format!("{SERVER}[filters]\nbogons = false\n"), Some(6), Some("filters.bogons"), "unknown field `bogons`"),
        ("bad default checks", format!("{SERVER}[defaults]\nchecks = \"on\"\n"), Some(6), Some("defaults.checks"), "expected one of accept"),
        ("bad role check", format!("{SERVER}[defaults.role.rs-client]\ncheck = {{ bogon = \"drop\" }}\n"), Some(6), Some("defaults.role.rs-client.check.bogon"), "expected one of next_hop"),
    ];
    assert_broken(cases);
}

#[test]
fn load_reads_every_irr_file_and_names_a_broken_one() {
    let dir = std::env::temp_dir().join(format!("rovgate-irr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prefixes = r#"{"AS-A": [{"prefix": "1.2.0.0/16", "exact": false, "less-equal": 24}]}"#;
    std::fs::write(dir.join("a.json"), prefixes).unwrap();
    std::fs::write(dir.join("a.asns.json"), r#"{"AS-A": [64496, 3333]}"#).unwrap();
    std::fs::write(
        dir.join("bad.json"),
        r#"{"AS-A": [{"prefix": "1.2.0.0/16"}]}"#,
    )
    .unwrap();
    let write = |irr: &str| {
        let path = dir.join("rovgate.toml");
        let more = format!("irr = [{irr}]");
        std::fs::write(
            &path,
            format!("{SERVER}{}", peer("a", "127.0.0.2", "rs-client", &more)),
        )
        .unwrap();
        Config::load(&path)
    };
    let config = write("\"a.json\", \"a.asns.json\"").expect("valid files");
    let irr = config.filters_for(0).unwrap().irr.expect("read");
    assert!(irr.covers(&"1.2.3.0/24".parse().unwrap()) && irr.has_origin(Asn(3333)));
    let e = write("\"a.json\", \"bad.json\"").expect_err("broken file");
    assert_eq!(
        (e.line, e.key.as_deref()),
        (Some(10), Some("peer[0].irr[1]")),
        "{e}"
    );
    assert!(e.message.contains("bad.json: not bgpq4 JSON output"), "{e}");
    let e = write("\"missing.json\"").expect_err("missing file");
    assert!(e.message.contains("cannot read"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
