//! One small exchange for the web page and HTTP API tests: a real stayrtr, rovgate, a BIRD
//! member at `rov = "shadow"` and an OpenBGPD member at `rov = "drop"`, on their own
//! loopback /24 (127.0.NET.0).
//!
//! The VRPs make the BIRD member's `10.NET.1.0/24` valid and its `10.NET.2.0/24` invalid (a
//! ROA for another AS, reason `origin-as`); OpenBGPD's `10.NET.3.0/24` is not-found.
//! [`Lab::fix_vrps`] rewrites the cache so the invalid route turns valid,
//! [`Lab::invalidate_edge`] so the edge's route turns invalid.

use std::time::Duration;

use rovgate::rpki::Vrp;
use serde_json::{json, Value};

use super::bgpd::Bgpd;
use super::bird::{preamble, Bird};
use super::daemon::Rovgate;
use super::{vrp, Stayrtr};

/// The BIRD member's AS.
pub const MEMBER_AS: u32 = 64701;
/// The OpenBGPD member's AS.
pub const EDGE_AS: u32 = 64702;
/// The AS the ROA for the invalid route names instead of the member's.
pub const OTHER_AS: u32 = 65000;

/// Whether every tool the lab starts is installed (see [`super::require_tool`]).
pub fn tools_present() -> bool {
    ["stayrtr", "bird", "bgpd"]
        .iter()
        .all(|tool| super::require_tool(tool))
}

/// The running exchange.
pub struct Lab {
    /// The RPKI cache.
    pub cache: Stayrtr,
    /// rovgate, its peers named [`Lab::member`] and [`Lab::edge`].
    pub rovgate: Rovgate,
    /// The BIRD member at 127.0.NET.1.
    pub bird: Bird,
    /// The OpenBGPD member at 127.0.NET.2.
    pub bgpd: Bgpd,
    /// The BIRD member's peer name (`rov = "shadow"`).
    pub member: String,
    /// The OpenBGPD member's peer name (`rov = "drop"`).
    pub edge: String,
    net: u8,
}

impl Lab {
    /// Starts the exchange on 127.0.NET.0/24 with these peer names; returns once both
    /// sessions are up and rovgate holds and has validated every route (the member's with
    /// one valid and one invalid, the edge's one not-found).
    pub async fn start(net: u8, member: &str, edge: &str) -> Lab {
        Lab::start_with(net, member, edge, "").await
    }

    /// [`Lab::start`] with more config before the peers, e.g. a `[rov]` table.
    pub async fn start_with(net: u8, member: &str, edge: &str, more: &str) -> Lab {
        let cache = Stayrtr::start(&vrps(net, false));
        let (member_port, edge_port) = (super::free_port(), super::free_port());
        let config = format!(
            "[rpki]\n[[rpki.cache]]\naddress = \"{cache}\"\n\n{more}\n\
             [[peer]]\nname = {member:?}\naddress = \"127.0.{net}.1\"\nasn = {MEMBER_AS}\n\
             role = \"rs-client\"\nrov = \"shadow\"\nport = {member_port}\npassive = true\n\n\
             [[peer]]\nname = {edge:?}\naddress = \"127.0.{net}.2\"\nasn = {EDGE_AS}\n\
             role = \"rs-client\"\nrov = \"drop\"\nport = {edge_port}\npassive = true\n",
            cache = cache.address(),
        );
        let rovgate = Rovgate::start(&format!("lab{net}"), &config);
        // Routes meet the VRPs on arrival: no re-evaluation hides in the history.
        let count = vrps(net, false).len();
        wait("rovgate has the VRPs", || {
            rovgate.status().is_some_and(|s| {
                let re = &s["reevaluation"];
                s["vrps"]["count"] == json!(count)
                    && re["serial"] == s["vrps"]["serial"]
                    && re["pending"] == json!(0)
            })
        })
        .await;
        let bird = bird_member(net, member_port, rovgate.bgp_port);
        let bgpd = bgpd_member(net, edge_port, rovgate.bgp_port);
        let lab = Lab {
            cache,
            rovgate,
            bird,
            bgpd,
            member: member.into(),
            edge: edge.into(),
            net,
        };
        let counts = |p: &Value| (p["up"].clone(), p["valid"].clone(), p["invalid"].clone());
        wait("both sessions up and every route validated", || {
            counts(&lab.peer(member)) == (json!(true), json!(1), json!(1))
                && lab.peer(edge)["up"] == true
                && lab.peer(edge)["not_found"] == 1
        })
        .await;
        lab
    }

