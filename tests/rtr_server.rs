//! rovgate's RTR server (`[[rtr_server]]`) with real RTR clients: BIRD (`protocol rpki`),
//! OpenBGPD (`rtr`), GoBGP (`rpki-servers`), FRR (`bgpd -M rpki`, RTRlib), stayrtr's `rtrdump` asking for version 0, and a
//! second rovgate (version 2). The VRPs are real: 2,000 of the 2023 rpki-client set, served
//! from a VRP file, then 1,000 of them changed. A client outside `allow` and a client that
//! sends corrupt PDUs are hand-written (no real router does either on purpose).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use ipnet::IpNet;
use rovgate::rpki::Vrp;
use serde_json::Value;

use crate::support;
use crate::support::bgpd::Bgpd;
use crate::support::bird::Bird;
use crate::support::daemon::Rovgate;
use crate::support::frr::Frr;
use crate::support::gobgpd::Gobgpd;
use crate::support::raw_peer;
use crate::support::{vrp_json, wait_for};

const REAL_VRPS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/vrps/rpki-client-2023-05-04-ripe-prepdev.json.gz"
);

/// How long (seconds) a client may take to hold the served set.
const SYNC: u64 = 60;

/// 2,000 real VRPs (every 200th of the 2023 set), and the same set with 1,000 changed:
/// the first 500 withdrawn, 500 others announced.
fn real_vrps() -> (Vec<Vrp>, Vec<Vrp>) {
    let mut all = rovgate::rpki::file::load(Path::new(REAL_VRPS)).expect("the real VRP set");
    all.sort_unstable();
    all.dedup();
    let before: Vec<Vrp> = all.iter().step_by(200).take(2000).copied().collect();
    let added = all[100..].iter().step_by(200).take(500).copied();
    let after = before[500..].iter().copied().chain(added).collect();
    (before, after)
}

/// A VRP file rovgate reads, rewritten atomically.
struct VrpFile(PathBuf);

impl VrpFile {
    fn new(vrps: &[Vrp]) -> VrpFile {
        let file = VrpFile(support::scratch_dir("rtr-server-vrps").join("vrps.json"));
        file.write(vrps);
        file
    }

    fn write(&self, vrps: &[Vrp]) {
        let tmp = self.0.with_extension("tmp");
        std::fs::write(&tmp, vrp_json(vrps)).unwrap();
        std::fs::rename(&tmp, &self.0).unwrap();
    }
}

/// rovgate serving `file` on `port`, `more` keys in its `[[rtr_server]]`.
fn rovgate(name: &str, file: &VrpFile, port: u16, more: &str) -> Rovgate {
    let config = format!(
        "[rpki]\nvrp_files = [{:?}]\nreload_seconds = 1\n\n[[rtr_server]]\n\
         listen = \"127.0.0.1:{port}\"\nrefresh = 5\nretry = 5\n{more}\n",
        file.0.display().to_string()
    );
    Rovgate::start(name, &config)
}

/// `prefix-maxlen ASn`, as BIRD lists ROA tables.
fn roa_line(v: &Vrp) -> String {
    format!("{}-{} AS{}", v.prefix, v.max_length, v.asn.0)
}

fn roa_lines(vrps: &[Vrp], v4: bool) -> BTreeSet<String> {
    let of_family = |v: &&Vrp| matches!(v.prefix, IpNet::V4(_)) == v4;
    vrps.iter().filter(of_family).map(roa_line).collect()
}

/// BIRD's ROA table `table`, as `prefix-maxlen ASn` lines.
fn bird_roas(bird: &Bird, table: &str) -> BTreeSet<String> {
    let out = bird.birdc(&format!("show route table {table}"));
    out.lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let (net, asn) = (words.next()?, words.next()?);
            (net.contains('-') && asn.starts_with("AS")).then(|| format!("{net} {asn}"))
        })
        .collect()
}

