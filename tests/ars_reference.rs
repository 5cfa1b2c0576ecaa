//! rovgate against a reference: the BIRD 2 config arouteserver generates for the same
//! members and policy (`tests/data/ars/`), run as the route server with the same crafted
//! routes from real ExaBGP members; what each member receives from BIRD and from rovgate
//! must be the same (issue 13).
//!
//! Both route servers run in a namespace of their own at 198.18.0.1, the members in
//! another at 198.18.0.2-5: BIRD wants its clients on a directly connected network.

use std::collections::BTreeMap;
use std::fs;
use std::time::{Duration, Instant};

use crate::support;
use crate::support::ars::{self, AsSet, Got};
use crate::support::bird::Bird;
use crate::support::daemon::Rovgate;
use crate::support::exabgp::Exabgp;
use crate::support::netns::Netns;
use rovgate::route::FILTERED_FUNCTION;
use serde_json::Value;

/// The route server's address and AS.
const RS_IP: &str = "198.18.0.1";
const RS_ASN: u32 = 64500;

/// The members: name, address, AS (as in `tests/data/ars/clients.yml`).
const MEMBERS: [(&str, &str, u32); 4] = [
    ("a", "198.18.0.2", 64496),
    ("b", "198.18.0.3", 64497),
    ("c", "198.18.0.4", 64498),
    ("d", "198.18.0.5", 64499),
];

/// The VRPs both route servers validate with: `a`'s space, and space whose ROA names
/// another AS.
const VRPS: [(&str, u8, u32); 2] = [("45.65.0.0/16", 32, 64496), ("45.66.0.0/16", 24, 1001)];

/// The AS-SET of member `d`, the one with IRR filters (`tests/data/ars/clients.yml`).
const AS_D: AsSet = AsSet {
    name: "AS-D",
    asn: 64499,
    origins: &[64499],
    prefixes: &["46.0.20.0/24", "46.0.22.0/24"],
};

/// rovgate's `[filters]` as `tests/data/ars/general.yml` sets arouteserver's (no ROA
/// stands in for a route object there).
const FILTERS: &str = "[filters]\nprefix_length_v4 = [8, 24]\nmax_as_path = 64\n\
    transit_free = [174, 209, 701, 1239, 1299, 2914, 3257, 3320, 3356, 3491, 5511, 6453, 6461, \
    6762, 6830, 7018, 12956]\nroa_as_route_object = false\nblackhole_next_hop_v4 = \"192.0.2.66\"\n";

#[path = "ars_reference_rows.rs"]
mod rows;
use rows::Mark::{Differs, Matches};
use rows::{Row, ROWS};

fn member(name: &str) -> (&'static str, &'static str, u32) {
    *MEMBERS.iter().find(|m| m.0 == name).expect("a member")
}

/// The ExaBGP `neighbor` body of member `name`: its session to the route server at `port`
/// and its rows as static routes.
fn neighbor(name: &str, port: u16) -> String {
    let (_, ip, asn) = member(name);
    let routes: String = (ROWS.iter().filter(|r| r.from == name))
        .map(|r| {
            format!(
                "    route {} next-hop {} as-path [ {asn} {} ] {};\n",
                r.prefix,
                member(r.next_hop).1,
                r.path,
                r.attrs
            )
        })
        .collect();
    format!(
        "  router-id {ip};\n  local-address {ip};\n  local-as {asn};\n  peer-as {RS_ASN};\n  connect {port};\n\
         hold-time 30;\n  static {{\n{routes}  }}\n"
    )
}

/// Each member's received routes, by member name.
type Received = BTreeMap<&'static str, BTreeMap<String, Got>>;

/// What a route server did: what each member received, and the filtered-reason codes on
/// the routes it kept but did not send, by prefix.
struct Outcome {
    received: Received,
    reasons: BTreeMap<String, Vec<u32>>,
}

