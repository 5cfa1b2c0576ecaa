//! Announcement control: members steer their routes with the Euro-IX action communities
//! (arouteserver's values, rovgate being AS 64500), applied per receiver on export and
//! stripped before sending, and RFC 8326 GRACEFUL_SHUTDOWN lowers a path's preference.
//! Announcers are real ExaBGP speakers, receivers real BIRD routers.

use std::collections::HashMap;

use crate::support;
use crate::support::bird::{preamble, Bird};
use crate::support::daemon::Rovgate;
use crate::support::exabgp::Exabgp;

/// The announcer with the action communities (AS 64496) and the one with the longer
/// alternative paths (AS 64510), both ExaBGP: (address octet, AS).
const ANNOUNCER: (u8, u32) = (81, 64496);
const ALTERNATIVE: (u8, u32) = (82, 64510);
/// The BIRD receivers: (address octet, AS).
const RECEIVERS: [(u8, u32); 3] = [(83, 64497), (84, 64498), (85, 64499)];

/// One route of the announcer: its prefix, its communities in ExaBGP syntax, and what each
/// BIRD receiver (in `RECEIVERS` order) should hold: `None` nothing, else the AS_PATH.
struct Case {
    prefix: &'static str,
    communities: &'static str,
    expected: [Option<&'static str>; 3],
}

const ONE: &str = "64496";
const CASES: [Case; 10] = [
    Case {
        prefix: "185.66.1.0/24",
        communities: "large-community [ 64500:0:64497 ]",
        expected: [None, Some(ONE), Some(ONE)],
    },
    Case {
        prefix: "185.66.2.0/24",
        communities: "large-community [ 64500:0:0 64500:1:64498 ]",
        expected: [None, Some(ONE), None],
    },
    Case {
        prefix: "185.66.3.0/24",
        communities: "large-community [ 64500:0:0 ]",
        expected: [None, None, None],
    },
    Case {
        prefix: "185.66.4.0/24",
        communities: "large-community [ 64500:101:64497 64500:102:64498 64500:103:64499 ]",
        expected: [
            Some("64496 64496"),
            Some("64496 64496 64496"),
            Some("64496 64496 64496 64496"),
        ],
    },
    Case {
        prefix: "185.66.5.0/24",
        communities: "community [ 0:64498 ]",
        expected: [Some(ONE), None, Some(ONE)],
    },
    Case {
        prefix: "185.66.6.0/24",
        communities: "community [ 0:64500 64500:64499 ]",
        expected: [None, None, Some(ONE)],
    },
    // As arouteserver and IXP Manager: "announce to" alone changes nothing.
    Case {
        prefix: "185.66.7.0/24",
        communities: "large-community [ 64500:1:64497 ]",
        expected: [Some(ONE), Some(ONE), Some(ONE)],
    },
    // Unknown rs:* communities are stripped; other ASes' communities stay.
    Case {
        prefix: "185.66.8.0/24",
        communities: "community [ 64496:100 ] large-community [ 64500:7:7 64496:0:64497 ]",
        expected: [Some(ONE), Some(ONE), Some(ONE)],
    },
    // Path hiding: the best path is kept from 64497, which gets the second best.
    Case {
        prefix: "185.66.9.0/24",
        communities: "large-community [ 64500:0:64497 ]",
        expected: [Some(LONGER), Some(ONE), Some(ONE)],
    },
    // GRACEFUL_SHUTDOWN: the shorter path loses to the longer one.
    Case {
        prefix: "185.66.10.0/24",
        communities: "community [ 65535:0 ]",
        expected: [Some(LONGER), Some(LONGER), Some(LONGER)],
    },
];
/// The alternative announcer's path for the last two prefixes.
const LONGER: &str = "64510 64510";
const ALTERNATIVES: [&str; 2] = ["185.66.9.0/24", "185.66.10.0/24"];

fn peer(name: &str, (n, asn): (u8, u32), port: Option<u16>) -> String {
    let port = port.map_or(String::new(), |p| format!("port = {p}\n"));
    format!(
        "[[peer]]\nname = \"{name}\"\naddress = \"127.0.0.{n}\"\nasn = {asn}\nrole = \"rs-client\"\n\
         passive = true\n{port}\n"
    )
}

fn exabgp(name: &str, (n, asn): (u8, u32), rovgate_port: u16, routes: &str) -> Exabgp {
    let body = format!(
        "  router-id 127.0.0.{n};\n  local-address 127.0.0.{n};\n  local-as {asn};\n  peer-as 64500;\n\
           connect {rovgate_port};\n  hold-time 30;\n  static {{\n{routes}  }}\n"
    );
    Exabgp::start(name, &body)
}

/// ExaBGP `static` routes from 127.0.0.N with this AS_PATH: (prefix, communities).
fn static_routes<'a>(
    (n, _): (u8, u32),
    path: &str,
    routes: impl Iterator<Item = (&'a str, &'a str)>,
) -> String {
    routes
        .map(|(prefix, communities)| {
            format!("    route {prefix} next-hop 127.0.0.{n} as-path [ {path} ] {communities};\n")
        })
        .collect()
}

fn receiver((n, asn): (u8, u32), rovgate_port: u16) -> Bird {
    let ip = format!("127.0.0.{n}");
    let config = format!(
        "{pre}protocol bgp rsrv {{ local {ip} port {port} as {asn}; neighbor 127.0.0.1 port {rovgate_port} as 64500; \
         strict bind; multihop; ipv4 {{ import all; export none; }}; }}\n",
        pre = preamble(&ip),
        port = support::free_port(),
    );
    Bird::start(&format!("actions-{n}"), &config)
}