/// GoBGP's RPKI table, as `prefix-maxlen ASn` lines.
fn gobgp_roas(gobgp: &Gobgpd) -> BTreeSet<String> {
    let mut out = gobgp.gobgp(&["rpki", "table", "-a", "ipv4"]);
    out += &gobgp.gobgp(&["rpki", "table", "-a", "ipv6"]);
    out.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let prefix: IpNet = w.first()?.parse().ok()?;
            let (max, asn) = (w.get(1)?, w.get(2)?.trim_start_matches("AS"));
            Some(format!("{prefix}-{max} AS{asn}"))
        })
        .collect()
}

/// OpenBGPD's `bgpctl show sets` line for its RPKI ROA set.
fn bgpd_roa_set(bgpd: &Bgpd) -> String {
    let out = bgpd.bgpctl("show sets");
    let line = out.lines().find(|l| l.contains("RPKI ROA"));
    line.unwrap_or_default().to_string()
}

/// The `#IPv4 #IPv6` counts that line should show.
fn counts(vrps: &[Vrp]) -> (usize, usize) {
    let v4 = vrps
        .iter()
        .filter(|v| matches!(v.prefix, IpNet::V4(_)))
        .count();
    (v4, vrps.len() - v4)
}

fn shows_counts(line: &str, (v4, v6): (usize, usize)) -> bool {
    let numbers: Vec<usize> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    numbers.starts_with(&[v4, v6])
}

/// `rtrdump` asking for `version`: the VRPs it got, as `prefix-maxlen ASn` lines.
fn rtrdump(port: u16, version: u8) -> BTreeSet<String> {
    let out = support::scratch_dir("rtrdump").join(format!("v{version}.json"));
    let run = Command::new("rtrdump")
        .args(["-connect", &format!("127.0.0.1:{port}")])
        .args(["-rtr.version", &version.to_string()])
        .arg("-file")
        .arg(&out)
        .output()
        .expect("run rtrdump");
    let text = std::fs::read_to_string(&out).unwrap_or_else(|_| {
        panic!(
            "rtrdump v{version}: {}",
            String::from_utf8_lossy(&run.stderr)
        )
    });
    let json: Value = serde_json::from_str(&text).expect("rtrdump's JSON");
    let roas = json["roas"].as_array().cloned().unwrap_or_default();
    roas.iter()
        .map(|r| {
            let asn = r["asn"].to_string().replace(['"', 'A', 'S'], "");
            let max = &r["maxLength"];
            format!("{}-{max} AS{asn}", r["prefix"].as_str().unwrap_or_default())
        })
        .collect()
}

/// The versions of the clients connected to `r`'s RTR server, sorted.
fn client_versions(r: &Rovgate) -> Vec<u64> {
    let status = r.status().unwrap_or_default();
    let clients = status["rtr_server"]["clients"].as_array().cloned();
    let mut v: Vec<u64> = (clients.unwrap_or_default().iter())
        .filter_map(|c| c["version"].as_u64())
        .collect();
    v.sort_unstable();
    v
}

