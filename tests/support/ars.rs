//! arouteserver, the reference IXP route-server config generator: a BIRD 2 config made by
//! it for the members and general policy in `tests/data/ars/`, adapted to run in a test's
//! namespace; and what an ExaBGP member received, read from its JSON log.
//!
//! `tests/run` installs arouteserver from PyPI into `target/ars` (a venv); one on PATH
//! does too.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The directory with the arouteserver inputs (`general.yml`, `clients.yml`).
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ars")
}

/// The `arouteserver` program: the venv `tests/run` makes, else one on PATH; `None` (see
/// [`super::absent`]) if neither is there.
pub fn program() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ars/bin/arouteserver");
    if venv.is_file() {
        return Some(venv);
    }
    super::tools_present(&["arouteserver"]).then(|| PathBuf::from("arouteserver"))
}

/// The BIRD 2 config arouteserver generates for `tests/data/ars/`, with the route-origin
/// data `roas` (BIRD `route P max N as A;` lines for the `RPKI4` ROA table) in place of
/// its RTR include, and these edits so that it runs in a test:
/// - its log goes to `bird.log` in BIRD's scratch directory ([`super::bird::Bird`]), not
///   to `/var/log` and syslog;
/// - the documentation ASNs (RFC 5398, 64496-64511) are not invalid ASNs: the members
///   use them, and rovgate never counts a peer's own AS as a bogon (README, "Compared
///   with arouteserver"). Private and reserved ASNs stay invalid.
///
/// `asns`: the members' ASNs, for arouteserver's PeeringDB cache (seeded empty, so that it
/// asks no one); `as_sets`: the AS-SETs `clients.yml` names, seeded into its IRR cache.
pub fn bird_config(program: &Path, asns: &[u32], as_sets: &[AsSet], roas: &str) -> String {
    let dir = super::scratch_dir("ars");
    let setup = dir.join("setup");
    let out = Command::new(program)
        .args(["setup", "--dest-dir"])
        .arg(&setup)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run arouteserver setup");
    assert!(out.status.success(), "arouteserver setup: {out:?}");
    let cfg = setup.join("arouteserver.yml");
    let mut settings = fs::read_to_string(&cfg).expect("read arouteserver.yml");
    settings.push_str("check_new_release: False\n");
    fs::write(&cfg, settings).expect("write arouteserver.yml");
    let cache = setup.join("cache");
    let peeringdb = asns
        .iter()
        .map(|asn| (format!("peeringdb_net_{asn}.json"), "null".into()));
    for (file, data) in peeringdb.chain(as_sets.iter().flat_map(AsSet::cache)) {
        let entry = format!("{{\"ts\": {}, \"data\": {data}}}", super::unix_seconds());
        fs::write(cache.join(file), entry).expect("seed arouteserver's cache");
    }
    let conf = dir.join("bird4.conf");
    let out = Command::new(program)
        .arg("bird")
        .arg("--cfg")
        .arg(&cfg)
        .arg("--cache-dir")
        .arg(&cache)
        .arg("--general")
        .arg(data_dir().join("general.yml"))
        .arg("--clients")
        .arg(data_dir().join("clients.yml"))
        .args(["--ip-ver", "4", "--target-version", "2.0.11", "-o"])
        .arg(&conf)
        .output()
        .expect("run arouteserver bird");
    assert!(out.status.success(), "arouteserver bird: {out:?}");
    let generated = fs::read_to_string(&conf).expect("read the generated config");
    let roa_table = format!("protocol static roas4 {{ roa4 {{ table RPKI4; }};\n{roas}}}");
    let edits = [
        ("log \"/var/log/bird.log\" all;", "log \"bird.log\" all;"),
        ("log syslog all;", ""),
        ("include \"/etc/bird/rpki_rtr_config.local\";", &roa_table),
        ("64496..64511,", ""),
    ];
    edits.iter().fold(generated, |text, (from, to)| {
        assert!(text.contains(from), "arouteserver's config has no {from:?}");
        text.replace(from, to)
    })
}

/// A member's AS-SET: what bgpq4 would fetch from the IRR for it.
pub struct AsSet {
    /// Its name (letters, digits and `-`).
    pub name: &'static str,
    /// The member's AS.
    pub asn: u32,
    /// The origin ASNs it expands to.
    pub origins: &'static [u32],
    /// The IPv4 prefixes of their route objects (exact).
    pub prefixes: &'static [&'static str],
}

