//! Route origin validation end to end: real BIRD 2 members send routes through rovgate to a
//! real OpenBGPD, with VRPs from a real stayrtr that the tests rewrite and stop.
//!
//! Each test builds one small exchange on its own loopback /24 (127.0.60.0 to 127.0.67.0):
//! BIRD members at .1, .2, ... (rs-clients of rovgate, each with its own `rov` mode) and
//! OpenBGPD at .100, which announces nothing and receives what rovgate exports. The tests
//! check what an operator would: OpenBGPD's RIB (`bgpctl show rib`, `show rib detail`),
//! rovgate's `GET /api/v1/status`, and that no session was reset and no route refresh sent
//! (rovgate's and OpenBGPD's logs, BIRD's packet trace).

mod support;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use ipnet::IpNet;
use rovgate::rpki::Vrp;
use serde_json::{json, Value};

use support::bgpd::Bgpd;
use support::bird::{preamble, Bird};
use support::daemon::Rovgate;
use support::{vrp, vrp_json, RtrTiming, Stayrtr};

/// rovgate's AS: `[server] asn` in the config `Rovgate::start` writes. Its Euro-IX ROV
/// tags are `64500:1000:1` (valid), `:2` (not-found) and `:4` (invalid).
const TAG_VALID: &str = "64500:1000:1";
const TAG_NOT_FOUND: &str = "64500:1000:2";
const TAG_INVALID: &str = "64500:1000:4";
/// Any of rovgate's ROV tags.
const ANY_TAG: &str = "64500:1000:";

/// The AS of the OpenBGPD receiver.
const RECEIVER_AS: u32 = 64511;
/// An AS no member uses: a VRP for it makes a member's route invalid.
const OTHER_AS: u32 = 65000;

/// A BIRD member that announces routes to rovgate.
struct Member {
    /// Its peer name in rovgate's config.
    name: &'static str,
    /// The last octet of its address in the exchange's /24.
    host: u8,
    asn: u32,
    /// Its `rov` in rovgate's config.
    rov: &'static str,
    /// The IPv4 prefixes it announces (static blackhole routes).
    routes: Vec<String>,
}

fn member(name: &'static str, host: u8, asn: u32, rov: &'static str, routes: &[&str]) -> Member {
    let routes = routes.iter().map(|r| r.to_string()).collect();
    Member {
        name,
        host,
        asn,
        rov,
        routes,
    }
}

/// One test's exchange: a cache, rovgate, the BIRD members and the OpenBGPD receiver.
struct Exchange {
    cache: Stayrtr,
    rovgate: Rovgate,
    bgpd: Bgpd,
    birds: Vec<Bird>,
    /// Every peer name in rovgate's config: the members', then "receiver".
    names: Vec<&'static str>,
}

impl Exchange {
    /// Starts stayrtr serving `vrps` with `timing`, rovgate with `rov_tables` (e.g. a
    /// `[rov]` table) and one peer per member plus the receiver, waits until rovgate has
    /// the VRPs, then starts OpenBGPD and the members; returns once every session is up and
    /// rovgate stores every member's routes.
    async fn start(
        net: u8,
        members: &[Member],
        rov_tables: &str,
        vrps: &[Vrp],
        timing: RtrTiming,
    ) -> Exchange {
        let cache = Stayrtr::start_json(&vrp_json(vrps), timing);
        let ports: Vec<u16> = members.iter().map(|_| support::free_port()).collect();
        let receiver_port = support::free_port();
        let mut config = format!(
            "[rpki]\n[[rpki.cache]]\naddress = \"{}\"\n\n{rov_tables}\n",
            cache.address()
        );
        for (m, port) in members.iter().zip(&ports) {
            config += &format!(
                "[[peer]]\nname = \"{}\"\naddress = \"127.0.{net}.{}\"\nasn = {}\n\
                 role = \"rs-client\"\nrov = \"{}\"\nport = {port}\npassive = true\n\n",
                m.name, m.host, m.asn, m.rov
            );
        }
        config += &format!(
            "[[peer]]\nname = \"receiver\"\naddress = \"127.0.{net}.100\"\nasn = {RECEIVER_AS}\n\
             role = \"rs-client\"\nport = {receiver_port}\npassive = true\n"
        );
        let rovgate = Rovgate::start(&format!("rov{net}"), &config);
        // Routes must meet the VRPs on arrival: a route first exported as not-found and
        // then withdrawn would hide what each test checks.
        wait("rovgate has the VRPs and re-evaluated", 30, || {
            rovgate.status().is_some_and(|s| {
                let re = &s["reevaluation"];
                s["vrps"]["count"] == json!(vrps.len())
                    && re["serial"] == s["vrps"]["serial"]
                    && re["pending"] == json!(0)
            })
        })
        .await;
        let bgpd = receiver(net, receiver_port, rovgate.bgp_port);
        let birds = members
            .iter()
            .zip(&ports)
            .map(|(m, &port)| bird_member(net, m, port, rovgate.bgp_port))
            .collect();
        let mut names: Vec<&'static str> = members.iter().map(|m| m.name).collect();
        names.push("receiver");
        let exchange = Exchange {
            cache,
            rovgate,
            bgpd,
            birds,
            names,
        };
        wait("every session up", 60, || {
            let status = exchange.rovgate.status();
            let peers = status.as_ref().and_then(|s| s["peers"].as_array().cloned());
            peers.is_some_and(|p| p.len() == members.len() + 1 && p.iter().all(|p| p["up"] == true))
        })
        .await;
        for m in members {
            let what = format!("rovgate stores the routes of {}", m.name);
            wait(&what, 30, || {
                exchange.peer(m.name)["routes"] == json!(m.routes.len())
            })
            .await;
        }
        exchange
    }

