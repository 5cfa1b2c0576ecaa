//! What a reload does to each peer, by name: started, closed, reset (its session's terms
//! changed) or kept with its policy re-applied; and what waits for a restart.

use std::path::Path;

use super::reload::{need_restart, needs_reset, Plan};
use crate::config::Config;

const SERVER: &str =
    "[server]\nasn = 64500\nrouter_id = \"192.0.2.254\"\nlisten = [\"127.0.0.1:179\"]\n";

fn config(server: &str, peers: &[(&str, &str)]) -> Config {
    let peers: String = (peers.iter())
        .map(|(name, extra)| {
            let n = name.trim_start_matches('m');
            let asn = (!extra.contains("asn =")).then(|| format!("asn = 6449{n}\n"));
            let role = (!extra.contains("role =")).then_some("role = \"rs-client\"\n");
            let (asn, role) = (asn.unwrap_or_default(), role.unwrap_or_default());
            format!("[[peer]]\nname = \"{name}\"\naddress = \"127.0.0.{n}\"\n{asn}{role}{extra}\n")
        })
        .collect();
    Config::parse(&format!("{server}{peers}"), Path::new("test.toml")).unwrap()
}

#[test]
fn which_change_resets_a_session() {
    // (the peer's extra keys before, after, whether the session is reset)
    let cases = [
        ("", "", false),
        ("", "rov = \"drop\"", false),
        ("", "checks = \"drop\"", false),
        ("", "next_hop = \"off\"", false),
        ("", "max_prefixes = 100", true),
        ("", "port = 1179", true),
        ("", "passive = true", true),
        ("", "role = \"customer\"", true),
        ("", "rov_ext_community = true", true),
        ("", "enforce_first_as = false", true),
        ("asn = 64499", "asn = 64498", true),
    ];
    for (before, after, reset) in cases {
        let (a, b) = (
            config(SERVER, &[("m1", before)]),
            config(SERVER, &[("m1", after)]),
        );
        let got = needs_reset(&a.peers[0], &b.peers[0]);
        assert_eq!(got, reset, "{before:?} -> {after:?}");
    }
}

#[test]
fn peers_are_matched_by_name_not_by_position() {
    let running = config(SERVER, &[("m1", ""), ("m2", ""), ("m3", ""), ("m4", "")]);
    let new = config(
        SERVER,
        &[
            ("m5", ""),
            ("m4", "rov = \"drop\""),
            ("m2", "port = 1179"),
            ("m1", ""),
        ],
    );
    let plan = Plan::of(&running, &new);
    assert_eq!(plan.removed, [2], "m3");
    assert_eq!(plan.added, [0], "m5");
    assert_eq!(plan.reset, [2], "m2");
    assert_eq!(plan.kept, [(3, 1), (0, 3)], "m4 and m1");
}

#[test]
fn server_and_rpki_timing_changes_wait_for_a_restart_http_access_and_sources_do_not() {
    let running = config(SERVER, &[("m1", "")]);
    let same = config(SERVER, &[("m1", "rov = \"drop\"")]);
    assert!(need_restart(&running, &same).is_empty());
    let names = format!("{SERVER}http_names = [\"rs.example\"]\n");
    assert!(need_restart(&running, &config(&names, &[("m1", "")])).is_empty());
    let cache = "[[rpki.cache]]\naddress = \"127.0.0.1:8282\"\n";
    let sources = config(&format!("{SERVER}{cache}"), &[("m1", "")]);
    assert!(
        need_restart(&running, &sources).is_empty(),
        "a cache is added live"
    );
    let hold = format!("{SERVER}hold_time = 30\n");
    let timing = "[rpki]\nreload_seconds = 9\n";
    let both = config(&format!("{hold}{timing}{cache}"), &[("m1", "")]);
    assert_eq!(need_restart(&running, &both), ["server", "rpki"]);
    let rtr = format!("{SERVER}[[rtr_server]]\nlisten = \"127.0.0.1:3323\"\n");
    let rtr = config(&rtr, &[("m1", "")]);
    assert_eq!(need_restart(&running, &rtr), ["rtr_server"]);
}
