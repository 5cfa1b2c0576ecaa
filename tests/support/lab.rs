//! A small exchange on its own loopback /24 (127.0.NET.0), as the end-to-end tests build
//! it: a real stayrtr, rovgate, BIRD members (rs-clients of rovgate, each with its own `rov`
//! mode, announcing static routes) and one OpenBGPD peer. The tests check what an operator
//! would: OpenBGPD's RIB (`bgpctl show rib`), rovgate's `GET /api/v1/status`, and that no
//! session was reset and no route refresh sent (rovgate's and OpenBGPD's logs, BIRD's
//! packet trace).
//!
//! [`Lab::start`] builds the standard exchange of the web page and HTTP API tests: a BIRD
//! member at .1 at `rov = "shadow"` and an OpenBGPD member at .2 at `rov = "drop"`. The
//! VRPs make the BIRD member's `10.NET.1.0/24` valid and its `10.NET.2.0/24` invalid (a ROA
//! for another AS, reason `origin-as`); OpenBGPD's `10.NET.3.0/24` is not-found.
//! [`Lab::fix_vrps`] rewrites the cache so the invalid route turns valid,
//! [`Lab::invalidate_edge`] so the edge's route turns invalid. [`Lab::exchange`] builds any
//! other exchange (the ROV tests').

use std::collections::BTreeSet;

use ipnet::IpNet;
use rovgate::rpki::Vrp;
use serde_json::{json, Value};

use super::bgpd::Bgpd;
use super::bird::{preamble, Bird};
use super::daemon::Rovgate;
use super::{vrp, vrp_json, wait_for, RtrTiming, Stayrtr};

/// The tools a lab starts, for [`super::tools_present`].
pub const TOOLS: [&str; 3] = ["stayrtr", "bird", "bgpd"];

/// The standard lab's BIRD member's AS.
pub const MEMBER_AS: u32 = 64701;
/// The standard lab's OpenBGPD member's AS.
pub const EDGE_AS: u32 = 64702;
/// An AS no member uses: a ROA for it makes a member's route invalid.
pub const OTHER_AS: u32 = 65000;
/// The AS of the OpenBGPD receiver of [`receiver`].
pub const RECEIVER_AS: u32 = 64511;

/// A peer of rovgate in a lab: a BIRD member, or the OpenBGPD peer.
pub struct Peer {
    /// Its peer name in rovgate's config.
    pub name: String,
    /// The last octet of its address in the lab's /24.
    pub host: u8,
    /// Its AS.
    pub asn: u32,
    /// Its `rov` in rovgate's config (none: the default).
    pub rov: Option<&'static str>,
    /// The IPv4 prefixes it announces.
    pub routes: Vec<String>,
}

/// A peer named `name` at 127.0.NET.`host` in AS `asn` at `rov`, announcing `routes`.
pub fn member(name: &str, host: u8, asn: u32, rov: &'static str, routes: &[&str]) -> Peer {
    let routes = routes.iter().map(|r| r.to_string()).collect();
    let (name, rov) = (name.to_string(), Some(rov));
    Peer {
        name,
        host,
        asn,
        rov,
        routes,
    }
}

/// OpenBGPD as a receiver: "receiver" at .100 in [`RECEIVER_AS`], announcing nothing,
/// with rovgate's default `rov`.
pub fn receiver() -> Peer {
    Peer {
        rov: None,
        ..member("receiver", 100, RECEIVER_AS, "accept", &[])
    }
}

/// A running exchange.
pub struct Lab {
    /// The RPKI cache.
    pub cache: Stayrtr,
    /// rovgate.
    pub rovgate: Rovgate,
    /// The OpenBGPD peer.
    pub bgpd: Bgpd,
    /// The BIRD members, in the order given.
    pub birds: Vec<Bird>,
    /// Every peer name in rovgate's config: the members', then OpenBGPD's.
    names: Vec<String>,
    net: u8,
}

impl Lab {
    /// Starts the standard exchange on 127.0.NET.0/24 with these peer names; returns once
    /// both sessions are up and rovgate holds and has validated every route (the member's
    /// with one valid and one invalid, the edge's one not-found).
    pub async fn start(net: u8, member: &str, edge: &str) -> Lab {
        Lab::start_with(net, member, edge, "").await
    }