    /// The `peers` entry of rovgate's status for `name` (`null` if absent).
    fn peer(&self, name: &str) -> Value {
        let status = self.rovgate.status().unwrap_or_default();
        let peers = status["peers"].as_array().cloned().unwrap_or_default();
        let found = peers.into_iter().find(|p| p["name"] == name);
        found.unwrap_or_default()
    }

    /// rovgate's whole status (`null` if it does not answer).
    fn status(&self) -> Value {
        self.rovgate.status().unwrap_or_default()
    }

    /// The prefixes in OpenBGPD's RIB.
    fn received(&self) -> BTreeSet<IpNet> {
        self.bgpd
            .bgpctl("show rib")
            .split_whitespace()
            .filter_map(|token| token.parse().ok())
            .collect()
    }

    /// Whether OpenBGPD has a route for `prefix`.
    fn has(&self, prefix: &str) -> bool {
        self.received().contains(&prefix.parse().unwrap())
    }

    /// OpenBGPD's `show rib detail` for `prefix`.
    fn detail(&self, prefix: &str) -> String {
        self.bgpd.bgpctl(&format!("show rib detail {prefix}"))
    }

    /// Every session came up exactly once and never went down; no BIRD member got a
    /// ROUTE-REFRESH (its packet trace works: it logged the OPEN it got).
    fn assert_no_session_reset(&self) {
        let log = self.rovgate.log();
        for name in &self.names {
            let field = format!("peer={name} ");
            let established = log
                .lines()
                .filter(|l| l.contains("session established") && l.contains(&field))
                .count();
            assert_eq!(
                established, 1,
                "sessions of {name} in rovgate's log:\n{log}"
            );
        }
        assert!(!log.contains("session down"), "{log}");
        let bgpd_log = self.bgpd.log();
        let up = bgpd_log.matches("-> Established").count();
        assert_eq!(up, 1, "OpenBGPD's session came up {up} times:\n{bgpd_log}");
        for bird in &self.birds {
            let trace = bird.log();
            assert!(trace.contains("Got OPEN"), "BIRD traces packets:\n{trace}");
            assert!(!trace.contains("ROUTE-REFRESH"), "{trace}");
            assert_eq!(trace.matches("State changed to up").count(), 1, "{trace}");
        }
    }
}

/// A BIRD member at 127.0.NET.HOST announcing its routes to rovgate, tracing BGP packets
/// in its log (so a ROUTE-REFRESH it gets would show).
fn bird_member(net: u8, m: &Member, port: u16, rovgate_port: u16) -> Bird {
    let ip = format!("127.0.{net}.{}", m.host);
    let statics: String = m
        .routes
        .iter()
        .map(|r| format!("  route {r} blackhole;\n"))
        .collect();
    let config = format!(
        "{pre}protocol static s4 {{ ipv4;\n{statics}}}\n\
         protocol bgp rsrv {{ local {ip} port {port} as {asn}; \
         neighbor 127.0.0.1 port {rovgate_port} as 64500; multihop; connect delay time 1; \
         debug {{ states, packets }}; ipv4 {{ import all; export all; next hop self; }}; }}\n",
        pre = preamble(&ip),
        asn = m.asn,
    );
    Bird::start(&format!("rov{net}-{}", m.name), &config)
}