/// Expected: BIRD, OpenBGPD, GoBGP and FRR as RTR clients of rovgate each end with exactly
/// the 2,000 VRPs in force (BIRD's, GoBGP's and FRR's tables line by line, OpenBGPD's
/// counts; FRR's RTRlib speaks version 1), as do
/// an `rtrdump` asking for version 0 and a second rovgate speaking version 2, connected at
/// the same time as the others; rovgate's status lists every client with its version and
/// serial. After 1,000 VRPs of the file change, every client follows to the new set.
#[tokio::test]
async fn real_clients_hold_the_vrp_set_and_follow_a_change() {
    if !support::tools_present(&["bird", "bgpd", "gobgpd", "rtrdump", "vtysh"])
        || !Frr::rpki_module_present()
    {
        return;
    }
    let (before, after) = real_vrps();
    let file = VrpFile::new(&before);
    let port = support::free_port();
    let server = rovgate("rtr-server", &file, port, "");
    wait_for("rovgate holds the file's VRPs", SYNC, || {
        server
            .status()
            .is_some_and(|s| s["vrps"]["count"] == before.len())
    })
    .await;

    let bird_config = format!(
        "{}roa4 table r4;\nroa6 table r6;\nprotocol rpki rtr1 {{ roa4 {{ table r4; }}; \
         roa6 {{ table r6; }}; remote 127.0.0.1 port {port}; retry keep 5; refresh keep 30; \
         expire keep 600; }}\n",
        support::bird::preamble("127.0.0.1")
    );
    let bird = Bird::start("rtr-client", &bird_config);
    let bgpd_config = format!(
        "AS 64512\nrouter-id 127.0.0.1\nlisten on 127.0.0.1 port {}\nsocket \"SOCKET\"\n\
         rtr 127.0.0.1 {{ port {port} }}\n",
        support::free_port()
    );
    let bgpd = Bgpd::start("rtr-client", &bgpd_config);
    let gobgp_config = format!(
        "[global.config]\n  as = 64513\n  router-id = \"127.0.0.1\"\n  port = -1\n\
         [[rpki-servers]]\n  [rpki-servers.config]\n    address = \"127.0.0.1\"\n    port = {port}\n"
    );
    let gobgp = Gobgpd::start(None, &gobgp_config);
    let frr = Frr::rtr_client(&format!(
        "log stdout informational\nrpki\n rpki polling_period 5\n rpki retry_interval 5\n \
         rpki cache 127.0.0.1 {port} preference 1\nexit\n"
    ));
    let client_config = format!("[rpki]\n[[rpki.cache]]\naddress = \"127.0.0.1:{port}\"\n");
    let v2_client = Rovgate::start("rtr-v2-client", &client_config);

    let follow = |vrps: Vec<Vrp>, what: &'static str| {
        let (v4, v6) = (roa_lines(&vrps, true), roa_lines(&vrps, false));
        let (bird, bgpd, gobgp, frr, v2_client) = (&bird, &bgpd, &gobgp, &frr, &v2_client);
        async move {
            wait_for(&format!("BIRD holds {what}"), SYNC, || {
                bird_roas(bird, "r4") == v4 && bird_roas(bird, "r6") == v6
            })
            .await;
            wait_for(&format!("GoBGP holds {what}"), SYNC, || {
                gobgp_roas(gobgp) == &v4 | &v6
            })
            .await;
            wait_for(&format!("FRR holds {what}"), SYNC, || {
                frr.rpki_prefixes() == &v4 | &v6
            })
            .await;
            wait_for(&format!("OpenBGPD holds {what}"), SYNC, || {
                shows_counts(&bgpd_roa_set(bgpd), counts(&vrps))
            })
            .await;
            wait_for(&format!("the v2 rovgate holds {what}"), SYNC, || {
                v2_client
                    .status()
                    .is_some_and(|s| s["vrps"]["count"] == vrps.len())
            })
            .await;
        }
    };
    follow(before.clone(), "the 2,000 VRPs").await;
    let both = &roa_lines(&before, true) | &roa_lines(&before, false);
    assert_eq!(
        rtrdump(port, 0),
        both,
        "a version 0 client gets the same set"
    );
    let versions = client_versions(&server);
    assert!(
        versions.contains(&2) && versions.contains(&1),
        "the second rovgate speaks v2, FRR v1: {versions:?}"
    );
    let status = server.status().unwrap();
    let serial = &status["rtr_server"]["serial"];
    let clients = status["rtr_server"]["clients"].as_array().unwrap().clone();
    assert!(clients.len() >= 5, "{status}");
    for c in &clients {
        assert_eq!(&c["serial"], serial, "every client is current: {status}");
    }

    file.write(&after);
    follow(after.clone(), "the changed set").await;
    let status = server.status().unwrap();
    let clients = status["rtr_server"]["clients"].as_array().unwrap().clone();
    let updated = clients
        .iter()
        .filter(|c| c["serial_updates"].as_u64() > Some(0));
    assert!(
        updated.count() >= 4,
        "clients took a serial update: {status}"
    );
    let metrics = server.metrics();
    assert!(
        metrics.contains("rovgate_rtr_server_clients{version=\"2\"} 1"),
        "{metrics}"
    );
}

