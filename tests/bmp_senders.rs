//! The BMP station fed by real routers: FRR (`bgpd -M bmp`) and GoBGP (`bmp-servers`),
//! each with an ExaBGP neighbour announcing one real MRT peer's routes. The station's
//! report for that neighbour (`rovgate report --url`) must equal `rovgate report --mrt` for
//! the MRT peer on the same VRPs: the same counts and the same invalid routes with the same
//! reasons and fixes. Only `reachable` is left out of the comparison: the MRT report
//! judges it against every MRT peer's routes, the station against its one neighbour's.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rovgate::feed::{self, Truncated};
use rovgate::route::{Family, Segment};
use rovgate::rpki::{self, Vrp, VrpTable};
use serde_json::Value;

use crate::support;
use crate::support::daemon::Rovgate;
use crate::support::exabgp::Exabgp;
use crate::support::frr::Frr;
use crate::support::gobgpd::Gobgpd;
use crate::support::netns::Netns;
use crate::support::table::{data, SMALL_RIB};

/// The MRT peer replayed: 2,629 IPv4 routes, 558 of them invalid against the 2023 VRPs.
const MRT_PEER: &str = "AS5056 167.142.3.6";
const MRT_ASN: u32 = 5056;
/// The VRPs the routes are validated against (only those covering one are kept).
const VRPS: &str = "vrps/rpki-client-2023-05-04-ripe-prepdev.json.gz";

/// The routes and VRPs of one run, written where rovgate and ExaBGP read them.
struct Fixture {
    /// ExaBGP's `static` block: the MRT peer's routes with their AS paths.
    routes: String,
    /// How many.
    count: usize,
    /// The VRPs covering any of them, as rpki-client JSON.
    vrps: PathBuf,
    /// `rovgate report --mrt` for the MRT peer on those VRPs.
    expected: Value,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let feeds = feed::load_with(&data(SMALL_RIB), Truncated::Read).expect("the RIB loads");
        let peer = (feeds.iter())
            .find(|f| f.asn == MRT_ASN)
            .expect("the MRT peer");
        assert_eq!(peer.routes_of(Family::Ipv6Unicast), 0, "IPv4 only");
        let table: VrpTable = rpki::file::load(&data(VRPS))
            .expect("VRPs")
            .into_iter()
            .collect();
        let mut covering = BTreeSet::new();
        let mut routes = String::from("  static {\n");
        for (attrs, prefixes) in &peer.batches {
            let path = exabgp_path(&attrs.as_path.0);
            for prefix in prefixes {
                let v = table.validate(prefix, attrs.as_path.origin());
                covering.extend(v.matched.into_iter().chain(v.bad_asn).chain(v.bad_length));
                let _ = writeln!(
                    routes,
                    "    route {prefix} next-hop 198.18.0.2 as-path [ {path} ];"
                );
            }
        }
        routes.push_str("  }\n");
        let dir = support::scratch_dir(&format!("bmp-{name}"));
        let vrps = dir.join("vrps.json");
        let covering: Vec<Vrp> = covering.into_iter().collect();
        std::fs::write(&vrps, support::vrp_json(&covering)).unwrap();
        let expected = report(
            None,
            &[
                "--mrt",
                data(SMALL_RIB).to_str().unwrap(),
                "--allow-truncated",
            ],
            &vrps,
            MRT_PEER,
        )
        .expect("the MRT report");
        Fixture {
            routes,
            count: peer.routes(),
            vrps,
            expected,
        }
    }

    /// rovgate's config: a station on 127.0.0.1 taking router 127.0.0.1, and the VRPs.
    fn rovgate(&self, name: &str, ns: &Netns) -> Rovgate {
        let config = format!(
            "[rpki]\nvrp_files = [\"{}\"]\n[bmp]\n[[bmp.listen]]\naddress = \"127.0.0.1:0\"\n\
             [[bmp.router]]\nname = \"{name}\"\naddress = \"127.0.0.1\"\nrole = \"upstream\"\n",
            self.vrps.display()
        );
        Rovgate::start_in(Some(&ns.name), "127.0.0.1", &format!("bmp-{name}"), &config)
    }

    /// ExaBGP at 198.18.0.2 as the MRT peer's AS, announcing its routes to 198.18.0.1.
    fn exabgp(&self, name: &str, ns: &str) -> Exabgp {
        let body = format!(
            "  router-id 198.18.0.2;\n  local-address 198.18.0.2;\n  local-as {MRT_ASN};\n\
               peer-as 64510;\n{}",
            self.routes
        );
        Exabgp::start_in(Some(ns), "198.18.0.1", name, &body)
    }

    /// Waits for the station's report on `peer` to hold every route, then compares it with
    /// the paths' `prepended` part taken off; `router` tells the router's side when the
    /// routes do not all arrive.
    async fn check(
        &self,
        (ns, rovgate): (&Netns, &Rovgate),
        peer: &str,
        prepended: &str,
        router: impl Fn() -> String,
    ) {
        let url = format!("http://127.0.0.1:{}", rovgate.http_port);
        let args = ["--url", url.as_str()];
        let mut got = None;
        let all = support::eventually(90, || {
            got = report(Some(&ns.name), &args, Path::new(""), peer);
            got.as_ref().is_some_and(|g| g["routes"] == self.count)
        })
        .await;
        assert!(all, "{peer}: {got:?}\n{}\n{}", rovgate.log(), router());
        let got = got.unwrap();
        let expected = comparable(&self.expected, "");
        assert_eq!(comparable(&got, prepended), expected, "{peer}");
        assert_eq!(got["invalid"], 558, "{peer}");
    }
}