    /// [`Lab::start`] with more config before the peers, e.g. a `[rov]` table.
    pub async fn start_with(net: u8, member_name: &str, edge_name: &str, more: &str) -> Lab {
        let (valid, invalid) = (format!("10.{net}.1.0/24"), format!("10.{net}.2.0/24"));
        let birds = [member(
            member_name,
            1,
            MEMBER_AS,
            "shadow",
            &[&valid, &invalid],
        )];
        let not_found = format!("10.{net}.3.0/24");
        let edge = member(edge_name, 2, EDGE_AS, "drop", &[&not_found]);
        let timing = RtrTiming::default();
        let lab = Lab::exchange(net, &birds, &edge, more, &vrps(net, false), timing).await;
        let counts = |p: &Value| (p["valid"].clone(), p["invalid"].clone());
        wait_for("every route validated", 60, || {
            counts(&lab.peer(member_name)) == (json!(1), json!(1))
                && lab.peer(edge_name)["not_found"] == 1
        })
        .await;
        lab
    }

    /// Starts stayrtr serving `vrps` with `timing`, rovgate with `more` config (e.g. a
    /// `[rov]` table) and a peer for each of `members` (BIRD) and for `bgpd` (OpenBGPD),
    /// waits until rovgate has the VRPs, then starts OpenBGPD and the members; returns once
    /// every session is up and rovgate stores every peer's routes.
    pub async fn exchange(
        net: u8,
        members: &[Peer],
        bgpd: &Peer,
        more: &str,
        vrps: &[Vrp],
        timing: RtrTiming,
    ) -> Lab {
        let cache = Stayrtr::start_json(&vrp_json(vrps), timing);
        let lab = Lab::around(cache, net, members, bgpd, "", more, Some(vrps.len())).await;
        lab.wait_for_routes(members.iter().chain([bgpd])).await;
        lab
    }

    /// [`Lab::exchange`] with the cache down (its port reserved; `lab.cache.restart()`
    /// brings it up) and `[rpki]` keys `rpki` (e.g. `startup_wait`); returns once every
    /// session is up.
    pub async fn exchange_cache_down(
        net: u8,
        members: &[Peer],
        bgpd: &Peer,
        rpki: &str,
        vrps: &[Vrp],
    ) -> Lab {
        let mut cache = Stayrtr::start_json(&vrp_json(vrps), RtrTiming::default());
        cache.stop();
        Lab::around(cache, net, members, bgpd, rpki, "", None).await
    }

    /// Starts rovgate with `cache` and these peers, waits until it holds `vrps` VRPs (if
    /// given) and re-evaluated, then starts the peers; returns once every session is up.
    async fn around(
        cache: Stayrtr,
        net: u8,
        members: &[Peer],
        bgpd: &Peer,
        rpki: &str,
        more: &str,
        vrps: Option<usize>,
    ) -> Lab {
        let peers: Vec<&Peer> = members.iter().chain([bgpd]).collect();
        let ports: Vec<u16> = peers.iter().map(|_| super::free_port()).collect();
        let mut config = format!(
            "[rpki]\n{rpki}\n[[rpki.cache]]\naddress = \"{}\"\n\n{more}\n",
            cache.address()
        );
        for (p, port) in peers.iter().zip(&ports) {
            let rov = p
                .rov
                .map(|r| format!("rov = \"{r}\"\n"))
                .unwrap_or_default();
            config += &format!(
                "[[peer]]\nname = {:?}\naddress = \"127.0.{net}.{}\"\nasn = {}\n\
                 role = \"rs-client\"\n{rov}port = {port}\npassive = true\n\n",
                p.name, p.host, p.asn
            );
        }
        let rovgate = Rovgate::start(&format!("lab{net}"), &config);
        // Routes must meet the VRPs on arrival: a route first exported as not-found and
        // then withdrawn would hide what each test checks.
        wait_for("rovgate has the VRPs and re-evaluated", 60, || {
            rovgate.status().is_some_and(|s| {
                let re = &s["reevaluation"];
                vrps.is_none_or(|n| s["vrps"]["count"] == json!(n))
                    && re["serial"] == s["vrps"]["serial"]
                    && re["pending"] == json!(0)
            })
        })
        .await;
        let bgp_port = rovgate.bgp_port;
        let bgpd_port = ports[members.len()];
        let lab = Lab {
            bgpd: openbgpd(net, bgpd, bgpd_port, bgp_port),
            birds: (members.iter().zip(&ports))
                .map(|(m, &port)| bird(net, m, port, bgp_port))
                .collect(),
            names: peers.iter().map(|p| p.name.clone()).collect(),
            cache,
            rovgate,
            net,
        };
        wait_for("every session up", 60, || {
            let peers = lab.status()["peers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            peers.len() == lab.names.len() && peers.iter().all(|p| p["up"] == true)
        })
        .await;
        lab
    }

    /// Waits until rovgate stores every route of `peers`.
    pub async fn wait_for_routes(&self, peers: impl IntoIterator<Item = &Peer>) {
        for p in peers {
            let what = format!("rovgate stores the routes of {}", p.name);
            wait_for(&what, 60, || {
                self.peer(&p.name)["routes"] == json!(p.routes.len())
            })
            .await;
        }
    }

    /// The `peers` entry of rovgate's status for `name` (`null` if absent).
    pub fn peer(&self, name: &str) -> Value {
        self.rovgate.peer_status(name).unwrap_or_default()
    }

    /// rovgate's whole status (`null` if it does not answer).
    pub fn status(&self) -> Value {
        self.rovgate.status().unwrap_or_default()
    }

    /// rovgate's base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.rovgate.url()
    }

