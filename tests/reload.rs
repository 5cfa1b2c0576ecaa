//! Live reconfiguration with real BIRD: one BIRD process holds a member router per
//! 127.0.14.N address (one BGP protocol each), and rovgate's config is changed under it;
//! RPKI sources added and removed with a real stayrtr as the RTR cache.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

use crate::support;
use crate::support::bird::{preamble, Bird};
use crate::support::daemon::Rovgate;
use crate::support::{eventually, vrp, vrp_json, wait_for, Stayrtr};

/// The member at 127.0.14.`n`: its AS, and the one route it announces.
fn asn(n: u8) -> u32 {
    65000 + u32::from(n)
}

fn route(n: u8) -> String {
    format!("10.14.{n}.0/24")
}

/// One BIRD with a BGP protocol `m<N>` per member `n` in `members`, at 127.0.14.N
/// (listening on `port`), each announcing only its own route to rovgate and retrying
/// within a second or two after rovgate refused or closed it. BIRD runs one session per
/// neighbour address and port: the i-th member connects to rovgate's i-th port.
fn birds(members: &[u8], port: u16, rovgate: &Rovgate) -> Bird {
    let mut config = preamble("127.0.14.1");
    config += "protocol static s4 { ipv4;\n";
    for &n in members {
        config += &format!("  route {} blackhole;\n", route(n));
    }
    config += "}\n";
    for (&n, rovgate_port) in members.iter().zip(&rovgate.bgp_ports) {
        config += &format!(
            "protocol bgp m{n} {{ local 127.0.14.{n} port {port} as {asn}; \
             neighbor 127.0.0.1 port {rovgate_port} as 64500; multihop; \
             connect delay time 1; connect retry time 1; error wait time 1, 2; \
             debug {{ states }}; ipv4 {{ import all; export where net = {route}; }}; }}\n",
            asn = asn(n),
            route = route(n),
        );
    }
    Bird::start("reload", &config)
}

/// rovgate's `[[peer]]` table for member `n` (it only listens), with `extra` keys.
fn peer(n: u8, extra: &str) -> String {
    format!(
        "[[peer]]\nname = \"m{n}\"\naddress = \"127.0.14.{n}\"\nasn = {asn}\n\
         role = \"rs-client\"\npassive = true\n{extra}\n",
        asn = asn(n)
    )
}

/// The routes BIRD's protocol `m<n>` learned from rovgate.
fn learned(bird: &Bird, n: u8) -> BTreeSet<String> {
    bird.learned(&format!("m{n}"), "10.14.")
}

/// The routes of every member of `members` but `n`.
fn others(members: &[u8], n: u8) -> BTreeSet<String> {
    members
        .iter()
        .filter(|&&m| m != n)
        .map(|&m| route(m))
        .collect()
}

/// How often BIRD's protocol `m<n>` went up (its `debug { states }` trace). Not the
/// "since" time of `show protocols`: BIRD derives it from the monotonic clock on every
/// call, so it moves by a millisecond now and then without any state change.
fn bird_ups(bird: &Bird, n: u8) -> usize {
    let up = format!("m{n}: State changed to up");
    bird.log().lines().filter(|l| l.ends_with(&up)).count()
}

/// How often rovgate logged member `n`'s session as established.
fn established(rovgate: &Rovgate, n: u8) -> usize {
    let log = rovgate.log();
    let field = format!("peer=m{n} ");
    let lines = log.lines().filter(|l| l.contains("session established"));
    lines.filter(|l| l.contains(&field)).count()
}

async fn all_have_the_table(bird: &Bird, members: &[u8]) {
    for &n in members {
        let expected = others(members, n);
        if !eventually(60, || learned(bird, n) == expected).await {
            let learned = learned(bird, n);
            let missing: Vec<_> = expected.difference(&learned).collect();
            let extra: Vec<_> = learned.difference(&expected).collect();
            panic!("after 60 s, m{n} lacks {missing:?} and has {extra:?} besides");
        }
    }
}

