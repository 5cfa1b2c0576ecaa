//! Tests for `config.rs`: the shipped configs parse; broken ones name line and key.

use super::*;

const FILE: &str = "/etc/rovgate/x.toml";

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new(FILE))
}

const SERVER: &str = r#"[server]
asn = 64500
router_id = "192.0.2.254"
listen = ["127.0.0.1:179"]
"#;

/// A valid config with two peers; lines 1-4 are `SERVER`.
const TWO_PEERS: &str = r#"[server]
asn = 64500
router_id = "192.0.2.254"
listen = ["127.0.0.1:179"]

[defaults]
rov = "tag"

[[peer]]
name = "a"
address = "127.0.0.2"
asn = 64496
role = "customer"

[[peer]]
name = "b"
address = "::2"
asn = 64497
role = "rs-client"
rov = "drop"
max_prefixes = 100
"#;

#[test]
fn two_peers_inherit_or_override_rov() {
    let config = parse(TWO_PEERS).expect("valid config");
    assert_eq!(config.defaults.rov, RovMode::Tag);
    let a = &config.peers[0];
    assert_eq!(
        (a.name.as_str(), a.asn, a.role, a.rov),
        ("a", Asn(64496), Role::Customer, RovMode::Tag)
    );
    assert_eq!(a.max_prefixes, None);
    let b = &config.peers[1];
    assert_eq!(b.address, "::2".parse::<IpAddr>().expect("address"));
    assert_eq!(
        (b.role, b.rov, b.max_prefixes),
        (Role::RsClient, RovMode::Drop, Some(100))
    );
    assert_eq!(config.rpki.reload, Duration::from_secs(5));
    assert!(config.server.http.is_none());
}

#[test]
fn embedded_default_parses_and_finds_its_vrp_file() {
    let config = Config::embedded();
    assert_eq!(config.server.asn, Asn(64500));
    assert_eq!(config.server.router_id, Ipv4Addr::new(192, 0, 2, 254));
    assert_eq!(
        config.server.listen,
        vec!["127.0.0.1:1179".parse::<SocketAddr>().expect("addr")]
    );
    assert_eq!(
        config.server.http,
        Some("127.0.0.1:8080".parse().expect("addr"))
    );
    assert_eq!(config.defaults.rov, RovMode::Shadow);
    assert!(config.peers.is_empty() && config.rpki.caches.is_empty());
    assert_eq!(config.rpki.vrp_files.len(), 1);
    assert!(
        config.rpki.vrp_files[0].is_file(),
        "{:?} exists",
        config.rpki.vrp_files[0]
    );
}

#[test]
fn example_parses_with_every_key() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/configs/example.toml"));
    let config = Config::load(path).expect("configs/example.toml is valid");
    assert_eq!(config.server.listen.len(), 2);
    assert_eq!(config.rpki.caches.len(), 3);
    assert_eq!(config.rpki.caches[2].address, "localhost:3323");
    assert!(config.rpki.vrp_files[0].is_file());
    assert_eq!(config.peers.len(), 2);
    assert!(config.peers[0].rov_ext_community);
    assert_eq!(config.peers[0].add_path, AddPath::Send);
    assert_eq!(config.peers[1].add_path, AddPath::Off);
    assert!(config.peers[0].security.password.is_some() && config.peers[0].security.ttl_security);
    let upstream = &config.peers[1];
    assert_eq!(upstream.rov, config.defaults.rov_for(Role::Upstream));
    assert_ne!(
        upstream.rov, config.defaults.rov,
        "the role default is shown"
    );
    assert_eq!(config.rov, RovConfig::default());
    assert_eq!(config.http, HttpConfig::default());
    assert_eq!(config.report.history_size, 10_000);
    assert!(config
        .report
        .history_file
        .unwrap()
        .ends_with("configs/rov-changes.jsonl"));
}