    /// The prefixes in OpenBGPD's RIB.
    pub fn received(&self) -> BTreeSet<IpNet> {
        self.bgpd
            .bgpctl("show rib")
            .split_whitespace()
            .filter_map(|token| token.parse().ok())
            .collect()
    }

    /// Whether OpenBGPD has a route for `prefix`.
    pub fn has(&self, prefix: &str) -> bool {
        self.received().contains(&prefix.parse().unwrap())
    }

    /// OpenBGPD's `show rib detail` for `prefix`.
    pub fn detail(&self, prefix: &str) -> String {
        self.bgpd.bgpctl(&format!("show rib detail {prefix}"))
    }

    /// Every session came up exactly once and never went down; no BIRD member got a
    /// ROUTE-REFRESH (its packet trace works: it logged the OPEN it got).
    pub fn assert_no_session_reset(&self) {
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

    /// The standard lab's valid route.
    pub fn valid(&self) -> String {
        format!("10.{}.1.0/24", self.net)
    }

    /// The standard lab's invalid route (valid after [`Lab::fix_vrps`]).
    pub fn invalid(&self) -> String {
        format!("10.{}.2.0/24", self.net)
    }

    /// The standard lab's not-found route (the edge's).
    pub fn not_found(&self) -> String {
        format!("10.{}.3.0/24", self.net)
    }

    /// Rewrites the standard lab's cache so the invalid route's ROA names the member's AS;
    /// returns once stayrtr serves it.
    pub fn fix_vrps(&mut self) {
        self.cache.rewrite(&vrps(self.net, true));
    }

    /// Rewrites the standard lab's cache so the edge's not-found route turns invalid too
    /// (a ROA for [`OTHER_AS`]); returns once stayrtr serves it.
    pub fn invalidate_edge(&mut self) {
        let mut vrps = vrps(self.net, false);
        vrps.push(vrp(&self.not_found(), 24, OTHER_AS));
        self.cache.rewrite(&vrps);
    }
}

/// The standard lab's VRPs: the valid route's ROA, and for the invalid route a ROA of
/// [`OTHER_AS`] (or, `fixed`, of [`MEMBER_AS`]).
fn vrps(net: u8, fixed: bool) -> Vec<Vrp> {
    let second = if fixed { MEMBER_AS } else { OTHER_AS };
    vec![
        vrp(&format!("10.{net}.1.0/24"), 24, MEMBER_AS),
        vrp(&format!("10.{net}.2.0/24"), 24, second),
    ]
}

/// A BIRD member at 127.0.NET.HOST announcing its routes to rovgate, tracing BGP packets
/// in its log (so a ROUTE-REFRESH it gets would show).
fn bird(net: u8, m: &Peer, port: u16, rovgate_port: u16) -> Bird {
    let ip = format!("127.0.{net}.{}", m.host);
    let statics: String = (m.routes.iter())
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
    Bird::start(&format!("lab{net}-{}", m.host), &config)
}

/// OpenBGPD at 127.0.NET.HOST, announcing its routes to rovgate and receiving from it.
fn openbgpd(net: u8, p: &Peer, port: u16, rovgate_port: u16) -> Bgpd {
    let ip = format!("127.0.{net}.{}", p.host);
    let networks: String = (p.routes.iter())
        .map(|r| format!("network {r}\n"))
        .collect();
    let config = format!(
        "AS {asn}\nrouter-id {ip}\nlisten on {ip} port {port}\nsocket \"SOCKET\"\n{networks}\
         neighbor 127.0.0.1 {{\n  remote-as 64500\n  local-address {ip}\n  port {rovgate_port}\n\
           enforce neighbor-as no\n}}\nallow from any\nallow to any\n",
        asn = p.asn,
    );
    Bgpd::start(&format!("lab{net}"), &config)
}
