//! `irr_dir` with the real member lists (`../shared/data/ixp`) and bgpq4-shaped files in a
//! scratch directory: which files each member's peers get, what is missing, the union over
//! a member's AS-SETs, and broken files named by key.

use std::fs;
use std::path::{Path, PathBuf};

use crate::config::{Config, ConfigError};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/ixp")
        .join(name)
}

/// A scratch directory with an empty `irr/` in it.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rovgate-irr-dir-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("irr")).unwrap();
    dir
}

/// What `bgpq4 -j -A -4|-6 -l SET SET` writes for these prefixes (exact, or with
/// `less-equal`), and `bgpq4 -j -t -l SET SET` for these origins, into `dir/irr`.
fn bgpq4(dir: &Path, set: &str, v4: &[&str], v6: &[&str], origins: Option<&[u32]>) {
    let list = |prefixes: &[&str]| {
        let entries: Vec<String> = (prefixes.iter())
            .map(|p| format!("\n  {{ \"prefix\": \"{p}\", \"exact\": true }}"))
            .collect();
        format!("{{ \"{set}\": [{}\n] }}\n", entries.join(","))
    };
    let irr = dir.join("irr");
    fs::write(irr.join(format!("{set}.v4.json")), list(v4)).unwrap();
    fs::write(irr.join(format!("{set}.v6.json")), list(v6)).unwrap();
    if let Some(origins) = origins {
        let asns = format!("{{\"{set}\": {origins:?}}}\n");
        fs::write(irr.join(format!("{set}.asns.json")), asns).unwrap();
    }
}

fn load(dir: &Path, rest: &str) -> Result<Config, ConfigError> {
    let text = format!(
        "[server]\nasn = 64500\nrouter_id = \"192.0.2.254\"\nlisten = [\"127.0.0.1:179\"]\n{rest}"
    );
    let file = dir.join("rovgate.toml");
    fs::write(&file, text).unwrap();
    Config::load(&file)
}

fn members(list: &Path, format: &str) -> String {
    format!("[[members]]\nfile = {list:?}\nformat = \"{format}\"\nirr_dir = \"irr\"\n")
}

/// The names of peer `name`'s `irr` files.
fn files_of(config: &Config, name: &str) -> Vec<String> {
    let peer = config.peers.iter().find(|p| p.name == name).unwrap();
    let names = peer
        .irr
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy());
    names.map(String::from).collect()
}