/// Starts the members against the route server's `port` in `lan`, waits for every
/// member's End-of-RIB and then for 3 s without a new message, and returns what each
/// received and, while they are still up, the route server's `reasons`. `log`: the route
/// server's log, for a failure.
async fn exchange(
    lan: &Netns,
    port: u16,
    log: impl Fn() -> String,
    reasons: impl FnOnce() -> BTreeMap<String, Vec<u32>>,
) -> Outcome {
    let members: Vec<(&str, Exabgp)> = (MEMBERS.iter())
        .map(|&(name, ..)| {
            let exabgp = Exabgp::start_in(Some(&lan.name), RS_IP, name, &neighbor(name, port));
            (name, exabgp)
        })
        .collect();
    let all_eor = || members.iter().all(|(_, m)| ars::end_of_rib(&m.received()));
    if !support::eventually(60, all_eor).await {
        panic!(
            "not every member got End-of-RIB; the route server's log:\n{}",
            log()
        );
    }
    let sizes = || {
        members
            .iter()
            .map(|(_, m)| m.received().len())
            .sum::<usize>()
    };
    let (mut last, mut since) = (sizes(), Instant::now());
    while since.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if sizes() != last {
            (last, since) = (sizes(), Instant::now());
        }
    }
    let rs_asn = u64::from(RS_ASN);
    let received = (members.iter())
        .map(|(name, m)| (*name, ars::routes(&m.received(), rs_asn)))
        .collect();
    let reasons = reasons();
    Outcome { received, reasons }
}

/// What arouteserver's BIRD does; its reasons are arouteserver's reject codes.
async fn with_arouteserver(program: &std::path::Path) -> Outcome {
    let roas: String = (VRPS.iter())
        .map(|(p, max, asn)| format!("  route {p} max {max} as {asn};\n"))
        .collect();
    let asns = MEMBERS.map(|m| m.2);
    let config = ars::bird_config(program, &asns, &[AS_D], &roas);
    let (dut, lan) = Netns::pair("ars-bird", RS_IP, &MEMBERS.map(|m| m.1));
    let bird = Bird::start_in(Some(&dut.name), "ars-rs", &config);
    let reasons = || ars::reject_causes(&bird.birdc("show route all"), RS_ASN);
    exchange(&lan, 179, || bird.log(), reasons).await
}

/// What rovgate, configured as arouteserver's BIRD is, does; its reasons are the Euro-IX
/// codes (`rs:1101:N`) its looking glass shows on each row's paths.
async fn with_rovgate() -> Outcome {
    let dir = support::scratch_dir("ars-rovgate-files");
    let vrps = VRPS.map(|(p, max, asn)| support::vrp(p, max, asn));
    let file = dir.join("vrps.json");
    fs::write(&file, support::vrp_json(&vrps)).expect("write the VRP file");
    let irr = AS_D.bgpq4().map(|json| json.to_string());
    let irr_files =
        ["prefixes", "origins"].map(|kind| dir.join(format!("{}.{kind}.json", AS_D.name)));
    for (path, json) in irr_files.iter().zip(&irr) {
        fs::write(path, json).expect("write AS-D's IRR file");
    }
    let peers: String = (MEMBERS.iter())
        .map(|(name, ip, asn)| {
            let irr = if *asn == AS_D.asn { format!("irr = {irr_files:?}\n") } else { String::new() };
            format!(
                "[[peer]]\nname = \"{name}\"\naddress = \"{ip}\"\nasn = {asn}\nrole = \"rs-client\"\n\
                 passive = true\nrov = \"drop\"\nchecks = \"drop\"\nnext_hop = \"strict\"\n{irr}\n"
            )
        })
        .collect();
    let rest = format!("[rpki]\nvrp_files = [{file:?}]\n\n{FILTERS}\n{peers}");
    let (dut, lan) = Netns::pair("ars-rovgate", RS_IP, &MEMBERS.map(|m| m.1));
    let rovgate = Rovgate::start_in(Some(&dut.name), RS_IP, "ars-reference", &rest);
    let reasons = || {
        let of = |row: &Row| {
            (
                row.prefix.into(),
                filtered_reasons(&dut, &rovgate, row.prefix),
            )
        };
        ROWS.iter().map(of).collect()
    };
    exchange(&lan, rovgate.bgp_port, || rovgate.log(), reasons).await
}

