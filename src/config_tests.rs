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
    assert_eq!(config.defaults.rov, RovPolicy::Tag);
    let a = &config.peers[0];
    assert_eq!(
        (a.name.as_str(), a.asn, a.role, a.rov),
        ("a", Asn(64496), Role::Customer, RovPolicy::Tag)
    );
    assert_eq!(a.max_prefixes, None);
    let b = &config.peers[1];
    assert_eq!(b.address, "::2".parse::<IpAddr>().expect("address"));
    assert_eq!(
        (b.role, b.rov, b.max_prefixes),
        (Role::RsClient, RovPolicy::Drop, Some(100))
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
    assert_eq!(config.defaults.rov, RovPolicy::Shadow);
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
    assert_eq!(config.peers[1].rov, config.defaults.rov);
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
    for (name, rov) in ROV_NAMES {
        assert_eq!((rov.to_string(), name.parse()), (name.to_string(), Ok(rov)));
    }
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
        ("missing role", two_peers_with("role = \"customer\"\n", ""), Some(9), Some("peer[0]"), "missing field `role`"),
        ("missing server", "[defaults]\nrov = \"tag\"\n".into(), None, None, "missing field `server`"),
        ("syntax error", two_peers_with("asn = 64497", "asn = 64497 64498"), Some(18), Some("peer[1].asn"), "string values must be quoted"),
        ("unclosed array", SERVER.replace("179\"]", "179\""), Some(4), Some("server.listen[0]"), "unclosed array"),
        ("bad header", format!("{SERVER}[defaults\nrov = \"tag\"\n"), Some(5), None, "unclosed table, expected `]`"),
    ];
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