/// An AS path in ExaBGP's syntax: a set in parentheses.
fn exabgp_path(segments: &[Segment]) -> String {
    let asns = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(" ");
    let parts = segments.iter().map(|s| match s {
        Segment::Sequence(v) => asns(v),
        Segment::Set(v) => format!("( {} )", asns(v)),
        other => panic!("no confederation segments in the MRT peer's paths: {other:?}"),
    });
    parts.collect::<Vec<_>>().join(" ")
}

/// `rovgate report SOURCE --peer PEER --format json` (in `netns`), the peer's entry.
pub(crate) fn report(
    netns: Option<&str>,
    source: &[&str],
    vrps: &Path,
    peer: &str,
) -> Option<Value> {
    let mut command = support::netns::command_in(netns, env!("CARGO_BIN_EXE_rovgate"));
    command.arg("report").args(source);
    if !vrps.as_os_str().is_empty() {
        command.arg("--vrps").arg(vrps);
    }
    let out = command
        .args(["--peer", peer, "--format", "json"])
        .output()
        .expect("run rovgate report");
    let report: Value = serde_json::from_slice(&out.stdout).ok()?;
    report["peers"].as_array()?.first().cloned()
}

/// A peer's report without its name and what depends on the other peers (`reachable`);
/// `prepended` (the router's own AS, as FRR adds it) taken off the front of AS paths.
fn comparable(peer: &Value, prepended: &str) -> (Vec<Value>, BTreeSet<String>) {
    let counts = [
        "routes",
        "valid",
        "invalid",
        "not_found",
        "would_drop",
        "dropped",
    ];
    let counts = counts.iter().map(|k| peer[k].clone()).collect();
    let routes = peer["invalid_routes"].as_array().expect("invalid routes");
    let routes = routes.iter().map(|r| {
        let mut r = r.as_object().expect("a route").clone();
        r.remove("reachable");
        let path = r["as_path"].as_str().unwrap();
        let path = path.strip_prefix(prepended).unwrap_or("(not prepended)");
        r.insert("as_path".into(), path.into());
        Value::Object(r).to_string()
    });
    (counts, routes.collect())
}

/// Expected: FRR monitoring its neighbour (ExaBGP announcing a real MRT peer's routes)
/// pre-policy over BMP gives the station the same report as the MRT file.
#[tokio::test]
async fn frr_monitored_neighbour_reports_as_the_mrt_file() {
    if !support::tools_present(&["exabgp", "vtysh"]) {
        return;
    }
    let fixture = Fixture::new("frr");
    let (dut, lan) = Netns::pair("bmpfrr", "198.18.0.1", &["198.18.0.2"]);
    let rovgate = fixture.rovgate("frr", &dut);
    let config = format!(
        "hostname frr\nlog stdout debugging\nrouter bgp 64510\n bgp router-id 198.18.0.1\n\
          no bgp ebgp-requires-policy\n neighbor 198.18.0.2 remote-as {MRT_ASN}\n\
          address-family ipv4 unicast\n  neighbor 198.18.0.2 activate\n\
           neighbor 198.18.0.2 soft-reconfiguration inbound\n exit-address-family\n\
          bmp targets station\n  bmp monitor ipv4 unicast pre-policy\n\
           bmp connect 127.0.0.1 port {} min-retry 100 max-retry 1000\n exit\nexit\n",
        rovgate.bmp_port
    );
    let frr = Frr::start(&dut.name, "198.18.0.1", &config);
    let _exabgp = fixture.exabgp("bmp-frr", &lan.name);
    let state = || frr.vtysh("show bmp") + &frr.vtysh("show bgp summary") + &frr.log();
    // FRR 8.4 encodes a monitored UPDATE as it would send it to an eBGP peer: with its own
    // AS in front of the path (the origin, all ROV looks at, is the neighbour's).
    fixture
        .check((&dut, &rovgate), "frr/198.18.0.2", "64510 ", state)
        .await;
}

/// Expected: GoBGP monitoring its neighbour (ExaBGP, the same routes) pre-policy over BMP
/// gives the station the same report as the MRT file.
#[tokio::test]
async fn gobgp_monitored_neighbour_reports_as_the_mrt_file() {
    if !support::tools_present(&["exabgp", "gobgpd"]) {
        return;
    }
    let fixture = Fixture::new("gobgp");
    let ns = Netns::new("bmpgobgp", &["198.18.0.1", "198.18.0.2"]);
    let rovgate = fixture.rovgate("gobgp", &ns);
    let config = format!(
        "[global.config]\n  as = 64510\n  router-id = \"198.18.0.1\"\n  port = 179\n\
           local-address-list = [\"198.18.0.1\"]\n\
         [[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"198.18.0.2\"\n    peer-as = {MRT_ASN}\n\
           [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"ipv4-unicast\"\n\
         [[bmp-servers]]\n  [bmp-servers.config]\n    address = \"127.0.0.1\"\n    port = {}\n\
             route-monitoring-policy = \"pre-policy\"\n",
        rovgate.bmp_port
    );
    let gobgp = Gobgpd::start(Some(&ns.name), &config);
    let _exabgp = fixture.exabgp("bmp-gobgp", &ns.name);
    let state = || gobgp.gobgp(&["neighbor"]) + &gobgp.log();
    fixture
        .check((&ns, &rovgate), "gobgp/198.18.0.2", "", state)
        .await;
}