/// The `rs:1101:N` codes rovgate's looking glass (`GET /api/v1/routes`, inside the
/// namespace `dut`) shows on the paths of exactly `prefix`.
fn filtered_reasons(dut: &Netns, rovgate: &Rovgate, prefix: &str) -> Vec<u32> {
    let url = format!(
        "http://127.0.0.1:{}/api/v1/routes?prefix={prefix}",
        rovgate.http_port
    );
    let out = dut
        .command("curl")
        .args(["-sf", &url])
        .output()
        .expect("run curl");
    let answer: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("GET {url}: {e}: {out:?}"));
    if answer["prefix"] != prefix {
        return Vec::new();
    }
    let tags = answer["paths"].as_array().into_iter().flatten();
    let tags = tags.flat_map(|p| {
        p["added_large_communities"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    });
    let filtered = format!("{RS_ASN}:{FILTERED_FUNCTION}:");
    (tags.filter_map(|t| t.as_str()?.strip_prefix(&filtered)?.parse().ok())).collect()
}

/// What each member got of `prefix`.
fn got<'a>(received: &'a Received, prefix: &str) -> BTreeMap<&'static str, Option<&'a Got>> {
    (received.iter())
        .map(|(name, routes)| (*name, routes.get(prefix)))
        .collect()
}

/// What `server` did with `row` differently from the table, if anything: the members it
/// sent the row to, and its reason codes (`code`: the row's reason in its numbering).
fn against_table(server: &Outcome, row: &Row, code: Option<u32>) -> Option<String> {
    let got = got(&server.received, row.prefix);
    let sent_to: Vec<&str> = (got.iter())
        .filter(|(_, g)| g.is_some())
        .map(|(n, _)| *n)
        .collect();
    let reasons = server.reasons.get(row.prefix).cloned().unwrap_or_default();
    let want_reasons: Vec<u32> = code.into_iter().collect();
    (sent_to != row.to || reasons != want_reasons).then(|| {
        format!(
            "sent to {sent_to:?} (not {:?}), reasons {reasons:?} (not {want_reasons:?})",
            row.to
        )
    })
}

/// Expected: arouteserver's BIRD sends each row to the members in its `to` column, tags
/// it with the row's arouteserver reject code, and sends no route outside the table;
/// rovgate does the same with every row marked `Matches` (the same AS_PATH, NEXT_HOP,
/// communities and large communities, informational `rs:1000:*` aside; the row's Euro-IX
/// code in its looking glass), and still differs on the rows marked `Differs`.
#[tokio::test]
async fn rovgate_propagates_what_arouteserver_does() {
    if !support::tools_present(&["bird", "exabgp", "ip", "curl"]) {
        return;
    }
    let Some(program) = ars::program() else {
        return;
    };
    let reference = with_arouteserver(&program).await;
    let rovgate = with_rovgate().await;
    let mut wrong = Vec::new();
    for row in ROWS {
        if let Some(why) = against_table(&reference, row, row.reason.0) {
            wrong.push(format!("{}: arouteserver {why}", row.what));
        }
        let same = got(&rovgate.received, row.prefix) == got(&reference.received, row.prefix)
            && against_table(&rovgate, row, row.reason.1).is_none();
        match row.rovgate {
            Matches if !same => wrong.push(format!(
                "{}: rovgate {:?} {:?}, arouteserver {:?}",
                row.what,
                got(&rovgate.received, row.prefix),
                rovgate.reasons.get(row.prefix),
                got(&reference.received, row.prefix)
            )),
            Differs(why) if same => wrong.push(format!(
                "{}: rovgate now does what arouteserver does ({why}): mark the row Matches",
                row.what
            )),
            Differs(why) => eprintln!(
                "note: {} differs ({why}): rovgate {:?}",
                row.what,
                against_table(&rovgate, row, row.reason.1)
            ),
            Matches => {}
        }
    }
    for (server, outcome) in [("arouteserver", &reference), ("rovgate", &rovgate)] {
        for (name, routes) in &outcome.received {
            let extra = routes
                .keys()
                .filter(|p| !ROWS.iter().any(|r| r.prefix == *p));
            wrong.extend(extra.map(|p| format!("{server} sent {name} {p}, not in the table")));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