/// Expected: with `allow = ["127.0.0.1/32"]`, a TCP connection from 127.0.0.3 is closed
/// without a byte and counted as refused (status and metrics), while `rtrdump` from
/// 127.0.0.1 gets the set.
#[tokio::test]
async fn a_client_outside_allow_is_refused() {
    if !support::tools_present(&["rtrdump"]) {
        return;
    }
    let (vrps, _file, port, server) = serve_one("rtr-allow", "allow = [\"127.0.0.1/32\"]").await;
    let mut outsider = connect_from("127.0.0.3", port);
    let mut got = Vec::new();
    let _ = outsider.write_all(&RESET_QUERY_V1);
    let read = outsider.read_to_end(&mut got);
    assert!(read.is_err() || got.is_empty(), "refused: closed, {got:?}");
    assert_eq!(rtrdump(port, 1), roa_lines(&vrps, true));
    let status = server.status().unwrap();
    assert_eq!(status["rtr_server"]["refused"], 1, "{status}");
    assert!(
        server.log().contains("RTR client refused"),
        "{}",
        server.log()
    );
}

/// A Reset Query, version 1 (RFC 8210 §5.4).
const RESET_QUERY_V1: [u8; 8] = [1, 2, 0, 0, 0, 0, 0, 8];

/// A TCP connection to rovgate's RTR port on 127.0.0.1 from `local` (a loopback address).
fn connect_from(local: &str, port: u16) -> TcpStream {
    let to: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    raw_peer::connect_from(local, to, None)
}

/// rovgate serving one VRP on a port of its own with `more` in its `[[rtr_server]]`, once
/// it holds the VRP: the VRP, the file, the port and rovgate.
async fn serve_one(name: &str, more: &str) -> ([Vrp; 1], VrpFile, u16, Rovgate) {
    let vrps = [support::vrp("192.0.2.0/24", 24, 64496)];
    let file = VrpFile::new(&vrps);
    let port = support::free_port();
    let server = rovgate(name, &file, port, more);
    wait_for("rovgate holds the VRP", SYNC, || {
        server.status().is_some_and(|s| s["vrps"]["count"] == 1)
    })
    .await;
    (vrps, file, port, server)
}

/// Expected: a fake router sending corrupt PDUs — a Reset Query with a wrong length, an
/// IPv4 Prefix PDU (only caches send those), a version rovgate does not speak — gets an
/// Error Report each (PDU type 10: Invalid Request twice, then Unsupported Protocol
/// Version), and rovgate carries on serving (a proper client still gets the set).
#[tokio::test]
async fn corrupt_pdus_from_a_fake_router_get_error_reports() {
    if !support::tools_present(&["rtrdump"]) {
        return;
    }
    let (vrps, _file, port, server) = serve_one("rtr-corrupt", "").await;
    let cases: [(&[u8], u16); 3] = [
        (&[1, 2, 0, 0, 0, 0, 0, 12, 0, 0, 0, 0], 3),
        (
            &[
                1, 4, 0, 0, 0, 0, 0, 20, 1, 24, 24, 0, 192, 0, 2, 0, 0, 0, 0, 1,
            ],
            3,
        ),
        (&[9, 2, 0, 0, 0, 0, 0, 8], 4),
    ];
    for (pdu, code) in cases {
        let mut fake_router = connect_from("127.0.0.1", port);
        fake_router.write_all(pdu).unwrap();
        let mut header = [0u8; 8];
        fake_router
            .read_exact(&mut header)
            .expect("an Error Report");
        assert_eq!(
            header[1], 10,
            "PDU type Error Report for {pdu:?}: {header:?}"
        );
        let got = u16::from_be_bytes([header[2], header[3]]);
        assert_eq!(got, code, "error code for {pdu:?}");
    }
    assert_eq!(rtrdump(port, 1), roa_lines(&vrps, true));
    assert!(!server.log().contains("panicked"), "{}", server.log());
}