/// OpenBGPD at 127.0.NET.100, receiving from rovgate.
fn receiver(net: u8, port: u16, rovgate_port: u16) -> Bgpd {
    let ip = format!("127.0.{net}.100");
    let config = format!(
        "AS {RECEIVER_AS}\nrouter-id {ip}\nlisten on {ip} port {port}\nsocket \"SOCKET\"\n\
         neighbor 127.0.0.1 {{\n  remote-as 64500\n  local-address {ip}\n  port {rovgate_port}\n\
           enforce neighbor-as no\n}}\nallow from any\nallow to any\n"
    );
    Bgpd::start(&format!("rov{net}"), &config)
}

fn tools_present() -> bool {
    ["stayrtr", "bird", "bgpd"]
        .iter()
        .all(|tool| support::require_tool(tool))
}

async fn wait(what: &str, secs: u64, done: impl FnMut() -> bool) {
    support::wait_for(what, Duration::from_secs(secs), done).await;
}

/// Polls `done` like [`wait`] but returns whether it came true within `secs`.
async fn eventually(secs: u64, done: impl FnMut() -> bool) -> bool {
    support::eventually(Duration::from_secs(secs), done).await
}

/// Fast RTR timers (refresh and retry 1 s), expire long enough not to matter.
fn timing() -> RtrTiming {
    RtrTiming::default()
}

/// Expected: with VRPs making one route of each member valid, one invalid (another AS) and
/// one not-found, OpenBGPD gets:
/// - from the `drop` member the valid and not-found routes but not the invalid one, and
///   rovgate counts it as dropped;
/// - from the `shadow` member all three, unchanged (no ROV tag), and rovgate's status shows
///   `would_drop` 1 for it;
/// - from the `tag` member all three, with large community 64500:1000:1 (valid),
///   64500:1000:4 (invalid) and 64500:1000:2 (not-found);
/// - from the `accept` member all three, unchanged.
#[tokio::test]
async fn each_rov_mode_treats_an_invalid_route_its_way() {
    if !tools_present() {
        return;
    }
    let modes = [("drop", 1), ("shadow", 2), ("tag", 3), ("accept", 4)];
    let mut members = Vec::new();
    let mut vrps = Vec::new();
    for (mode, k) in modes {
        let asn = 64600 + u32::from(k);
        let (valid, invalid, not_found) = (
            format!("10.{k}.1.0/24"),
            format!("10.{k}.2.0/24"),
            format!("10.{k}.3.0/24"),
        );
        vrps.push(vrp(&valid, 24, asn));
        vrps.push(vrp(&invalid, 24, OTHER_AS));
        members.push(member(mode, k, asn, mode, &[&valid, &invalid, &not_found]));
    }
    let x = Exchange::start(60, &members, "", &vrps, timing()).await;

    let expected: BTreeSet<IpNet> = members
        .iter()
        .flat_map(|m| m.routes.iter())
        .filter(|r| r.as_str() != "10.1.2.0/24")
        .map(|r| r.parse().unwrap())
        .collect();
    wait("OpenBGPD has every route but the dropped one", 60, || {
        x.received() == expected
    })
    .await;

    let drop = x.peer("drop");
    assert_eq!(drop["rov"], "drop", "{drop}");
    assert_eq!(
        (&drop["valid"], &drop["invalid"], &drop["not_found"]),
        (&json!(1), &json!(1), &json!(1)),
        "{drop}"
    );
    assert_eq!(
        (&drop["dropped"], &drop["would_drop"]),
        (&json!(1), &json!(0)),
        "{drop}"
    );
    let shadow = x.peer("shadow");
    assert_eq!(shadow["rov"], "shadow", "{shadow}");
    assert_eq!(shadow["invalid"], 1, "{shadow}");
    assert_eq!(
        (&shadow["dropped"], &shadow["would_drop"]),
        (&json!(0), &json!(1)),
        "{shadow}"
    );

    let tags = [
        ("10.3.1.0/24", TAG_VALID),
        ("10.3.2.0/24", TAG_INVALID),
        ("10.3.3.0/24", TAG_NOT_FOUND),
    ];
    for (prefix, tag) in tags {
        let detail = x.detail(prefix);
        assert!(
            detail.contains(tag),
            "{prefix} should carry {tag}:\n{detail}"
        );
        assert_eq!(
            detail.matches(ANY_TAG).count(),
            1,
            "one ROV tag on {prefix}:\n{detail}"
        );
    }
    for prefix in ["10.1.1.0/24", "10.2.1.0/24", "10.2.2.0/24", "10.4.2.0/24"] {
        let detail = x.detail(prefix);
        assert!(
            !detail.contains(ANY_TAG),
            "{prefix} must not be tagged:\n{detail}"
        );
        assert!(
            detail.contains("Nexthop 127.0.60."),
            "{prefix} at OpenBGPD:\n{detail}"
        );
    }
}