#[test]
fn rov_table_absent_gives_the_defaults() {
    let config = parse(TWO_PEERS).expect("valid config");
    let expected = RovConfig {
        tag: TagValues {
            valid: 1,
            not_found: 2,
            invalid: 4,
        },
        filtered_reason: true,
        mass: MassInvalidation {
            share_ppm: 1000,
            peers: 10,
            min_routes: 100,
            hold: Some(Duration::from_secs(3600)),
        },
    };
    assert_eq!(
        (config.rov, RovConfig::default()),
        (expected.clone(), expected)
    );
    assert!(config.defaults.role_rov.is_empty());
    assert!(config.peers.iter().all(|p| !p.rov_ext_community));
}

#[test]
fn rov_table_sets_every_key() {
    let text = format!(
        "{SERVER}[rov]\ntag_valid = 10\ntag_not_found = 20\ntag_invalid = 40\n\
         filtered_reason = false\nmass_invalidation_percent = 2.5\nmass_invalidation_peers = 1\n\
         mass_invalidation_min_routes = 0\nmass_invalidation_hold_seconds = 0\n"
    );
    let rov = parse(&text).expect("valid config").rov;
    assert_eq!(
        (rov.tag.valid, rov.tag.not_found, rov.tag.invalid),
        (10, 20, 40)
    );
    assert!(!rov.filtered_reason);
    let expected = MassInvalidation {
        share_ppm: 25_000,
        peers: 1,
        min_routes: 0,
        hold: None,
    };
    assert_eq!(rov.mass, expected);
}

#[test]
fn mass_invalidation_percent_becomes_parts_per_million() {
    for (percent, ppm) in [
        ("0.1", 1000),
        ("100", 1_000_000),
        ("0.0001", 1),
        ("1", 10_000),
    ] {
        let text = format!("{SERVER}[rov]\nmass_invalidation_percent = {percent}\n");
        let config = parse(&text).expect(percent);
        assert_eq!(config.rov.mass.share_ppm, ppm, "{percent} %");
    }
}

#[test]
fn peer_rov_is_own_then_role_default_then_defaults_rov() {
    const BOTH: &str = "[defaults]\nrov = \"tag\"\n[defaults.role.upstream]\nrov = \"drop\"\n";
    #[rustfmt::skip]
    let cases = [
        ("nothing set", "", "upstream", None, RovMode::Shadow),
        ("defaults.rov", "[defaults]\nrov = \"tag\"\n", "upstream", None, RovMode::Tag),
        ("role default over defaults.rov", BOTH, "upstream", None, RovMode::Drop),
        ("another role's default", BOTH, "customer", None, RovMode::Tag),
        ("own rov over role default", BOTH, "upstream", Some("accept"), RovMode::Accept),
        ("role default alone", "[defaults.role.rs-client]\nrov = \"tag\"\n", "rs-client", None, RovMode::Tag),
        ("dotted role key", "[defaults]\nrole.peer.rov = \"drop\"\n", "peer", None, RovMode::Drop),
    ];
    for (what, defaults, role, own, expected) in cases {
        let own = own.map_or(String::new(), |rov| format!("rov = \"{rov}\"\n"));
        let text = format!(
            "{SERVER}{defaults}[[peer]]\nname = \"p\"\naddress = \"127.0.0.2\"\n\
             asn = 64496\nrole = \"{role}\"\n{own}"
        );
        let config = parse(&text).expect(what);
        assert_eq!(config.peers[0].rov, expected, "{what}");
    }
}

#[test]
fn role_defaults_keep_file_order() {
    let text = format!(
        "{SERVER}[defaults.role.upstream]\nrov = \"drop\"\n[defaults.role.customer]\nrov = \"accept\"\n"
    );
    let defaults = parse(&text).expect("valid config").defaults;
    assert_eq!(
        defaults.role_rov,
        [
            (Role::Upstream, RovMode::Drop),
            (Role::Customer, RovMode::Accept)
        ]
    );
    assert_eq!(defaults.rov_for(Role::Peer), RovMode::Shadow);
}

#[test]
fn relative_paths_resolve_against_the_config_directory() {
    let text = format!("{SERVER}[rpki]\nvrp_files = [\"vrps.json\", \"/abs/v.csv\"]\nslurm = [\"../s.json\"]\nreload_seconds = 60\n");
    let config = parse(&text).expect("valid config");
    let files: Vec<&str> = config
        .rpki
        .vrp_files
        .iter()
        .filter_map(|p| p.to_str())
        .collect();
    assert_eq!(files, ["/etc/rovgate/vrps.json", "/abs/v.csv"]);
    assert_eq!(config.rpki.slurm, [PathBuf::from("/etc/rovgate/../s.json")]);
    assert_eq!(config.rpki.reload, Duration::from_secs(60));
}

