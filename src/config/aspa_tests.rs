//! Tests for the `aspa` key (`config/aspa.rs`, `convert/filters.rs`): off by default,
//! peer over role over `[defaults]`, untouched by `checks`; each role's procedure; broken
//! values name line and key. The helpers are `config_tests.rs`'s.

use super::*;
use crate::policy::{AspaProcedure, Check};

fn aspa_modes(text: &str) -> Vec<RovMode> {
    let config = parse(text).expect("valid");
    config
        .peers
        .iter()
        .map(|p| p.checks.of(Check::Aspa))
        .collect()
}

#[test]
fn off_by_default_and_peer_over_role_over_defaults() {
    let peers = [
        peer("client", "127.0.0.2", "rs-client", ""),
        peer("transit", "127.0.0.3", "upstream", ""),
        peer(
            "own",
            "127.0.0.4",
            "rs-client",
            "aspa = \"drop\"\nchecks = \"tag\"",
        ),
    ]
    .concat();
    use RovMode::{Accept, Drop, Shadow, Tag};
    assert_eq!(
        aspa_modes(&format!("{SERVER}{peers}")),
        [Accept, Accept, Drop]
    );
    let layered = format!(
        "{SERVER}[defaults]\naspa = \"shadow\"\n[defaults.role.rs-client]\naspa = \"tag\"\n\
         checks = \"accept\"\n{peers}"
    );
    assert_eq!(aspa_modes(&layered), [Tag, Shadow, Drop]);
    let checks_only = format!("{SERVER}[defaults]\nchecks = \"drop\"\n{peers}");
    assert_eq!(
        aspa_modes(&checks_only),
        [Accept, Accept, Drop],
        "checks leave ASPA off"
    );
}

#[test]
fn each_role_has_its_procedure() {
    let text = [
        SERVER.to_string(),
        peer("a", "127.0.0.2", "customer", ""),
        peer("b", "127.0.0.3", "peer", ""),
        peer("c", "127.0.0.4", "rs-client", ""),
        peer("d", "127.0.0.5", "upstream", ""),
    ]
    .concat();
    let config = parse(&text).expect("valid");
    let got: Vec<AspaProcedure> = (0..4)
        .map(|i| config.filters_for(i).expect("no IRR files").aspa)
        .collect();
    use AspaProcedure::{Downstream, Upstream};
    assert_eq!(got, [Upstream, Upstream, Upstream, Downstream]);
}

#[test]
fn broken_aspa_keys_name_line_and_key() {
    #[rustfmt::skip]
    let cases: Vec<BrokenCase> = vec![
        ("bad aspa", rs_client("aspa = \"strict\""), Some(10), Some("peer[0].aspa"), "expected one of accept, tag, shadow, drop, got \"strict\""),
        ("aspa as a check", rs_client("check = { aspa = \"drop\" }"), Some(10), Some("peer[0].check.aspa"), "expected one of next_hop"),
        ("bad default aspa", format!("{SERVER}[defaults]\naspa = \"on\"\n"), Some(6), Some("defaults.aspa"), "expected one of accept"),
        ("bad role aspa", format!("{SERVER}[defaults.role.upstream]\naspa = 1\n"), Some(6), Some("defaults.role.upstream.aspa"), "invalid type"),
    ];
    assert_broken(cases);
}