/// Expected: under `drop`, when the cache's VRPs change so that a valid route turns invalid,
/// rovgate withdraws it from OpenBGPD; when they change back, it announces it again. A
/// second, always valid route stays throughout. No session is reset and BIRD gets no
/// ROUTE-REFRESH: the stored routes are re-evaluated.
#[tokio::test]
async fn vrp_change_withdraws_and_reannounces_without_session_reset() {
    if !tools_present() {
        return;
    }
    let asn = 64611;
    let (stays, flips) = ("10.1.1.0/24", "10.1.2.0/24");
    let valid = vec![vrp(stays, 24, asn), vrp(flips, 24, asn)];
    let invalid = vec![vrp(stays, 24, asn), vrp(flips, 24, OTHER_AS)];
    let members = [member("m1", 1, asn, "drop", &[stays, flips])];
    let mut x = Exchange::start(61, &members, "", &valid, timing()).await;
    wait("OpenBGPD has both routes", 60, || {
        x.has(stays) && x.has(flips)
    })
    .await;
    let passes = x.status()["reevaluation"]["passes"].as_u64().unwrap();

    x.cache.rewrite(&invalid);
    wait("the invalid route withdrawn at OpenBGPD", 30, || {
        !x.has(flips)
    })
    .await;
    assert!(x.has(stays), "the valid route stays");
    let m1 = x.peer("m1");
    assert_eq!(
        (&m1["invalid"], &m1["dropped"]),
        (&json!(1), &json!(1)),
        "{m1}"
    );

    x.cache.rewrite(&valid);
    wait("the route announced again at OpenBGPD", 30, || x.has(flips)).await;
    assert!(x.has(stays), "the valid route stays");
    let m1 = x.peer("m1");
    assert_eq!(
        (&m1["valid"], &m1["dropped"]),
        (&json!(2), &json!(0)),
        "{m1}"
    );
    let re = x.status()["reevaluation"].clone();
    assert!(re["passes"].as_u64().unwrap() >= passes + 2, "{re}");
    assert!(re["changes"].as_u64().unwrap() >= 2, "{re}");
    x.assert_no_session_reset();
}

/// Expected: `POST /api/v1/peers/m1/rov {"rov":"drop"}` on a `shadow` peer withdraws its
/// invalid route from OpenBGPD (its valid one stays) and status shows the peer as `drop`
/// with the route dropped; `{"rov":"shadow"}` brings it back. An unknown peer name gets 404.
/// No session is reset.
#[tokio::test]
async fn http_switches_a_peer_between_shadow_and_drop() {
    if !tools_present() {
        return;
    }
    let asn = 64621;
    let (valid, invalid) = ("10.1.1.0/24", "10.1.2.0/24");
    let vrps = [vrp(valid, 24, asn), vrp(invalid, 24, OTHER_AS)];
    let members = [member("m1", 1, asn, "shadow", &[valid, invalid])];
    let x = Exchange::start(62, &members, "", &vrps, timing()).await;
    wait("OpenBGPD has both routes", 60, || {
        x.has(valid) && x.has(invalid)
    })
    .await;
    assert_eq!(x.peer("m1")["would_drop"], 1);

    let answer = x
        .rovgate
        .post("/api/v1/peers/m1/rov", json!({"rov": "drop"}));
    assert_eq!(answer, Ok(json!({"rov": "drop"})));
    wait("the invalid route withdrawn at OpenBGPD", 30, || {
        !x.has(invalid)
    })
    .await;
    assert!(x.has(valid), "the valid route stays");
    let m1 = x.peer("m1");
    assert_eq!(m1["rov"], "drop", "{m1}");
    assert_eq!(
        (&m1["dropped"], &m1["would_drop"]),
        (&json!(1), &json!(0)),
        "{m1}"
    );

    let unknown = x
        .rovgate
        .post("/api/v1/peers/nobody/rov", json!({"rov": "drop"}));
    assert_eq!(unknown.map_err(|(code, _)| code), Err(404));

    let answer = x
        .rovgate
        .post("/api/v1/peers/m1/rov", json!({"rov": "shadow"}));
    assert_eq!(answer, Ok(json!({"rov": "shadow"})));
    wait("the invalid route back at OpenBGPD", 30, || x.has(invalid)).await;
    let m1 = x.peer("m1");
    assert_eq!(m1["rov"], "shadow", "{m1}");
    assert_eq!(
        (&m1["dropped"], &m1["would_drop"]),
        (&json!(0), &json!(1)),
        "{m1}"
    );
    x.assert_no_session_reset();
}