#[test]
fn cache_preference_defaults_to_position() {
    let text = format!("{SERVER}[[rpki.cache]]\naddress = \"a.example:323\"\n[[rpki.cache]]\naddress = \"[::1]:8282\"\n[[rpki.cache]]\naddress = \"10.0.0.1:8282\"\npreference = 0\n");
    let prefs: Vec<u32> = parse(&text)
        .expect("valid")
        .rpki
        .caches
        .iter()
        .map(|c| c.preference)
        .collect();
    assert_eq!(prefs, [0, 1, 0]);
}

#[test]
fn names_round_trip() {
    for (name, role) in ROLE_NAMES {
        assert_eq!(
            (role.to_string(), name.parse()),
            (name.to_string(), Ok(role))
        );
    }
}

/// Replaces the first `from` in `TWO_PEERS` with `to`.
fn two_peers_with(from: &str, to: &str) -> String {
    assert!(TWO_PEERS.contains(from), "{from:?} is in TWO_PEERS");
    TWO_PEERS.replacen(from, to, 1)
}

/// What is broken, the config, and the error's line, key and a part of its message.
type BrokenCase = (
    &'static str,
    String,
    Option<usize>,
    Option<&'static str>,
    &'static str,
);

#[test]
fn broken_configs_name_line_and_key() {
    let cases: Vec<BrokenCase> = vec![
        ("unknown top-level key", format!("colour = 1\n{SERVER}"), Some(1), Some("colour"), "unknown field `colour`"),
        ("unknown key in server", format!("{SERVER}colour = 1\n"), Some(5), Some("server.colour"), "unknown field `colour`"),
        ("unknown key in peer", two_peers_with("role = \"rs-client\"", "role = \"rs-client\"\nmtu = 1"), Some(20), Some("peer[1].mtu"), "unknown field `mtu`"),
        ("unknown key in cache", format!("{SERVER}[[rpki.cache]]\naddress = \"h:1\"\nweight = 1\n"), Some(7), Some("rpki.cache[0].weight"), "unknown field `weight`"),
        ("wrong type", two_peers_with("asn = 64496", "asn = \"64496\""), Some(12), Some("peer[0].asn"), "invalid type: string \"64496\", expected u32"),
        ("negative asn", SERVER.replace("64500", "-1"), Some(2), Some("server.asn"), "invalid value"),
        ("zero asn", two_peers_with("asn = 64497", "asn = 0"), Some(18), Some("peer[1].asn"), "expected a nonzero AS number"),
        ("bad rov", two_peers_with("\"drop\"", "\"dorp\""), Some(20), Some("peer[1].rov"), "expected one of accept, tag, shadow, drop, got \"dorp\""),
        ("bad default rov", two_peers_with("\"tag\"", "\"strict\""), Some(7), Some("defaults.rov"), "expected one of accept, tag, shadow, drop, got \"strict\""),
        ("bad role", two_peers_with("\"customer\"", "\"client\""), Some(13), Some("peer[0].role"), "expected one of customer, peer, upstream, rs-client, got \"client\""),
        ("duplicate name", two_peers_with("name = \"b\"", "name = \"a\""), Some(16), Some("peer[1].name"), "duplicate name \"a\", already used by peer[0]"),
        ("duplicate address", two_peers_with("\"::2\"", "\"127.0.0.2\""), Some(17), Some("peer[1].address"), "duplicate address 127.0.0.2"),
        ("bad peer address", two_peers_with("\"::2\"", "\"::g\""), Some(17), Some("peer[1].address"), "expected an IP address, got \"::g\""),
        ("bad listen", SERVER.replace("127.0.0.1:179", "127.0.0.1"), Some(4), Some("server.listen[0]"), "expected address:port"),
        ("no listen", SERVER.replace("[\"127.0.0.1:179\"]", "[]"), Some(4), Some("server.listen"), "expected at least one"),
        ("bad router id", SERVER.replace("192.0.2.254", "0.0.0.0"), Some(3), Some("server.router_id"), "expected a nonzero IPv4 address"),
        ("bad cache address", format!("{SERVER}[[rpki.cache]]\naddress = \"h:1\"\n[[rpki.cache]]\naddress = \"::1:8282\"\n"), Some(8), Some("rpki.cache[1].address"), "expected host:port"),
        ("zero reload", format!("{SERVER}[rpki]\nreload_seconds = 0\n"), Some(6), Some("rpki.reload_seconds"), "expected at least 1 second"),
        ("zero max_prefixes", two_peers_with("max_prefixes = 100", "max_prefixes = 0"), Some(21), Some("peer[1].max_prefixes"), "expected at least 1"),
        ("long password", two_peers_with("max_prefixes = 100", &format!("password = \"{}\"", "k".repeat(81))), Some(21), Some("peer[1].password"), "expected 1 to 80 bytes, found 81"),
        ("empty password", two_peers_with("max_prefixes = 100", "password = \"\""), Some(21), Some("peer[1].password"), "expected 1 to 80 bytes, found 0"),
        ("missing role", two_peers_with("role = \"customer\"\n", ""), Some(9), Some("peer[0]"), "missing field `role`"),
        ("missing server", "[defaults]\nrov = \"tag\"\n".into(), None, None, "missing field `server`"),
        ("syntax error", two_peers_with("asn = 64497", "asn = 64497 64498"), Some(18), Some("peer[1].asn"), "string values must be quoted"),
        ("unclosed array", SERVER.replace("179\"]", "179\""), Some(4), Some("server.listen[0]"), "unclosed array"),
        ("bad header", format!("{SERVER}[defaults\nrov = \"tag\"\n"), Some(5), None, "unclosed table, expected `]`"),
    ];
    assert_broken(cases);
}