#[test]
fn ixf_as_macros_map_to_their_bgpq4_files() {
    // GR-IX: Cloudflare lists AS-CLOUDFLARE (all three files written), AS1241 lists
    // AS1241:AS-TO-AIX (its IPv6 prefix file missing), no other AS-SET has files.
    let dir = scratch("grix");
    bgpq4(
        &dir,
        "AS-CLOUDFLARE",
        &["104.16.0.0/13"],
        &["2606:4700::/32"],
        Some(&[13335]),
    );
    bgpq4(
        &dir,
        "AS1241:AS-TO-AIX",
        &["62.103.0.0/16"],
        &[],
        Some(&[1241]),
    );
    fs::remove_file(dir.join("irr/AS1241:AS-TO-AIX.v6.json")).unwrap();
    let config = load(&dir, &members(&data("gr-ix.json"), "ixf")).unwrap();
    let every = [
        "AS-CLOUDFLARE.v4.json",
        "AS-CLOUDFLARE.v6.json",
        "AS-CLOUDFLARE.asns.json",
    ];
    assert_eq!(files_of(&config, "AS13335-176.126.38.5"), every);
    assert_eq!(files_of(&config, "AS13335-2001:7f8:6e::5"), every);
    assert_eq!(
        files_of(&config, "AS1241-176.126.38.3"),
        ["AS1241:AS-TO-AIX.asns.json"],
        "no prefix check without the IPv6 prefix file: the origin check alone"
    );
    assert!(files_of(&config, "AS25152-176.126.38.125").is_empty());

    let list = &config.members[0];
    // Cloudflare's two addresses and AS1241's four.
    assert_eq!((list.irr_peers, list.peers), (6, 74));
    assert_eq!(
        list.missing.len(),
        27,
        "of the 28 AS-SETs, all but AS-CLOUDFLARE"
    );
    let aix = list.missing.iter().find(|m| m.as_set == "AS1241:AS-TO-AIX");
    let aix = aix.expect("AS1241's AS-SET is missing a file");
    assert_eq!(aix.files, [dir.join("irr/AS1241:AS-TO-AIX.v6.json")]);
    assert_eq!(aix.peers.len(), 4);
    assert_eq!(
        aix.commands(),
        [format!(
            "bgpq4 -j -A -6 -l AS1241:AS-TO-AIX AS1241:AS-TO-AIX > {}",
            dir.join("irr/AS1241:AS-TO-AIX.v6.json").display()
        )]
    );
    let described = list.describe();
    assert!(
        described.contains(&format!(
            "  IRR data from {}: 6 of 74 peers, 27 AS-SETs with files missing\n",
            dir.join("irr").display()
        )),
        "{described}"
    );
    let warnings: Vec<String> = list.warnings().collect();
    assert_eq!(warnings.len(), 27);
    let w = warnings
        .iter()
        .find(|w| w.contains("AS-SET AS-NETIX-INT:"))
        .unwrap();
    assert!(
        w.contains("gr-ix.json: AS-SET AS-NETIX-INT: missing "),
        "{w}"
    );
    assert!(
        w.contains("bgpq4 -j -t -l AS-NETIX-INT AS-NETIX-INT > "),
        "{w}"
    );
}

#[test]
fn arouteserver_as_sets_and_the_members_own_as_without_one() {
    // INEX lists AS-SETs (AS112 lists "AS112"); AMS-IX lists none, so its members' sets
    // are AS<asn>, as arouteserver takes them.
    let dir = scratch("ars");
    bgpq4(
        &dir,
        "AS112",
        &["192.175.48.0/24"],
        &["2620:4f:8000::/48"],
        Some(&[112]),
    );
    bgpq4(&dir, "AS58453", &["223.118.0.0/15"], &[], Some(&[58453]));
    let rest =
        members(&data("inex.yml"), "arouteserver") + &members(&data("amsix.yml"), "arouteserver");
    let config = load(&dir, &rest).unwrap();
    let as112: Vec<_> = config.peers.iter().filter(|p| p.asn.0 == 112).collect();
    assert_eq!(as112.len(), 2);
    for p in as112 {
        assert_eq!(
            files_of(&config, &p.name),
            ["AS112.v4.json", "AS112.v6.json", "AS112.asns.json"]
        );
    }
    assert_eq!(
        files_of(&config, "AS58453-193.105.101.100"),
        ["AS58453.v4.json", "AS58453.v6.json", "AS58453.asns.json"]
    );
    let amsix = &config.members[1];
    assert_eq!(amsix.irr_peers, 1);
    assert!(amsix.missing.iter().any(|m| m.as_set == "AS8959"));
    assert!(!amsix.missing.iter().any(|m| m.as_set == "AS58453"));
}