/// Expected: rewriting the config file to give a `shadow` peer `rov = "drop"` and sending
/// SIGHUP withdraws its invalid route from OpenBGPD (its valid one stays); rewriting it back
/// to `shadow` and SIGHUP again brings the route back. No session is reset.
#[tokio::test]
async fn sighup_applies_a_changed_rov_mode() {
    if !tools_present() {
        return;
    }
    let asn = 64631;
    let (valid, invalid) = ("10.1.1.0/24", "10.1.2.0/24");
    let vrps = [vrp(valid, 24, asn), vrp(invalid, 24, OTHER_AS)];
    let members = [member("m1", 1, asn, "shadow", &[valid, invalid])];
    let x = Exchange::start(63, &members, "", &vrps, timing()).await;
    wait("OpenBGPD has both routes", 60, || {
        x.has(valid) && x.has(invalid)
    })
    .await;

    let (shadow, drop) = ("rov = \"shadow\"\n", "rov = \"drop\"\n");
    x.rovgate.reload(|config| {
        assert_eq!(config.matches(shadow).count(), 1, "{config}");
        config.replace(shadow, drop)
    });
    wait("the invalid route withdrawn at OpenBGPD", 30, || {
        !x.has(invalid)
    })
    .await;
    assert!(x.has(valid), "the valid route stays");
    let m1 = x.peer("m1");
    assert_eq!(
        (&m1["rov"], &m1["dropped"]),
        (&json!("drop"), &json!(1)),
        "{m1}"
    );

    x.rovgate.reload(|config| config.replace(drop, shadow));
    wait("the invalid route back at OpenBGPD", 30, || x.has(invalid)).await;
    let m1 = x.peer("m1");
    assert_eq!(
        (&m1["rov"], &m1["would_drop"]),
        (&json!("shadow"), &json!(1)),
        "{m1}"
    );
    x.assert_no_session_reset();
}

/// Expected: peers are matched by name on reload. Reversing the order of the `[[peer]]`
/// tables while changing m2 from `shadow` to `drop` withdraws m2's invalid route at
/// OpenBGPD and leaves m1 (still `shadow`) and its invalid route alone; no session resets.
#[tokio::test]
async fn sighup_matches_peers_by_name_not_by_order() {
    if !tools_present() {
        return;
    }
    let (a1, a2) = (64641, 64642);
    let (invalid1, invalid2) = ("10.2.1.0/24", "10.2.2.0/24");
    let vrps = [vrp(invalid1, 24, OTHER_AS), vrp(invalid2, 24, OTHER_AS)];
    let members = [
        member("m1", 1, a1, "shadow", &[invalid1]),
        member("m2", 2, a2, "shadow", &[invalid2]),
    ];
    let x = Exchange::start(68, &members, "", &vrps, timing()).await;
    wait("OpenBGPD has both routes", 60, || {
        x.has(invalid1) && x.has(invalid2)
    })
    .await;
    x.rovgate.reload(|config| {
        let mut tables = config.split("[[peer]]\n");
        let head = tables.next().unwrap_or_default().to_string();
        let mut peers: Vec<String> = tables.map(str::to_string).collect();
        peers.reverse();
        let peers = peers
            .into_iter()
            .map(|p| match p.contains("name = \"m2\"") {
                true => p.replace("rov = \"shadow\"", "rov = \"drop\""),
                false => p,
            });
        peers.fold(head, |config, p| config + "[[peer]]\n" + &p)
    });
    wait("m2's invalid route withdrawn at OpenBGPD", 30, || {
        !x.has(invalid2)
    })
    .await;
    assert!(x.has(invalid1), "m1's route stays");
    assert_eq!(x.peer("m1")["rov"], json!("shadow"));
    assert_eq!(x.peer("m2")["rov"], json!("drop"));
    x.assert_no_session_reset();
}