#[test]
fn broken_rov_settings_name_line_and_key() {
    let rov = |body: &str| format!("{SERVER}\n[rov]\n{body}\n");
    let percent = "rov.mass_invalidation_percent";
    #[rustfmt::skip]
    let cases: Vec<BrokenCase> = vec![
        ("zero percent", rov("mass_invalidation_percent = 0"), Some(7), Some(percent), "expected a percentage from 0.0001 to 100, got 0"),
        ("percent over 100", rov("mass_invalidation_percent = 100.5"), Some(7), Some(percent), "expected a percentage from 0.0001 to 100, got 100.5"),
        ("negative percent", rov("mass_invalidation_percent = -1"), Some(7), Some(percent), "got -1"),
        ("nan percent", rov("mass_invalidation_percent = nan"), Some(7), Some(percent), "got NaN"),
        ("percent as string", rov("mass_invalidation_percent = \"0.1\""), Some(7), Some(percent), "invalid type: string \"0.1\", expected f64"),
        ("unknown key in rov", rov("tag_valid = 1\ntag_unverified = 3"), Some(8), Some("rov.tag_unverified"), "unknown field `tag_unverified`"),
        ("zero peers", rov("mass_invalidation_peers = 0"), Some(7), Some("rov.mass_invalidation_peers"), "expected at least 1"),
        ("negative hold", rov("mass_invalidation_hold_seconds = -1"), Some(7), Some("rov.mass_invalidation_hold_seconds"), "invalid value"),
        ("two tags alike", rov("tag_valid = 1\ntag_invalid = 1"), Some(8), Some("rov.tag_invalid"), "expected distinct tags, got 1 for both tag_valid and tag_invalid"),
        ("a tag like a default", rov("tag_valid = 2"), Some(7), Some("rov.tag_valid"), "got 2 for both tag_valid and tag_not_found"),
        ("unknown role", format!("{SERVER}[defaults.role.client]\nrov = \"drop\"\n"), Some(5), Some("defaults.role.client"), "expected one of customer, peer, upstream, rs-client, got \"client\""),
        ("bad role rov", format!("{SERVER}[defaults.role.upstream]\nrov = \"strict\"\n"), Some(6), Some("defaults.role.upstream.rov"), "expected one of accept, tag, shadow, drop, got \"strict\""),
        ("unknown key in role", format!("{SERVER}[defaults.role.peer]\nrov = \"drop\"\nmax_prefixes = 1\n"), Some(7), Some("defaults.role.peer.max_prefixes"), "unknown field `max_prefixes`"),
        ("role without rov", format!("{SERVER}[defaults.role.peer]\n"), Some(5), Some("defaults.role.peer"), "expected at least one of rov, checks, check"),
        ("ext community not a bool", two_peers_with("max_prefixes = 100", "rov_ext_community = \"yes\""), Some(21), Some("peer[1].rov_ext_community"), "invalid type: string \"yes\", expected a boolean"),
        ("add_path neither send nor off", two_peers_with("max_prefixes = 100", "add_path = \"both\""), Some(21), Some("peer[1].add_path"), "expected one of off, send, got \"both\""),
    ];
    assert_broken(cases);
}

