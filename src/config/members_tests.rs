//! The member lists of real IXPs (`../shared/data/ixp`): IX-F exports of BCIX and GR-IX,
//! arouteserver clients of INEX and AMS-IX; a `[[members]]` table turned into peers, and
//! broken lists named by file and key.

use std::path::{Path, PathBuf};

use super::*;
use crate::config::Config;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/ixp")
        .join(name)
}

#[test]
fn real_lists_give_every_member_address() {
    // (file, format, addresses, distinct ASes): counted independently with Python.
    let cases = [
        ("bcix.json", MemberFormat::Ixf, 182, 81),
        ("gr-ix.json", MemberFormat::Ixf, 74, 28),
        ("inex.yml", MemberFormat::Arouteserver, 142, 83),
        ("amsix.yml", MemberFormat::Arouteserver, 27, 17),
    ];
    for (file, format, addresses, asns) in cases {
        let peers = read(&data(file), format).unwrap();
        assert_eq!(peers.len(), addresses, "{file}");
        let distinct: std::collections::HashSet<u32> = peers.iter().map(|p| p.asn).collect();
        assert_eq!(distinct.len(), asns, "{file}");
    }
}

#[test]
fn limits_and_as_sets_are_per_address_family() {
    let bcix = read(&data("bcix.json"), MemberFormat::Ixf).unwrap();
    let google: Vec<_> = bcix.iter().filter(|p| p.asn == 15169).collect();
    let v4 = google.iter().find(|p| p.address.is_ipv4()).unwrap();
    let v6 = google.iter().find(|p| p.address.is_ipv6()).unwrap();
    assert_eq!(v4.address.to_string(), "193.178.185.100");
    assert_eq!((v4.max_prefixes, v6.max_prefixes), (Some(15000), Some(750)));
    assert_eq!(v4.as_sets, ["AS-GOOGLE"]);
    let inex = read(&data("inex.yml"), MemberFormat::Arouteserver).unwrap();
    let as112: Vec<_> = inex.iter().filter(|p| p.asn == 112).collect();
    let limits: Vec<_> = as112
        .iter()
        .map(|p| (p.address.is_ipv4(), p.max_prefixes))
        .collect();
    assert_eq!(limits, [(true, Some(20)), (false, Some(20))]);
    assert_eq!(as112[0].as_sets, ["AS112"]);
    let amsix = read(&data("amsix.yml"), MemberFormat::Arouteserver).unwrap();
    assert!(amsix
        .iter()
        .all(|p| p.max_prefixes.is_none() && p.as_sets.is_empty()));
}

fn config_with(dir: &Path, rest: &str) -> Result<Config, crate::config::ConfigError> {
    let text = format!(
        "[server]\nasn = 64500\nrouter_id = \"192.0.2.254\"\nlisten = [\"127.0.0.1:179\"]\n{rest}"
    );
    let file = dir.join("rovgate.toml");
    std::fs::write(&file, text).unwrap();
    Config::load(&file)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rovgate-members-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_members_table_adds_peers_and_a_peer_table_overrides_one() {
    let dir = scratch("table");
    let rest = format!(
        "[[peer]]\nname = \"google\"\naddress = \"193.178.185.100\"\nasn = 15169\nrole = \"rs-client\"\nrov = \"drop\"\n\n\
         [[members]]\nfile = {:?}\nformat = \"ixf\"\n\n[[members]]\nfile = {:?}\nformat = \"arouteserver\"\n",
        data("bcix.json"),
        data("amsix.yml"),
    );
    let config = config_with(&dir, &rest).unwrap();
    assert_eq!(config.peers.len(), 1 + 181 + 27);
    assert_eq!(config.peers[0].rov, crate::policy::RovMode::Drop);
    let v6 = config
        .peers
        .iter()
        .find(|p| p.name == "AS15169-2001:7f8:19:1::3b41:1");
    let v6 = v6.expect("Google's IPv6 address is a peer");
    assert_eq!(
        (v6.max_prefixes, v6.role),
        (Some(750), crate::config::Role::RsClient)
    );
    let bcix = &config.members[0];
    assert_eq!((bcix.members, bcix.peers, bcix.overridden), (81, 181, 1));
    let google = bcix.as_sets.iter().find(|(s, _)| s == "AS-GOOGLE").unwrap();
    assert_eq!(google.1, ["AS15169-2001:7f8:19:1::3b41:1"]);
    assert_eq!(
        (config.members[1].members, config.members[1].peers),
        (17, 27)
    );
}

#[test]
fn broken_lists_are_named_by_file_and_key() {
    let dir = scratch("broken");
    let list = dir.join("clients.yml");
    let with = |yaml: &str, format: &str| {
        std::fs::write(&list, yaml).unwrap();
        let rest = format!("[[members]]\nfile = \"clients.yml\"\nformat = \"{format}\"\n");
        config_with(&dir, &rest).unwrap_err().to_string()
    };
    let bad_ip = "clients:\n- asn: 64496\n  ip: 192.0.2.1\n- asn: 64497\n  ip: 192.0.2.300\n";
    let e = with(bad_ip, "arouteserver");
    assert!(
        e.contains("clients.yml: key clients[1].ip: AS64497: expected an IP address"),
        "{e}"
    );
    let twice = "clients:\n- asn: 64496\n  ip: [192.0.2.1, 192.0.2.1]\n";
    let e = with(twice, "arouteserver");
    assert!(
        e.contains("key clients[0].ip[1]: address 192.0.2.1 is listed twice"),
        "{e}"
    );
    let e = with(
        "clients:\n- asn: 64496\n  ip: 192.0.2.1\n  cfg: [\n",
        "arouteserver",
    );
    assert!(e.contains("clients.yml:"), "{e}");
    let e = with("{\"member_list\": [{\"asnum\": \"x\"}]}", "ixf");
    assert!(e.contains("clients.yml:1: "), "{e}");
    let e = with("", "ixp");
    assert!(
        e.contains("rovgate.toml:") && e.contains("members[0].format"),
        "{e}"
    );
}