/// Expected: 50 members up, each with the other 49 routes. A reload (`POST
/// /api/v1/reload`) removes m1..m5, adds m51..m55, switches m6..m10 to `rov = "drop"`
/// (policy) and gives m11..m15 a `max_prefixes` (session terms). Then: BIRD got Cease /
/// Peer De-configured on m1..m5 and Other Configuration Change on m11..m15; the other 35
/// (m16..m50) and the policy-changed m6..m10 never flapped (one "session established" each
/// in rovgate's log, one "State changed to up" in BIRD's trace) and hold every route of the
/// members configured now; m51..m55 are up with the whole table; the removed members'
/// routes are gone everywhere.
#[tokio::test]
async fn a_reload_adds_removes_and_changes_peers_and_nobody_else_notices() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let before: Vec<u8> = (1..=50).collect();
    let port = support::free_port();
    let rest: String = before.iter().map(|&n| peer(n, "")).collect();
    let all: Vec<u8> = (1..=55).collect();
    let rovgate = Rovgate::start_with_listeners("reload", all.len(), &rest);
    let bird = birds(&all, port, &rovgate);
    all_have_the_table(&bird, &before).await;
    let untouched: Vec<u8> = (6..=10).chain(16..=50).collect();

    let after: Vec<u8> = (6..=55).collect();
    let extra = |n: u8| match n {
        6..=10 => "rov = \"drop\"",
        11..=15 => "max_prefixes = 1000",
        _ => "",
    };
    rovgate.rewrite(|_| {
        let server = std::fs::read_to_string(rovgate.config_file()).unwrap();
        let head = &server[..server.find("[[peer]]").unwrap()];
        let peers: String = after.iter().map(|&n| peer(n, extra(n))).collect();
        let tail = &server[server.rfind("[defaults").unwrap()..];
        format!("{head}{peers}{tail}")
    });
    let applied = rovgate.post("/api/v1/reload", serde_json::json!({}));
    let applied = applied.expect("the reload is applied");
    let names = |key: &str| -> Vec<String> {
        let list = applied[key].as_array().expect(key).iter();
        list.map(|v| v.as_str().unwrap().to_string()).collect()
    };
    let members = |range: std::ops::RangeInclusive<u8>| -> Vec<String> {
        range.map(|n| format!("m{n}")).collect()
    };
    assert_eq!(names("removed"), members(1..=5), "{applied}");
    assert_eq!(names("added"), members(51..=55), "{applied}");
    assert_eq!(names("reset"), members(11..=15), "{applied}");
    assert_eq!(names("policy"), members(6..=10), "{applied}");

    all_have_the_table(&bird, &after).await;
    let log = bird.log();
    for n in 1..=5 {
        let cease = format!("m{n}: Received: Peer de-configured");
        assert!(log.contains(&cease), "no {cease:?} in BIRD's log:\n{log}");
    }
    for n in 11..=15 {
        let cease = format!("m{n}: Received: Other configuration change");
        assert!(log.contains(&cease), "no {cease:?} in BIRD's log:\n{log}");
    }
    for &n in &untouched {
        assert_eq!(
            established(&rovgate, n),
            1,
            "m{n} flapped:\n{}",
            rovgate.log()
        );
        assert_eq!(bird_ups(&bird, n), 1, "m{n} flapped in BIRD");
    }
    let status = rovgate.status().expect("status");
    let peers = status["peers"].as_array().unwrap().iter();
    // Peers started by the reload (added, reset) are listed last.
    let shown: BTreeSet<&str> = peers.map(|p| p["name"].as_str().unwrap()).collect();
    let expected: Vec<String> = after.iter().map(|n| format!("m{n}")).collect();
    let expected: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(shown, expected);
    assert_eq!(rovgate.peer_status("m6").unwrap()["rov"], "drop");
}

/// Expected: a config that does not load (a typo in a mode, and a peer removed beside it)
/// changes nothing, by SIGHUP or over HTTP: the log and the HTTP answer (400) name file,
/// line and key; both sessions stay up and the removed peer stays configured.
#[tokio::test]
async fn a_broken_config_changes_nothing_and_says_why() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let port = support::free_port();
    let rest = format!("{}{}", peer(91, ""), peer(92, ""));
    let rovgate = Rovgate::start_with_listeners("reload-broken", 2, &rest);
    let bird = birds(&[91, 92], port, &rovgate);
    all_have_the_table(&bird, &[91, 92]).await;
    rovgate.rewrite(|text| {
        let text = text.replacen("name = \"m91\"", "name = \"m91\"\nrov = \"dorp\"", 1);
        let cut = text.find("[[peer]]\nname = \"m92\"").unwrap();
        let rest = &text[cut..];
        let end = rest.find("\n\n").unwrap();
        format!("{}{}", &text[..cut], &rest[end + 2..])
    });
    let pid = rovgate.pid().to_string();
    let sent = Command::new("kill").args(["-HUP", &pid]).status();
    assert!(sent.is_ok_and(|s| s.success()));
    wait_for("the failed reload logged", 10, || {
        rovgate.log().contains("config reload failed")
    })
    .await;
    let log = rovgate.log();
    let line = log
        .lines()
        .find(|l| l.contains("config reload failed"))
        .unwrap();
    assert!(
        line.contains("rovgate.toml:") && line.contains("peer[0].rov"),
        "{line}"
    );
    let (code, why) = (rovgate.post("/api/v1/reload", serde_json::json!({}))).unwrap_err();
    assert_eq!(code, 400, "{why}");
    assert!(
        why.contains("rovgate.toml:") && why.contains("key peer[0].rov"),
        "{why}"
    );
    assert!(bird.established("m91") && bird.established("m92"));
    assert!(rovgate.peer_status("m92").unwrap()["up"] == true);
    assert_eq!(learned(&bird, 91), others(&[91, 92], 91));
}