#[test]
fn http_table_sets_every_key_or_takes_the_defaults() {
    let defaults = parse(SERVER).expect("valid config").http;
    assert_eq!(defaults.max_connections, 64);
    assert_eq!(defaults.header_timeout, Duration::from_secs(10));
    let text = format!("{SERVER}[http]\nmax_connections = 5\nheader_timeout_seconds = 2\n");
    let http = parse(&text).expect("valid config").http;
    assert_eq!(http.max_connections, 5);
    assert_eq!(http.header_timeout, Duration::from_secs(2));
}

#[test]
fn broken_http_settings_name_line_and_key() {
    let http = |body: &str| format!("{SERVER}[http]\n{body}\n");
    #[rustfmt::skip]
    let cases: Vec<BrokenCase> = vec![
        ("no connections", http("max_connections = 0"), Some(6), Some("http.max_connections"), "expected at least 1"),
        ("negative connections", http("max_connections = -1"), Some(6), Some("http.max_connections"), "invalid value"),
        ("zero timeout", http("header_timeout_seconds = 0"), Some(6), Some("http.header_timeout_seconds"), "expected at least 1 second"),
        ("unknown key in http", http("idle_timeout = 5"), Some(6), Some("http.idle_timeout"), "unknown field `idle_timeout`"),
    ];
    assert_broken(cases);
}

/// Each case fails with its line, key and message, in `FILE`.
fn assert_broken(cases: Vec<BrokenCase>) {
    for (what, text, line, key, message) in cases {
        let e = parse(&text).expect_err(what);
        assert_eq!((e.line, e.key.as_deref()), (line, key), "{what}: {e}");
        assert!(e.message.contains(message), "{what}: {e}");
        assert_eq!(e.file, Path::new(FILE), "{what}");
    }
}

#[test]
fn error_display_is_file_line_key_message() {
    let e = parse(&two_peers_with("rov = \"drop\"", "rov = \"dorp\"")).expect_err("bad rov");
    assert_eq!(
        e.to_string(),
        "/etc/rovgate/x.toml:20: key peer[1].rov: expected one of accept, tag, shadow, drop, got \"dorp\""
    );
    let e = Config::load(Path::new("/nonexistent/rovgate.toml")).expect_err("missing file");
    assert!(
        e.to_string().starts_with("/nonexistent/rovgate.toml: "),
        "{e}"
    );
}

/// A `[[peer]]` table of AS 64496 (for the submodules below).
fn peer(name: &str, address: &str, role: &str, more: &str) -> String {
    format!("[[peer]]\nname = \"{name}\"\naddress = \"{address}\"\nasn = 64496\nrole = \"{role}\"\n{more}\n")
}

/// The server table and one rs-client `a` with `more` keys.
fn rs_client(more: &str) -> String {
    format!("{SERVER}{}", peer("a", "127.0.0.2", "rs-client", more))
}

/// The idle hold keys and the input files `Config::load` checks.
#[path = "config/load_tests.rs"]
mod load;

/// The import checks' keys and the IRR files `Config::load` reads.
#[path = "config/filters_tests.rs"]
mod filters;

/// The `aspa` key and the procedure of each role.
#[path = "config/aspa_tests.rs"]
mod aspa;