/// What BIRD's `rsrv` session holds: prefix -> its `show route all` lines.
fn routes(bird: &Bird) -> HashMap<String, String> {
    let out = bird.birdc("show route all protocol rsrv");
    let mut routes: HashMap<String, String> = HashMap::new();
    let mut current = None;
    for line in out.lines() {
        let first = line.split_whitespace().next().unwrap_or_default();
        if !line.starts_with(char::is_whitespace) && first.contains('/') {
            current = Some(first.to_string());
        }
        if let Some(prefix) = &current {
            let lines = routes.entry(prefix.clone()).or_default();
            lines.push_str(line);
            lines.push('\n');
        }
    }
    routes
}

/// The AS_PATH in a route's `show route all` lines.
fn as_path(route: &str) -> &str {
    let line = route
        .lines()
        .find_map(|l| l.trim().strip_prefix("BGP.as_path:"));
    line.unwrap_or_default().trim()
}

/// Whether every receiver holds what the cases expect (and the alternative announcer gets
/// the shut-down path).
fn converged(birds: &[Bird], alternative: &Exabgp) -> bool {
    let gshut_at_alternative = alternative.received().contains("185.66.10.0/24");
    gshut_at_alternative
        && birds.iter().enumerate().all(|(i, bird)| {
            let held = routes(bird);
            CASES.iter().all(|c| match c.expected[i] {
                Some(path) => held.get(c.prefix).is_some_and(|r| as_path(r) == path),
                None => true,
            })
        })
}

/// The large and standard communities on an ExaBGP JSON UPDATE line.
fn exabgp_communities(line: &str) -> (Vec<Vec<u64>>, Vec<Vec<u64>>) {
    let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
    let attrs = &v["neighbor"]["message"]["update"]["attribute"];
    let list = |key: &str| serde_json::from_value(attrs[key].clone()).unwrap_or_default();
    (list("large-community"), list("community"))
}

/// Expected: each action community does what arouteserver's BIRD config does, for three
/// BIRD receivers (do not announce to, announce only to, to none, prepend once, twice and
/// three times, the standard forms), the receiver kept from the best path gets the second
/// best (path hiding), GRACEFUL_SHUTDOWN makes a shorter path lose to a longer one while
/// the community itself passes through, and no community addressed to the route server
/// reaches any member.
#[tokio::test]
async fn action_communities_steer_announcements() {
    if !support::tools_present(&["bird", "exabgp"]) {
        return;
    }
    let (a_port, b_port) = (support::free_port(), support::free_port());
    let mut config = peer("announcer", ANNOUNCER, Some(a_port));
    config += &peer("alternative", ALTERNATIVE, Some(b_port));
    for (i, r) in RECEIVERS.into_iter().enumerate() {
        config += &peer(&format!("r{i}"), r, None);
    }
    let rovgate = Rovgate::start("actions", &config);
    let birds: Vec<Bird> = RECEIVERS
        .iter()
        .map(|&r| receiver(r, rovgate.bgp_port))
        .collect();
    let cases = CASES.iter().map(|c| (c.prefix, c.communities));
    let announcer_routes = static_routes(ANNOUNCER, ONE, cases);
    let announcer = exabgp("announcer", ANNOUNCER, rovgate.bgp_port, &announcer_routes);
    let alternatives = ALTERNATIVES.into_iter().map(|prefix| (prefix, ""));
    let alternative_routes = static_routes(ALTERNATIVE, LONGER, alternatives);
    let alternative = exabgp(
        "alternative",
        ALTERNATIVE,
        rovgate.bgp_port,
        &alternative_routes,
    );
    support::wait_for("every receiver's routes", 90, || {
        converged(&birds, &alternative)
    })
    .await;

    for (i, bird) in birds.iter().enumerate() {
        let held = routes(bird);
        let asn = RECEIVERS[i].1;
        for c in &CASES {
            let got = held.get(c.prefix).map(|r| as_path(r));
            assert_eq!(got, c.expected[i], "AS{asn}, {}: {held:#?}", c.prefix);
        }
        for (prefix, route) in &held {
            assert!(!route.contains("(0,"), "AS{asn} {prefix}: {route}");
            assert!(!route.contains("(64500,"), "AS{asn} {prefix}: {route}");
        }
        let kept = &held["185.66.8.0/24"];
        assert!(kept.contains("(64496, 0, 64497)"), "{kept}");
        assert!(kept.contains("(64496,100)"), "{kept}");
    }

    // The alternative announcer gets the announcer's paths that go to everyone, among them
    // the shut-down one with its community; none that are kept from it.
    let at_alternative = alternative.received();
    let announced: Vec<&str> = at_alternative
        .lines()
        .filter(|l| l.contains("\"announce\""))
        .collect();
    let got = |prefix: &str| announced.iter().rev().find(|l| l.contains(prefix)).copied();
    for prefix in ["185.66.2.0/24", "185.66.3.0/24", "185.66.6.0/24"] {
        assert!(got(prefix).is_none(), "{prefix}: {at_alternative}");
    }
    let gshut = got("185.66.10.0/24").expect("the shut-down path");
    assert_eq!(exabgp_communities(gshut).1, [[65535, 0]], "{gshut}");
    for line in &announced {
        let (large, standard) = exabgp_communities(line);
        assert!(large.iter().all(|c| c.first() != Some(&64500)), "{line}");
        let ours = |c: &&Vec<u64>| matches!(c.first(), Some(0 | 64500));
        assert!(!standard.iter().any(|c| ours(&c)), "{line}");
    }
    drop(announcer);
}
