//! The IXP import checks between real ExaBGP members: a member in `drop` loses exactly
//! the routes that fail a check, the status counts them per reason, and a change of its
//! IRR file lets a route through without a reload.

use std::fs;

use crate::support;
use crate::support::daemon::Rovgate;
use crate::support::exabgp::Exabgp;

const MEMBER: u32 = 64496;

fn neighbor(n: u8, rovgate_port: u16, routes: &str) -> String {
    format!(
        "  router-id 127.0.0.{n};\n  local-address 127.0.0.{n};\n  local-as {MEMBER};\n  peer-as 64500;\n\
           connect {rovgate_port};\n  hold-time 30;\n  static {{\n{routes}  }}\n"
    )
}

fn irr(prefixes: &[&str]) -> String {
    let entries: Vec<String> = (prefixes.iter())
        .map(|p| format!("{{\"prefix\": \"{p}\", \"exact\": false, \"less-equal\": 24}}"))
        .collect();
    format!("{{\"AS-MEMBER\": [{}]}}", entries.join(", "))
}

/// Expected: of six routes from a member with every check in `drop`, only the clean one
/// reaches the other member; the status counts each failure under its check; adding the
/// missing prefix to the member's IRR file lets its route through within a few seconds,
/// with no reload and the session untouched.
#[tokio::test]
async fn a_member_in_drop_loses_what_fails_and_an_irr_change_applies_live() {
    if !support::tools_present(&["exabgp"]) {
        return;
    }
    let dir = support::scratch_dir("checks-irr");
    let irr_file = dir.join("AS-MEMBER.json");
    fs::write(&irr_file, irr(&["5.5.0.0/16", "7.7.0.0/16", "8.8.0.0/16"])).unwrap();
    let (p1, p2) = (support::free_port(), support::free_port());
    let peers = format!(
        "[rpki]\nreload_seconds = 1\n\n\
         [[peer]]\nname = \"sender\"\naddress = \"127.0.0.71\"\nasn = {MEMBER}\nrole = \"rs-client\"\n\
         port = {p1}\npassive = true\nchecks = \"drop\"\nirr = [\"{}\"]\n\n\
         [[peer]]\nname = \"receiver\"\naddress = \"127.0.0.72\"\nasn = 64497\nrole = \"rs-client\"\n\
         port = {p2}\npassive = true\n",
        irr_file.display()
    );
    let rovgate = Rovgate::start("checks", &peers);
    let nh = "next-hop 127.0.0.71";
    let routes = [
        format!("    route 5.5.5.0/24 {nh} as-path [ {MEMBER} 3333 ];\n"),
        format!("    route 6.6.6.0/24 {nh} as-path [ {MEMBER} 3333 ];\n"),
        "    route 7.7.7.0/24 next-hop 127.0.0.99 as-path [ 64496 3333 ];\n".to_string(),
        format!("    route 8.8.8.0/24 {nh} as-path [ {MEMBER} 3356 3333 ];\n"),
        format!("    route 5.5.0.0/25 {nh} as-path [ {MEMBER} 3333 ];\n"),
        format!("    route 10.0.0.0/8 {nh} as-path [ {MEMBER} 65000 ];\n"),
    ]
    .concat();
    let _sender = Exabgp::start("sender", &neighbor(71, rovgate.bgp_port, &routes));
    let receiver = Exabgp::start(
        "receiver",
        &neighbor(72, rovgate.bgp_port, "")
            .replace(&format!("local-as {MEMBER}"), "local-as 64497"),
    );
    let failed = |check: &str| {
        let status = rovgate.peer_status("sender");
        status.and_then(|s| s["failed"][check].as_u64())
    };
    support::wait_for("the sender's six routes stored", 90, || {
        rovgate
            .peer_status("sender")
            .and_then(|s| s["routes"].as_u64())
            == Some(6)
    })
    .await;
    support::wait_for("the clean route delivered", 60, || {
        receiver.received().contains("5.5.5.0/24")
    })
    .await;
    let got = receiver.received();
    for filtered in [
        "6.6.6.0/24",
        "7.7.7.0/24",
        "8.8.8.0/24",
        "5.5.0.0/25",
        "10.0.0.0/8",
    ] {
        assert!(!got.contains(filtered), "{filtered} passed: {got}");
    }
    let counts = [
        "irr_prefix",
        "next_hop",
        "transit_free",
        "prefix_too_long",
        "bogon_prefix",
        "bogon_asn",
    ]
    .map(failed);
    // In no route object: 6.6.6.0/24, and 10.0.0.0/8 and 5.5.0.0/25 (longer than the
    // object allows) besides their own reasons.
    assert_eq!(counts, [3, 1, 1, 1, 1, 1].map(Some), "per reason");

    fs::write(
        &irr_file,
        irr(&["5.5.0.0/16", "6.6.0.0/16", "7.7.0.0/16", "8.8.0.0/16"]),
    )
    .unwrap();
    support::wait_for("the route in the new IRR data delivered", 60, || {
        receiver.received().contains("6.6.6.0/24")
    })
    .await;
    assert_eq!(
        failed("irr_prefix"),
        Some(2),
        "10.0.0.0/8 and the /25 are still missing"
    );
    let log = rovgate.log();
    assert_eq!(log.matches("IRR files changed").count(), 1, "{log}");
    assert_eq!(
        log.matches("peer up").count(),
        2,
        "no session was reset: {log}"
    );
}
