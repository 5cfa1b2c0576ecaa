//! IRR filtering of members taken from a member list (`[[members]] irr_dir`), with real
//! BIRD members: the list names a member's AS-SET, bgpq4's files for it sit in `irr_dir`,
//! and rovgate checks the member's routes against them.

use std::collections::BTreeSet;
use std::fs;

use serde_json::json;

use crate::support;
use crate::support::bird::{preamble, Bird};
use crate::support::daemon::Rovgate;

const SENDER_AS: u32 = 64796;
const RECEIVER_AS: u32 = 64797;
const REGISTERED: &str = "10.114.1.0/24";
const UNREGISTERED: &str = "10.114.2.0/24";

/// arouteserver's `clients.yml`: the sender lists AS-SENDER, the receiver no AS-SET (so
/// its set is AS64797).
fn clients() -> String {
    format!(
        "clients:\n\
         - asn: {SENDER_AS}\n  ip: 127.0.114.1\n  cfg:\n    filtering:\n      irrdb:\n        as_sets: [AS-SENDER]\n\
         - asn: {RECEIVER_AS}\n  ip: 127.0.114.2\n"
    )
}

/// What bgpq4 writes for an AS-SET registering `prefixes` (v4), nothing in v6, and
/// `origin`: `(file name, contents)`.
fn bgpq4(set: &str, prefixes: &[&str], origin: u32) -> [(String, String); 3] {
    let entries: Vec<String> = (prefixes.iter())
        .map(|p| format!("\n  {{ \"prefix\": \"{p}\", \"exact\": true }}"))
        .collect();
    [
        (
            format!("{set}.v4.json"),
            format!("{{ \"{set}\": [{}\n] }}\n", entries.join(",")),
        ),
        (format!("{set}.v6.json"), format!("{{ \"{set}\": [\n] }}\n")),
        (
            format!("{set}.asns.json"),
            format!("{{\"{set}\": [\n  {origin}\n]}}\n"),
        ),
    ]
}

/// Expected: both members come up from the list (names `AS<asn>-<address>`); of the
/// sender's two routes the one AS-SENDER registers reaches the receiver, the other is
/// filtered with the IRR reason (status `failed.irr_prefix`, `rs_asn:1101:9` in the
/// birdwatcher API); the receiver, whose AS64797 files are missing, is logged with the
/// bgpq4 command that makes them, and gets no IRR check; once the files are written, rovgate
/// reloads by itself, with no session reset.
#[tokio::test]
async fn a_listed_members_route_missing_from_its_as_set_is_filtered() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let dir = support::scratch_dir("members-irr");
    let irr = dir.join("irr");
    fs::create_dir_all(&irr).unwrap();
    fs::write(dir.join("clients.yml"), clients()).unwrap();
    for (name, json) in bgpq4("AS-SENDER", &[REGISTERED], SENDER_AS) {
        fs::write(irr.join(name), json).unwrap();
    }
    let config = format!(
        "[rpki]\nreload_seconds = 1\n\n\
         [[members]]\nfile = {:?}\nformat = \"arouteserver\"\nirr_dir = {irr:?}\n\n\
         [defaults.role.rs-client.check]\nirr = \"drop\"\n",
        dir.join("clients.yml"),
    );
    let rovgate = Rovgate::start_with_listeners("members-irr", 2, &config);
    let (sender, receiver) = ("AS64796-127.0.114.1", "AS64797-127.0.114.2");

    let mut bird = preamble("127.0.114.1");
    bird += &format!(
        "protocol static s4 {{ ipv4;\n  route {REGISTERED} blackhole;\n  route {UNREGISTERED} blackhole;\n}}\n"
    );
    let members = [(1, SENDER_AS, "all"), (2, RECEIVER_AS, "none")];
    for ((n, asn, export), port) in members.into_iter().zip(&rovgate.bgp_ports) {
        bird += &format!(
            "protocol bgp m{n} {{ local 127.0.114.{n} port {local} as {asn}; \
             neighbor 127.0.0.1 port {port} as 64500; multihop; connect delay time 1; \
             debug {{ states }}; ipv4 {{ import all; export {export}; }}; }}\n",
            local = support::free_port(),
        );
    }
    let bird = Bird::start("members-irr", &bird);

    let failed = || {
        rovgate
            .peer_status(sender)
            .map(|s| s["failed"]["irr_prefix"].clone())
    };
    support::wait_for("the unregistered route filtered", 60, || {
        failed() == Some(json!(1))
    })
    .await;
    support::wait_for("the registered route delivered", 60, || {
        bird.learned("m2", "10.114.").contains(REGISTERED)
    })
    .await;
    assert_eq!(
        bird.learned("m2", "10.114."),
        BTreeSet::from([REGISTERED.into()])
    );

    let filtered = (rovgate.get("/birdwatcher/routes/filtered/AS64796_127_0_114_1"))
        .expect("GET /birdwatcher/routes/filtered");
    let routes = filtered["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 1, "{filtered}");
    assert_eq!(routes[0]["network"], UNREGISTERED, "{filtered}");
    assert_eq!(
        routes[0]["bgp"]["large_communities"],
        json!([[64500, 1101, 9]]),
        "IRR prefix: {filtered}"
    );

    let log = rovgate.log();
    let warning = (log.lines())
        .find(|l| l.contains("IRR files missing") && l.contains("as_set=AS64797"))
        .unwrap_or_else(|| panic!("no warning about AS64797's files: {log}"));
    assert!(
        warning.contains(&format!(
            "bgpq4 -j -t -l AS64797 AS64797 > {}",
            irr.join("AS64797.asns.json").display()
        )),
        "{warning}"
    );
    assert!(warning.contains(receiver), "{warning}");
    assert!(!log.contains("as_set=AS-SENDER"), "{log}");

    for (name, json) in bgpq4("AS64797", &[], RECEIVER_AS) {
        fs::write(irr.join(name), json).unwrap();
    }
    support::wait_for("the config reloaded for the new files", 30, || {
        rovgate.log().contains("config reloaded")
    })
    .await;
    let log = rovgate.log();
    assert!(
        log.contains("a member list changed: reloading the config"),
        "{log}"
    );
    assert_eq!(
        log.matches("as_set=AS64797").count(),
        1,
        "no warning after the reload: {log}"
    );
    let established = log.lines().filter(|l| l.contains("session established"));
    assert_eq!(established.count(), 2, "no session was reset: {log}");
    assert_eq!(
        bird.learned("m2", "10.114."),
        BTreeSet::from([REGISTERED.into()])
    );
}