impl AsSet {
    /// arouteserver's cache files for it, as (file name, data): the AS-SET's origins and
    /// prefixes, and (none) the prefixes of the member's AS, which it looks up too.
    fn cache(&self) -> [(String, String); 3] {
        let entries: Vec<String> = (self.prefixes.iter())
            .map(|p| {
                let (ip, len) = p.split_once('/').expect("a prefix");
                format!("{{\"prefix\": \"{ip}\", \"length\": {len}, \"exact\": true, \"ge\": null, \"le\": null}}")
            })
            .collect();
        let name = self.name.replace('-', "_");
        [
            (format!("{name}-as_set.json"), format!("{:?}", self.origins)),
            (
                format!("{name}-r_set-ipv4.json"),
                format!("[{}]", entries.join(", ")),
            ),
            (format!("AS{}-r_set-ipv4.json", self.asn), "[]".into()),
        ]
    }

    /// What `bgpq4 -j` prints for it: the prefix list, and (`-t`) the origin list.
    pub fn bgpq4(&self) -> [String; 2] {
        let entries: Vec<String> = (self.prefixes.iter())
            .map(|p| format!("{{\"prefix\": \"{p}\", \"exact\": true}}"))
            .collect();
        [
            format!("{{\"{}\": [{}]}}", self.name, entries.join(", ")),
            format!("{{\"{}\": {:?}}}", self.name, self.origins),
        ]
    }
}

/// A route as a member received it: what the comparison looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Got {
    /// AS_PATH as ExaBGP prints it (JSON).
    pub as_path: String,
    /// NEXT_HOP.
    pub next_hop: String,
    /// COMMUNITIES, sorted, as `a:b`.
    pub communities: Vec<String>,
    /// LARGE_COMMUNITIES, sorted, as `a:b:c`, without the route server's informational
    /// ones (`rs_asn:1000:*`, the RPKI state), which each server puts on its own way.
    pub large: Vec<String>,
}

/// The routes in an ExaBGP member's JSON log (`received`), by prefix: announcements in
/// order, withdrawals removing them. `rs_asn`: the route server's AS.
pub fn routes(received: &str, rs_asn: u64) -> BTreeMap<String, Got> {
    let mut table = BTreeMap::new();
    for line in received.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let update = &message["neighbor"]["message"]["update"];
        let withdrawn = family(&update["withdraw"]).and_then(Value::as_array);
        for nlri in withdrawn.into_iter().flatten() {
            table.remove(&prefix(nlri));
        }
        let Some(announce) = family(&update["announce"]).and_then(Value::as_object) else {
            continue;
        };
        let attrs = &update["attribute"];
        let pairs = |key: &str| -> Vec<Vec<u64>> {
            serde_json::from_value(attrs[key].clone()).unwrap_or_default()
        };
        let join = |c: &Vec<u64>| c.iter().map(u64::to_string).collect::<Vec<_>>().join(":");
        let mut communities: Vec<String> = pairs("community").iter().map(join).collect();
        let mut large: Vec<String> = (pairs("large-community").iter())
            .filter(|c| c[..2] != [rs_asn, 1000])
            .map(join)
            .collect();
        communities.sort();
        large.sort();
        for (next_hop, nlris) in announce {
            for nlri in nlris.as_array().into_iter().flatten() {
                let got = Got {
                    as_path: attrs["as-path"].to_string(),
                    next_hop: next_hop.clone(),
                    communities: communities.clone(),
                    large: large.clone(),
                };
                table.insert(prefix(nlri), got);
            }
        }
    }
    table
}

/// The IPv4 unicast part of an `announce` or `withdraw` object.
fn family(part: &Value) -> Option<&Value> {
    part.get("ipv4 unicast")
}

fn prefix(nlri: &Value) -> String {
    nlri["nlri"].as_str().unwrap_or_default().to_string()
}

/// Whether the log holds an End-of-RIB for IPv4 unicast: the route server has sent its
/// table.
pub fn end_of_rib(received: &str) -> bool {
    received.contains("\"eor\"")
}

/// arouteserver's reject codes (`rs_asn:65520:N`, reject policy "tag") on the routes in
/// BIRD's `show route all` output, by prefix; the 0 it puts beside them ("rejected") aside.
pub fn reject_causes(show_route_all: &str, rs_asn: u32) -> BTreeMap<String, Vec<u32>> {
    let mut causes: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let mut prefix = String::new();
    let tag = format!("({rs_asn}, 65520, ");
    for line in show_route_all.lines() {
        if line.starts_with(|c: char| c.is_ascii_digit()) {
            prefix = line
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
        }
        if !line.contains("BGP.large_community:") {
            continue;
        }
        let codes = line.match_indices(&tag).filter_map(|(at, _)| {
            let rest = &line[at + tag.len()..];
            let code = rest.split(')').next()?.trim().parse::<u32>().ok();
            code.filter(|&c| c != 0)
        });
        causes.entry(prefix.clone()).or_default().extend(codes);
    }
    causes
}