/// Expected: a `drop` member announces 200 more-specifics of 10.0.0.0/8, valid by one VRP
/// (10.0.0.0/8 max 24 for its AS). The cache replaces that VRP with one for another AS,
/// which would newly drop all 200 (>= `mass_invalidation_min_routes` 50, and nearly all
/// routes): rovgate holds the update — status shows `held_update` (200 routes, 1 peer, no
/// deadline with hold 0) and OpenBGPD keeps all 200 routes, even after the same VRP update
/// re-tagged a `tag` member's route (so the held pass did reach OpenBGPD). After
/// `rovgate vrps accept --url ...` the 200 routes are withdrawn at OpenBGPD and
/// `held_update` is null; a second accept finds nothing to accept.
#[tokio::test]
async fn mass_invalidation_is_held_until_accepted() {
    if !tools_present() {
        return;
    }
    let members = hold_members();
    let sentinel = "172.16.1.0/24";
    let before = [vrp("10.0.0.0/8", 24, 64641)];
    let after = [
        vrp("10.0.0.0/8", 24, OTHER_AS),
        vrp("172.16.0.0/16", 24, 64642),
    ];
    let rov = "[rov]\nmass_invalidation_min_routes = 50\nmass_invalidation_hold_seconds = 0\n";
    let mut x = Exchange::start(64, &members, rov, &before, timing()).await;
    wait("OpenBGPD has all 201 routes", 60, || {
        x.received().len() == 201
    })
    .await;
    assert!(x.detail(sentinel).contains(TAG_NOT_FOUND));
    assert_eq!(x.status()["held_update"], Value::Null);

    x.cache.rewrite(&after);
    wait("the update held", 30, || {
        !x.status()["held_update"].is_null()
    })
    .await;
    wait(
        "the same update re-tagged the sentinel at OpenBGPD",
        30,
        || x.detail(sentinel).contains(TAG_VALID),
    )
    .await;
    let status = x.status();
    let held = &status["held_update"];
    assert_eq!(
        (&held["routes"], &held["peers"]),
        (&json!(200), &json!(1)),
        "{held}"
    );
    assert_eq!(held["until"], Value::Null, "hold 0: no deadline: {held}");
    assert_eq!(
        held_routes_at_receiver(&x),
        200,
        "OpenBGPD keeps the held routes"
    );
    let m = x.peer("many");
    assert_eq!(
        (&m["invalid"], &m["held"], &m["dropped"]),
        (&json!(200), &json!(200), &json!(0)),
        "{m}"
    );
    assert_eq!(m["would_drop"], 200, "{m}");

    let accept = || {
        let out = Command::new(env!("CARGO_BIN_EXE_rovgate"))
            .args(["vrps", "accept", "--url", &x.rovgate.url(), "--token-file"])
            .arg(x.rovgate.token_file())
            .output()
            .expect("run rovgate vrps accept");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = accept();
    assert!(first.starts_with("accepted"), "{first}");
    wait("the 200 routes withdrawn at OpenBGPD", 30, || {
        held_routes_at_receiver(&x) == 0
    })
    .await;
    assert!(x.has(sentinel), "the tagged member's route stays");
    assert_eq!(x.status()["held_update"], Value::Null);
    let m = x.peer("many");
    assert_eq!(
        (&m["dropped"], &m["held"], &m["would_drop"]),
        (&json!(200), &json!(0), &json!(0)),
        "{m}"
    );
    let second = accept();
    assert!(second.starts_with("nothing to accept"), "{second}");
    x.assert_no_session_reset();
}

/// Expected: with expire 5 s from the only cache, stopping it keeps its VRPs while the
/// cache is reported down (the invalid route of a `drop` member stays unexported); after
/// expire, status shows `vrps.stale` true and no VRPs, that route is exported to OpenBGPD as
/// not-found, and a `tag` member's invalid route is re-tagged 64500:1000:2 (not-found)
/// instead of :4. When the cache comes back, its VRPs apply again: the route is withdrawn
/// and the tag is :4 again. No session is reset.
#[tokio::test]
async fn stale_caches_fail_open_to_not_found() {
    if !tools_present() {
        return;
    }
    let (drop_as, tag_as) = (64651, 64652);
    let (valid, dropped, tagged) = ("10.1.1.0/24", "10.1.2.0/24", "10.2.2.0/24");
    let vrps = [
        vrp(valid, 24, drop_as),
        vrp(dropped, 24, OTHER_AS),
        vrp(tagged, 24, OTHER_AS),
    ];
    let members = [
        member("dropper", 1, drop_as, "drop", &[valid, dropped]),
        member("tagger", 2, tag_as, "tag", &[tagged]),
    ];
    let short = RtrTiming {
        expire: 5,
        ..timing()
    };
    let mut x = Exchange::start(65, &members, "", &vrps, short).await;
    wait("OpenBGPD has the valid and the tagged route", 60, || {
        x.has(valid) && x.has(tagged)
    })
    .await;
    assert!(!x.has(dropped), "the invalid route is dropped");
    assert!(x.detail(tagged).contains(TAG_INVALID));
    assert_eq!(x.peer("dropper")["dropped"], 1);

    x.cache.stop();
    let cache_state = |x: &Exchange| x.status()["sources"][0]["state"].clone();
    wait("the cache reported down", 30, || cache_state(&x) != "up").await;
    let status = x.status();
    assert_eq!(status["sources"][0]["state"], "down", "{status}");
    assert_eq!(status["vrps"]["stale"], false, "not stale before expire");
    assert!(!x.has(dropped), "VRPs are kept until expire");

    wait("status stale", 30, || x.status()["vrps"]["stale"] == true).await;
    wait("the formerly invalid route at OpenBGPD", 30, || {
        x.has(dropped)
    })
    .await;
    wait("the tagged route re-tagged not-found", 30, || {
        x.detail(tagged).contains(TAG_NOT_FOUND)
    })
    .await;
    assert!(!x.detail(tagged).contains(TAG_INVALID));
    let status = x.status();
    assert_eq!(status["vrps"]["count"], 0, "{}", status["vrps"]);
    assert_eq!(status["sources"][0]["state"], "expired", "{status}");
    let dropper = x.peer("dropper");
    assert_eq!(
        (
            &dropper["not_found"],
            &dropper["invalid"],
            &dropper["dropped"]
        ),
        (&json!(2), &json!(0), &json!(0)),
        "{dropper}"
    );

    x.cache.restart();
    wait("the route withdrawn again at OpenBGPD", 30, || {
        !x.has(dropped)
    })
    .await;
    wait("the tagged route re-tagged invalid", 30, || {
        x.detail(tagged).contains(TAG_INVALID)
    })
    .await;
    let status = x.status();
    assert_eq!(status["vrps"]["stale"], false, "{}", status["vrps"]);
    assert_eq!(x.peer("dropper")["dropped"], 1);
    x.assert_no_session_reset();
}

/// 200 routes of a `drop` member ("many", AS 64641, at .1), all more-specifics of
/// 10.0.0.0/8, and one of a `tag` member ("tagged", AS 64642, at .2), for the hold tests.
fn hold_members() -> [Member; 2] {
    let many: Vec<String> = (0..200).map(|i| format!("10.64.{i}.0/24")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    [
        member("many", 1, 64641, "drop", &many),
        member("tagged", 2, 64642, "tag", &["172.16.1.0/24"]),
    ]
}

/// How many of the hold members' 10.64.x.0/24 routes OpenBGPD has.
fn held_routes_at_receiver(x: &Exchange) -> usize {
    let received = x.received();
    let many: IpNet = "10.64.0.0/16".parse().unwrap();
    received.iter().filter(|p| many.contains(*p)).count()
}

/// Expected: while a mass invalidation is held (hold 0: until accepted), the member whose
/// routes it holds resets its session (`birdc disable`, then `enable`); its routes are
/// withdrawn while it is down, and when it announces them again they are exported again —
/// the update is still held, so nothing new is dropped — and status counts them as held,
/// not dropped. After `POST /api/v1/vrps/accept` they are withdrawn.
#[tokio::test]
async fn held_mass_invalidation_survives_a_session_reset() {
    if !tools_present() {
        return;
    }
    let members = hold_members();
    let before = [vrp("10.0.0.0/8", 24, 64641)];
    let after = [vrp("10.0.0.0/8", 24, OTHER_AS)];
    let rov = "[rov]\nmass_invalidation_min_routes = 50\nmass_invalidation_hold_seconds = 0\n";
    let mut x = Exchange::start(66, &members, rov, &before, timing()).await;
    wait("OpenBGPD has all 201 routes", 60, || {
        x.received().len() == 201
    })
    .await;
    x.cache.rewrite(&after);
    wait("the update held", 30, || x.peer("many")["held"] == 200).await;
    assert_eq!(x.status()["held_update"]["routes"], 200);

    let bird = &x.birds[0];
    bird.birdc("disable rsrv");
    wait("the member's routes withdrawn at OpenBGPD", 30, || {
        held_routes_at_receiver(&x) == 0
    })
    .await;
    bird.birdc("enable rsrv");
    wait("rovgate stores the member's routes again", 60, || {
        x.peer("many")["routes"] == 200
    })
    .await;
    let status = x.status();
    assert!(!status["held_update"].is_null(), "still held: {status}");
    let exported = eventually(20, || held_routes_at_receiver(&x) == 200).await;
    assert!(
        exported,
        "the re-announced routes must be exported while the update is held; OpenBGPD has \
         {} of them; status: held_update {}, peer {}",
        held_routes_at_receiver(&x),
        x.status()["held_update"],
        x.peer("many")
    );
    let m = x.peer("many");
    assert_eq!((&m["held"], &m["dropped"]), (&json!(200), &json!(0)), "{m}");

    let accepted = x.rovgate.post("/api/v1/vrps/accept", json!({}));
    assert_eq!(accepted, Ok(json!({"accepted": true})));
    wait("the routes withdrawn after accept", 30, || {
        held_routes_at_receiver(&x) == 0
    })
    .await;
}

/// Expected: a held mass invalidation (hold 3600 s) that the next VRP update undoes (the
/// routes are valid again) holds nothing any more: `held_update` becomes null. When a later
/// update invalidates the same 200 routes again, that is a new hold of those 200 routes
/// (not 400), since that update, ending 3600 s after it.
#[tokio::test]
async fn undone_mass_invalidation_is_no_longer_held() {
    if !tools_present() {
        return;
    }
    let members = hold_members();
    let valid = [vrp("10.0.0.0/8", 24, 64641)];
    let invalid = [vrp("10.0.0.0/8", 24, OTHER_AS)];
    let invalid_again = [vrp("10.0.0.0/8", 24, OTHER_AS + 1)];
    let rov = "[rov]\nmass_invalidation_min_routes = 50\nmass_invalidation_hold_seconds = 3600\n";
    let mut x = Exchange::start(67, &members, rov, &valid, timing()).await;
    wait("OpenBGPD has all 201 routes", 60, || {
        x.received().len() == 201
    })
    .await;
    x.cache.rewrite(&invalid);
    wait("the update held", 30, || x.peer("many")["held"] == 200).await;
    let first = x.status()["held_update"].clone();
    assert_eq!(first["routes"], 200, "{first}");

    x.cache.rewrite(&valid);
    wait("the routes valid again", 30, || {
        x.peer("many")["valid"] == 200
    })
    .await;
    let m = x.peer("many");
    assert_eq!((&m["held"], &m["invalid"]), (&json!(0), &json!(0)), "{m}");
    let released = eventually(10, || x.status()["held_update"].is_null()).await;
    assert!(
        released,
        "no route is held, so no update should be: held_update {}, peer {}",
        x.status()["held_update"],
        x.peer("many")
    );

    std::thread::sleep(Duration::from_millis(1100)); // a new `since` second
    x.cache.rewrite(&invalid_again);
    wait("the update held", 30, || x.peer("many")["held"] == 200).await;
    let second = x.status()["held_update"].clone();
    assert_eq!(second["routes"], 200, "{second}");
    assert!(
        second["since"].as_u64() > first["since"].as_u64(),
        "{first} then {second}"
    );
    let held_for = second["until"].as_u64().unwrap() - second["since"].as_u64().unwrap();
    assert!((3599..=3601).contains(&held_for), "{second}");
    assert_eq!(held_routes_at_receiver(&x), 200);
}
