//! BMP export to a real collector: pmacct's `pmbmpd` listens on loopback and logs every
//! message it gets as JSON lines; rovgate (`[[bmp.station]]`) connects to it and streams
//! the standard lab's members (`support::lab`): the BIRD member in `shadow` with a valid
//! and an invalid route, the OpenBGPD member in `drop` with a not-found one; and a BIRD
//! member whose Peer Up must show its session's own OPEN.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support;
use crate::support::bird::{preamble, Bird};
use crate::support::daemon::Rovgate;
use crate::support::lab::{Lab, TOOLS};

/// The lab's loopback /24 (127.0.NET.0).
const NET: u8 = 157;

/// A running `pmbmpd` logging what it receives to `bmp.json`.
struct Pmbmpd {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Pmbmpd {
    fn start() -> Pmbmpd {
        let dir = support::scratch_dir("pmbmpd");
        let port = support::free_port();
        let config = format!(
            "bmp_daemon_ip: 127.0.0.1\nbmp_daemon_port: {port}\n\
             bmp_daemon_msglog_file: {}\nbmp_daemon_msglog_output: json\n",
            dir.join("bmp.json").display()
        );
        fs::write(dir.join("pmbmpd.conf"), config).unwrap();
        let log = fs::File::create(dir.join("pmbmpd.log")).unwrap();
        let child = Command::new("pmbmpd")
            .arg("-f")
            .arg(dir.join("pmbmpd.conf"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start pmbmpd");
        Pmbmpd { child, dir, port }
    }

    /// Every message logged so far.
    fn messages(&self) -> Vec<Value> {
        let text = fs::read_to_string(self.dir.join("bmp.json")).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The messages of type `kind` (`peer_up`, `route_monitor`, ...) about `peer_ip`.
    fn of(&self, kind: &str, peer_ip: &str) -> Vec<Value> {
        let about = |m: &Value| m["bmp_msg_type"] == kind && m["peer_ip"] == peer_ip;
        self.messages().into_iter().filter(about).collect()
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("bmp.json")).unwrap_or_default()
    }
}

impl Drop for Pmbmpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Expected: pmbmpd logs a Peer Up for each member, the member's routes pre-policy as
/// received, the post-policy view with the Euro-IX verdict community (`64500:1000:4` on
/// the invalid route a `shadow` member keeps, `:1` on the valid one, `:2` on the
/// not-found one), Statistics, and a Peer Down once the member stops.
#[tokio::test]
async fn pmbmpd_gets_peers_routes_verdicts_and_peer_down() {
    if !support::tools_present(&["pmbmpd"]) || !support::tools_present(&TOOLS) {
        return;
    }
    let pmbmpd = Pmbmpd::start();
    // Statistics every second: the test sees one with the member's routes in a second.
    let station = format!(
        "[[bmp.station]]\naddress = \"127.0.0.1:{}\"\nstatistics_seconds = 1\n",
        pmbmpd.port
    );
    let mut lab = Lab::start_with(NET, "member", "edge", &station).await;
    let (member, edge) = (format!("127.0.{NET}.1"), format!("127.0.{NET}.2"));
    // (prefix, large communities) of each route pmbmpd logged for `peer_ip` in a view.
    let view = |peer_ip: &str, flag: &str| {
        let routes = pmbmpd.of("route_monitor", peer_ip).into_iter();
        let routes = routes.filter(|m| m[flag] == 1 || (flag == "pre" && m["is_post"] == 0));
        let text = |v: &Value| v.as_str().map(String::from);
        let route = |m: Value| (text(&m["ip_prefix"]), text(&m["lcomms"]));
        routes.map(route).collect::<Vec<_>>()
    };
    let (valid, invalid, not_found) = (lab.valid(), lab.invalid(), lab.not_found());
    let with = |prefix: &str, lcomms: Option<String>| (Some(prefix.to_string()), lcomms);
    let tag = |y: u32| Some(format!("64500:1000:{y}"));
    support::wait_for("pmbmpd has every view of every route", 30, || {
        let loc = view("0.0.0.0", "is_loc");
        view(&member, "is_post").len() == 2 && view(&edge, "is_post").len() == 1 && loc.len() == 3
    })
    .await;
    let log = pmbmpd.log();
    for peer in [&member, &edge] {
        assert_eq!(pmbmpd.of("peer_up", peer).len(), 1, "{peer}: {log}");
    }
    let mut pre = view(&member, "pre");
    pre.sort();
    let untagged = [with(&valid, None), with(&invalid, None)];
    assert_eq!(pre, untagged, "pre-policy, as received: {log}");
    let mut post = view(&member, "is_post");
    post.sort();
    assert_eq!(
        post,
        [with(&valid, tag(1)), with(&invalid, tag(4))],
        "{log}"
    );
    assert_eq!(view(&edge, "is_post"), [with(&not_found, tag(2))], "{log}");
    support::wait_for("a Statistics Report with both routes", 30, || {
        let stats = pmbmpd.of("stats", &member);
        stats
            .iter()
            .any(|m| m["counter_type"] == 7 && m["counter_value"] == 2)
    })
    .await;
    lab.birds.remove(0).stop();
    support::wait_for("pmbmpd has the member's Peer Down", 30, || {
        !pmbmpd.of("peer_down", &member).is_empty()
    })
    .await;
    assert!(pmbmpd.of("peer_down", &edge).is_empty(), "{}", pmbmpd.log());
}

/// Expected: the Peer Up pmbmpd logs for a member carries what only its session knows:
/// the BGP Identifier of the member's OPEN (BIRD's `router id`, not its address) and
/// rovgate's end of the connection (127.0.0.1, the port it listens on).
#[tokio::test]
async fn pmbmpd_gets_the_peer_up_of_the_session_itself() {
    if !support::tools_present(&["pmbmpd", "bird"]) {
        return;
    }
    let pmbmpd = Pmbmpd::start();
    let (ip, port) = ("127.0.158.1", support::free_port());
    let config = format!(
        "[[peer]]\nname = \"m\"\naddress = \"{ip}\"\nasn = 64496\nrole = \"rs-client\"\n\
         port = {port}\npassive = true\n\n[[bmp.station]]\naddress = \"127.0.0.1:{}\"\n",
        pmbmpd.port
    );
    let rovgate = Rovgate::start("bmp-open", &config);
    let bird = Bird::start(
        "bmp-open",
        &format!(
            "{pre}protocol bgp rsrv {{ local {ip} port {port} as 64496; \
             neighbor 127.0.0.1 port {rs} as 64500; multihop; hold time 33; \
             ipv4 {{ import all; export none; }}; }}\n",
            pre = preamble("198.51.100.77"),
            rs = rovgate.bgp_port,
        ),
    );
    support::wait_for("the session up", 60, || bird.established("rsrv")).await;
    support::wait_for("pmbmpd has the Peer Up", 30, || {
        !pmbmpd.of("peer_up", ip).is_empty()
    })
    .await;
    let up = &pmbmpd.of("peer_up", ip)[0];
    assert_eq!(up["bgp_id"], "198.51.100.77", "{up}");
    assert_eq!(up["local_ip"], "127.0.0.1", "{up}");
    assert_eq!(up["local_port"], rovgate.bgp_port, "{up}");
}