#[test]
fn a_member_with_several_as_sets_checks_their_union() {
    let dir = scratch("union");
    let clients = "clients:\n- asn: 64496\n  ip: 192.0.2.1\n  cfg:\n    filtering:\n      irrdb:\n        as_sets: [AS-A, AS-B]\n";
    fs::write(dir.join("clients.yml"), clients).unwrap();
    bgpq4(&dir, "AS-A", &["198.51.100.0/24"], &[], Some(&[64496]));
    bgpq4(
        &dir,
        "AS-B",
        &["203.0.113.0/24"],
        &["2001:db8::/32"],
        Some(&[64497]),
    );
    let rest =
        "[[members]]\nfile = \"clients.yml\"\nformat = \"arouteserver\"\nirr_dir = \"irr\"\n";
    let config = load(&dir, rest).unwrap();
    assert_eq!(files_of(&config, "AS64496-192.0.2.1").len(), 6);
    let filters = config.filters_for(0).unwrap();
    let irr = filters.irr.expect("the member has IRR data");
    let covered = |p: &str| irr.covers(&p.parse().unwrap());
    assert!(covered("198.51.100.0/24") && covered("203.0.113.0/24") && covered("2001:db8::/32"));
    assert!(!covered("192.0.2.0/24"));
    let origins = [64496, 64497, 64511].map(|a| irr.has_origin(crate::route::Asn(a)));
    assert_eq!(origins, [true, true, false]);

    // AS-B's origins go missing: no origin check, the prefix check stays.
    fs::remove_file(dir.join("irr/AS-B.asns.json")).unwrap();
    let config = load(&dir, rest).unwrap();
    let irr = config.filters_for(0).unwrap().irr.unwrap();
    assert_eq!(irr.lists(), (true, false));
    assert_eq!(config.members[0].missing[0].as_set, "AS-B");

    // A [[peer]] for the address wins, with its own `irr` (or none).
    let own = format!(
        "[[peer]]\nname = \"a\"\naddress = \"192.0.2.1\"\nasn = 64496\nrole = \"rs-client\"\nirr = [{:?}]\n{rest}",
        dir.join("irr/AS-B.v4.json")
    );
    let config = load(&dir, &own).unwrap();
    assert_eq!(config.peers.len(), 1);
    assert_eq!(files_of(&config, "a"), ["AS-B.v4.json"]);
    assert_eq!(config.members[0].irr_peers, 0);
}

#[test]
fn broken_files_and_a_missing_directory_are_named_by_key() {
    let dir = scratch("broken");
    fs::write(
        dir.join("clients.yml"),
        "clients:\n- asn: 64496\n  ip: 192.0.2.1\n",
    )
    .unwrap();
    let rest = |irr_dir: &str| {
        format!("[[members]]\nfile = \"clients.yml\"\nformat = \"arouteserver\"\nirr_dir = \"{irr_dir}\"\n")
    };
    let e = load(&dir, &rest("nowhere")).unwrap_err().to_string();
    assert!(
        e.contains("rovgate.toml:8: key members[0].irr_dir: "),
        "{e}"
    );
    assert!(e.contains("nowhere is not a directory"), "{e}");
    fs::write(
        dir.join("irr/AS64496.v4.json"),
        "{\"AS64496\": [{\"prefix\": 1}]}",
    )
    .unwrap();
    let e = load(&dir, &rest("irr")).unwrap_err().to_string();
    assert!(e.contains("key members[0].irr_dir: "), "{e}");
    assert!(e.contains("AS64496.v4.json: not bgpq4 JSON output"), "{e}");
}

#[test]
fn an_as_set_that_cannot_be_a_file_name_is_reported_not_read() {
    let dir = scratch("name");
    let clients = "clients:\n- asn: 64496\n  ip: 192.0.2.1\n  cfg:\n    filtering:\n      irrdb:\n        as_sets: [../AS-OUT]\n";
    fs::write(dir.join("clients.yml"), clients).unwrap();
    bgpq4(&dir, "../AS-OUT", &["198.51.100.0/24"], &[], Some(&[64496]));
    let rest =
        "[[members]]\nfile = \"clients.yml\"\nformat = \"arouteserver\"\nirr_dir = \"irr\"\n";
    let config = load(&dir, rest).unwrap();
    assert!(
        config.peers[0].irr.is_empty(),
        "nothing outside irr_dir is read"
    );
    let warnings: Vec<String> = config.members[0].warnings().collect();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].ends_with(
            "AS-SET \"../AS-OUT\" cannot be a file name: no IRR prefix and origin check for AS64496-192.0.2.1"
        ),
        "{}",
        warnings[0]
    );
}