/// `POST /api/v1/reload` after `edit` of rovgate's config: the answer.
fn reload(rovgate: &Rovgate, edit: impl FnOnce(&str) -> String) -> Value {
    rovgate.rewrite(edit);
    let applied = rovgate.post("/api/v1/reload", serde_json::json!({}));
    applied.expect("the reload is applied")
}

/// Expected: rovgate starts with one VRP file (a VRP of no member's) and members m41
/// (`rov = "drop"`, announcing 10.14.41.0/24 from AS65041) and m42. A reload adding a
/// source with a VRP giving 10.14.41.0/24 to another AS — a stayrtr as RTR cache, then a
/// second VRP file — makes m41's route invalid: dropped, so m42 no longer has it, and
/// validation stays active meanwhile (the set stays complete); a reload removing the source
/// gives m42 the route back. No session notices: one "session established" each, and no
/// `need_restart`.
#[tokio::test]
async fn a_reload_adds_and_removes_rpki_sources_and_routes_follow() {
    if !support::tools_present(&["bird", "stayrtr"]) {
        return;
    }
    let dir = support::scratch_dir("reload-rpki");
    let (base, extra) = (dir.join("base.json"), dir.join("extra.json"));
    let other_as = vrp(&route(41), 24, 64999);
    std::fs::write(&base, vrp_json(&[vrp("192.0.2.0/24", 24, 64496)])).unwrap();
    std::fs::write(&extra, vrp_json(&[other_as])).unwrap();
    let stayrtr = Stayrtr::start(&[other_as]);
    let rpki = |files: &[&std::path::Path], cache: &str| {
        let files: Vec<String> = files
            .iter()
            .map(|f| format!("{:?}", f.display().to_string()))
            .collect();
        format!(
            "[rpki]\nvrp_files = [{}]\nreload_seconds = 1\n{cache}\n",
            files.join(", ")
        )
    };
    let plain = rpki(&[&base], "");
    let peers = format!("{}{}", peer(41, "rov = \"drop\""), peer(42, ""));
    let rovgate = Rovgate::start_with_listeners("reload-rpki", 2, &format!("{plain}{peers}"));
    let bird = birds(&[41, 42], support::free_port(), &rovgate);
    all_have_the_table(&bird, &[41, 42]).await;

    let cache = format!("[[rpki.cache]]\naddress = \"{}\"\n", stayrtr.address());
    let sources = [
        (stayrtr.address(), rpki(&[&base], &cache)),
        (extra.display().to_string(), rpki(&[&base, &extra], "")),
    ];
    for (name, added) in sources {
        let applied = reload(&rovgate, |text| text.replacen(&plain, &added, 1));
        assert_eq!(
            applied["rpki"]["added"],
            serde_json::json!([name]),
            "{applied}"
        );
        assert_eq!(applied["need_restart"], serde_json::json!([]), "{applied}");
        let status = rovgate.status().unwrap();
        assert_eq!(status["vrps"]["complete"], true, "{status}");
        assert_eq!(status["waiting_for_vrps"], false, "{status}");
        wait_for(
            &format!("{name}: m41's route invalid, not at m42"),
            30,
            || {
                let m41 = rovgate.peer_status("m41").unwrap_or_default();
                m41["dropped"] == 1 && learned(&bird, 42).is_empty()
            },
        )
        .await;
        let status = rovgate.status().unwrap();
        assert_eq!(status["vrps"]["validation"]["active"], true, "{status}");
        assert_eq!(status["sources"].as_array().unwrap().len(), 2, "{status}");

        let applied = reload(&rovgate, |text| text.replacen(&added, &plain, 1));
        assert_eq!(
            applied["rpki"]["removed"],
            serde_json::json!([name]),
            "{applied}"
        );
        wait_for(
            &format!("{name} removed: m41's route back at m42"),
            30,
            || learned(&bird, 42) == others(&[41, 42], 42),
        )
        .await;
        let status = rovgate.status().unwrap();
        assert_eq!(status["vrps"]["count"], 1, "{status}");
        assert_eq!(status["sources"].as_array().unwrap().len(), 1, "{status}");
    }
    for n in [41, 42] {
        assert_eq!(
            established(&rovgate, n),
            1,
            "m{n} flapped:\n{}",
            rovgate.log()
        );
    }
}