    /// The member's valid route.
    pub fn valid(&self) -> String {
        format!("10.{}.1.0/24", self.net)
    }

    /// The member's invalid route (valid after [`Lab::fix_vrps`]).
    pub fn invalid(&self) -> String {
        format!("10.{}.2.0/24", self.net)
    }

    /// The edge's not-found route.
    pub fn not_found(&self) -> String {
        format!("10.{}.3.0/24", self.net)
    }

    /// Rewrites the cache so the invalid route's ROA names the member's AS; returns once
    /// stayrtr serves it.
    pub fn fix_vrps(&mut self) {
        self.cache.rewrite(&vrps(self.net, true));
    }

    /// Rewrites the cache so the edge's not-found route turns invalid too (a ROA for
    /// [`OTHER_AS`]); returns once stayrtr serves it.
    pub fn invalidate_edge(&mut self) {
        let mut vrps = vrps(self.net, false);
        vrps.push(vrp(&self.not_found(), 24, OTHER_AS));
        self.cache.rewrite(&vrps);
    }

    /// The `peers` entry of rovgate's status for `name` (`null` if absent).
    pub fn peer(&self, name: &str) -> Value {
        let status = self.rovgate.status().unwrap_or_default();
        let peers = status["peers"].as_array().cloned().unwrap_or_default();
        peers
            .into_iter()
            .find(|p| p["name"] == name)
            .unwrap_or_default()
    }

    /// rovgate's base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.rovgate.url()
    }
}

/// The VRPs: the valid route's ROA, and for the invalid route a ROA of [`OTHER_AS`] (or,
/// `fixed`, of [`MEMBER_AS`]).
fn vrps(net: u8, fixed: bool) -> Vec<Vrp> {
    let second = if fixed { MEMBER_AS } else { OTHER_AS };
    vec![
        vrp(&format!("10.{net}.1.0/24"), 24, MEMBER_AS),
        vrp(&format!("10.{net}.2.0/24"), 24, second),
    ]
}

fn bird_member(net: u8, port: u16, rovgate_port: u16) -> Bird {
    let ip = format!("127.0.{net}.1");
    let config = format!(
        "{pre}protocol static s4 {{ ipv4;\n  route 10.{net}.1.0/24 blackhole;\n  \
         route 10.{net}.2.0/24 blackhole;\n}}\n\
         protocol bgp rsrv {{ local {ip} port {port} as {MEMBER_AS}; \
         neighbor 127.0.0.1 port {rovgate_port} as 64500; multihop; connect delay time 1; \
         ipv4 {{ import all; export all; next hop self; }}; }}\n",
        pre = preamble(&ip),
    );
    Bird::start(&format!("lab{net}"), &config)
}

fn bgpd_member(net: u8, port: u16, rovgate_port: u16) -> Bgpd {
    let ip = format!("127.0.{net}.2");
    let config = format!(
        "AS {EDGE_AS}\nrouter-id {ip}\nlisten on {ip} port {port}\nsocket \"SOCKET\"\n\
         network 10.{net}.3.0/24\n\
         neighbor 127.0.0.1 {{\n  remote-as 64500\n  local-address {ip}\n  port {rovgate_port}\n\
           enforce neighbor-as no\n}}\nallow from any\nallow to any\n"
    );
    Bgpd::start(&format!("lab{net}"), &config)
}

async fn wait(what: &str, done: impl FnMut() -> bool) {
    super::wait_for(what, Duration::from_secs(60), done).await;
}
