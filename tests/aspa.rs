//! ASPA verification end to end: rovgate reads ASPAs from an rpki-client JSON file; an
//! ExaBGP member announces a leaked path and an attested one; a BIRD member receives.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::support::bird::{preamble, Bird};
use crate::support::daemon::Rovgate;
use crate::support::exabgp::Exabgp;
use crate::support::{self, prom, wait_for};

/// The member's leaked route: AS 65001's ASPA lists only AS 65002, not the member.
const LEAK: &str = "193.0.10.0/24";
/// The member's attested route: AS 65003's ASPA lists the member.
const ATTESTED: &str = "193.0.11.0/24";
const WHY: &str = "AS65001 has an ASPA that does not list AS64496 as a provider";

/// An rpki-client JSON file with no ROAs and these ASPAs, replaced atomically.
fn write_aspas(path: &Path, aspas: &[(u32, &[u32])]) {
    let aspas: Vec<Value> = (aspas.iter())
        .map(|(c, p)| serde_json::json!({"customer_asid": c, "expires": 1, "providers": p}))
        .collect();
    let file = serde_json::json!({"metadata": {}, "roas": [], "aspas": aspas});
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, file.to_string()).expect("write the VRP file");
    fs::rename(&tmp, path).expect("replace the VRP file");
}

fn peer(name: &str, n: u8, asn: u32, extra: &str) -> String {
    format!(
        "[[peer]]\nname = \"{name}\"\naddress = \"127.0.0.{n}\"\nasn = {asn}\n\
         role = \"rs-client\"\nport = {}\npassive = true\n{extra}\n",
        support::free_port()
    )
}

/// The BIRD member's routes from rovgate.
fn received(bird: &Bird) -> Vec<String> {
    let out = bird.birdc("show route protocol rsrv");
    let mut got: Vec<String> = (out.lines())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.contains('/'))
        .map(str::to_string)
        .collect();
    got.sort();
    got
}

/// The member's listed routes in the report: (prefix, codes, aspa, dropped).
fn listed(rovgate: &Rovgate) -> Vec<(String, Vec<u64>, String, bool)> {
    let report = rovgate.get("/api/v1/report?peer=member");
    let report = report.expect("the report");
    let routes = report["peers"][0]["invalid_routes"].as_array().cloned();
    (routes.unwrap_or_default().iter())
        .map(|r| {
            let codes = r["reasons"].as_array().expect("reasons");
            (
                r["prefix"].as_str().unwrap_or_default().to_string(),
                codes.iter().filter_map(|c| c["code"].as_u64()).collect(),
                r["aspa"].as_str().unwrap_or_default().to_string(),
                r["dropped"] == true,
            )
        })
        .collect()
}

/// Expected: with the member's `aspa = "shadow"`, BIRD gets both routes, and the report
/// lists the leak under 1101:16 with its hop, as a would-drop; the looking glass names the
/// hop and `rovgate_peer_paths_failed{check="aspa_invalid"}` is 1. After a reload to
/// `aspa = "drop"` BIRD loses the leak and keeps the attested route; when AS 65001's ASPA
/// adds the member, the leak comes back without any session reset.
#[tokio::test]
async fn shadow_counts_and_drop_filters_a_leaked_path_until_the_aspa_changes() {
    if !support::tools_present(&["exabgp", "bird"]) {
        return;
    }
    let dir = support::scratch_dir("aspa-vrps");
    let vrps = dir.join("vrps.json");
    write_aspas(&vrps, &[(65001, &[65002]), (65003, &[64496])]);
    let rpki = format!("[rpki]\nvrp_files = [{:?}]\nreload_seconds = 1\n\n", vrps);
    let members = peer("member", 91, 64496, "aspa = \"shadow\"") + &peer("bird", 92, 64497, "");
    let rovgate = Rovgate::start("aspa", &(rpki + &members));
    let routes = [(LEAK, "64496 65001"), (ATTESTED, "64496 65003")]
        .map(|(p, path)| format!("    route {p} next-hop 127.0.0.91 as-path [ {path} ];\n"));
    let body = format!(
        "  router-id 127.0.0.91;\n  local-address 127.0.0.91;\n  local-as 64496;\n  \
         peer-as 64500;\n  connect {};\n  hold-time 30;\n  static {{\n{}  }}\n",
        rovgate.bgp_port,
        routes.concat()
    );
    let _member = Exabgp::start("aspa-member", &body);
    let config = format!(
        "{}protocol bgp rsrv {{ local 127.0.0.92 port {} as 64497; neighbor 127.0.0.1 port {} \
         as 64500; strict bind; multihop; ipv4 {{ import all; export none; }}; }}\n",
        preamble("127.0.0.92"),
        support::free_port(),
        rovgate.bgp_port
    );
    let bird = Bird::start("aspa-receiver", &config);
    let both = vec![LEAK.to_string(), ATTESTED.to_string()];
    wait_for("BIRD has both routes (shadow)", 90, || {
        received(&bird) == both
    })
    .await;
    let shadowed = vec![(LEAK.to_string(), vec![16], WHY.to_string(), false)];
    wait_for("the report lists the leak", 30, || {
        listed(&rovgate) == shadowed
    })
    .await;
    let report = rovgate.get("/api/v1/report?peer=member").expect("report");
    let reason = &report["peers"][0]["reasons"][0];
    assert_eq!(
        (&reason["name"], &reason["would_drop"]),
        (&Value::from("aspa_invalid"), &Value::from(1)),
        "{report}"
    );
    let glass = rovgate.get(&format!("/api/v1/routes?prefix={LEAK}"));
    let glass = glass.expect("the looking glass");
    assert_eq!(glass["paths"][0]["aspa"], Value::from(WHY), "{glass}");
    let text = rovgate.metrics();
    let metrics = prom::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let labels = [
        ("peer", "member"),
        ("check", "aspa_invalid"),
        ("code", "1101:16"),
    ];
    let gauge = metrics.get("rovgate_peer_paths_failed", &labels);
    assert_eq!(gauge, Some(1.0), "{text}");

    rovgate.reload(|text| text.replace("aspa = \"shadow\"", "aspa = \"drop\""));
    let attested = vec![ATTESTED.to_string()];
    wait_for("BIRD lost the leak (drop)", 30, || {
        received(&bird) == attested
    })
    .await;

    write_aspas(&vrps, &[(65001, &[65002, 64496]), (65003, &[64496])]);
    wait_for("the leak is back (ASPA changed)", 30, || {
        received(&bird) == both
    })
    .await;
    assert!(listed(&rovgate).is_empty(), "nothing listed any more");
}
