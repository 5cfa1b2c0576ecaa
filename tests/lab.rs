//! The ROV lab (`vm/lab.sh`) as rovgate's end-to-end test: real BIRD, OpenBGPD and FRR
//! routers and a real stayrtr around this build of rovgate, each in its own network
//! namespace, with a hijacked service you can reach from the client.
//!
//! Each test builds its own lab (its own namespaces, named after the test and the process),
//! runs one scenario and removes the lab, so the tests run side by side. `lab.sh` asserts
//! each step of a scenario and exits non-zero naming the step that failed; the tests check
//! the steps it printed, in order, and then look at the lab themselves (rovgate's API, the
//! client's kernel routes, an HTTP request from the client), as an operator would.
//!
//! Needs root and `ip netns`: without root the tests say so and return early, unless `CI`
//! is set, where a missing tool or missing root fails them (`support::absent`).
//!
//! The harness (`LabSh`, the assertions) is in `lab/lab_sh.rs`.

use std::process::Command;

mod lab_sh;

use lab_sh::{alive, assert_in_order, assert_ok, lab_possible, LabSh};

/// Expected: with the hijacker at `accept` the client's request to 203.0.113.10 is answered
/// by the hijacker (its /25 wins by longest match) while rovgate's report lists that /25 as
/// would-be-dropped; after `POST /api/v1/peers/hijacker/rov {"rov":"drop"}` the victim
/// answers, the report shows the /25 dropped, and the hijacker's own not-found prefix still
/// reaches the client.
#[test]
fn hijack_is_answered_by_the_hijacker_until_drop_then_by_the_victim() {
    if !lab_possible(false) {
        return;
    }
    let lab = LabSh::up("hijack", &[]);
    let out = lab.scenario("hijack");
    assert_in_order(
        &out,
        &[
            "client: ip route get 203.0.113.10 -> via 192.0.2.66 (hijacker)",
            "ANSWER: hijacker",
            "203.0.113.0/25 AS64666 origin-as yes       no      1101:13 64666",
            "REPORT: 203.0.113.0/25 from AS64666 would be dropped",
            "{\"rov\":\"drop\"}",
            "client: ip route get 203.0.113.10 -> via 192.0.2.10 (victim)",
            "ANSWER: victim",
            "203.0.113.0/25 AS64666 origin-as yes       yes     1101:13 64666",
            "OK hijack*",
        ],
    );

    assert_eq!(lab.answer(), "victim");
    let hijacker = lab.peer("hijacker");
    assert_eq!(
        (&hijacker["rov"], &hijacker["dropped"], &hijacker["routes"]),
        (&"drop".into(), &1.into(), &2.into()),
        "{hijacker}"
    );
    let report = lab.api("/api/v1/report?peer=hijacker");
    let routes = &report["peers"][0]["invalid_routes"];
    assert_eq!(routes.as_array().map(Vec::len), Some(1), "{report}");
    assert_eq!(routes[0]["prefix"], "203.0.113.0/25");
    assert_eq!(routes[0]["dropped"], true);
    let kernel = lab.client_routes();
    assert!(!kernel.contains("203.0.113.0/25"), "{kernel}");
    assert!(kernel.contains("198.18.66.0/24 via 192.0.2.66"), "{kernel}");
}

/// Expected (stayrtr with refresh 2 s, retry 1 s, expire 10 s; the hijacker at drop): when
/// stayrtr stops, rovgate shows the cache down and keeps its VRPs (the victim still answers);
/// past expire its VRPs are withdrawn, status says stale, and the hijack, not-found now,
/// passes again (the hijacker answers: fail open); when stayrtr returns, the VRPs are back
/// and the victim answers.
#[test]
fn cache_loss_keeps_vrps_until_expire_then_fails_open_and_recovers() {
    if !lab_possible(false) {
        return;
    }
    let lab = LabSh::up("cacheloss", &[]);
    let out = lab.scenario("cache-loss");
    assert_in_order(
        &out,
        &[
            "RTR cache 198.18.0.2:8282: state up, 2 VRPs*",
            "ANSWER: victim",
            "-- 2. stop stayrtr",
            "RTR cache 198.18.0.2:8282: state down, 2 VRPs*",
            "VRPs in force: 2, stale: false",
            "ANSWER: victim",
            "RTR cache 198.18.0.2:8282: state expired*",
            "VRPs in force: 0, stale: true",
            "ANSWER: hijacker",
            "-- 4. start stayrtr again",
            "RTR cache 198.18.0.2:8282: state up, 2 VRPs*",
            "VRPs in force: 2, stale: false",
            "ANSWER: victim",
            "OK cache-loss*",
        ],
    );

    let status = lab.api("/api/v1/status");
    assert_eq!(status["vrps"]["stale"], false, "{status}");
    assert_eq!(status["vrps"]["count"], 2, "{status}");
    assert_eq!(status["sources"][0]["state"], "up", "{status}");
    assert_eq!(lab.answer(), "victim");
    assert_eq!(lab.peer("hijacker")["dropped"], 1);
}

/// Expected: the victim's new 203.0.113.128/25 is invalid (its ROA's maxLength is 24); at
/// shadow it still reaches the client, and the report says it would be dropped and suggests
/// the ROA 203.0.113.128/25 maxLength 25 AS64510; once that ROA is in stayrtr's file the
/// route is valid, and the victim's session was never reset (BIRD's and rovgate's view).
#[test]
fn customer_invalid_gets_a_suggested_roa_and_turns_valid_without_a_reset() {
    if !lab_possible(false) {
        return;
    }
    let lab = LabSh::up("custinv", &[]);
    let out = lab.scenario("customer-invalid");
    assert_in_order(
        &out,
        &[
            "looking glass 203.0.113.128/25: from victim, AS path 64510: invalid; maxLength too short: 203.0.113.0/24 maxLength 24 AS64510; best, exported",
            "client: ip route get 203.0.113.129 -> via 192.0.2.10",
            "203.0.113.128/25 AS64510 max-length yes       no      1101:13 64510",
            "SUGGESTED ROA: {\"prefix\":\"203.0.113.128/25\",\"max_length\":25,\"asn\":64510}",
            "looking glass 203.0.113.128/25: from victim, AS path 64510: valid; matches 203.0.113.128/25 maxLength 25 AS64510; best, exported",
            "rovgate logged 'session established' for victim 1 time(s) before, 1 after",
            "OK customer-invalid*",
        ],
    );

    let victim = lab.peer("victim");
    assert_eq!(
        (&victim["valid"], &victim["invalid"], &victim["up"]),
        (&2.into(), &0.into(), &true.into()),
        "{victim}"
    );
    let vrps = std::fs::read_to_string(lab.dir.join("rpki/vrps.json")).expect("VRP file");
    assert!(vrps.contains("\"203.0.113.128/25\""), "{vrps}");
    let log = std::fs::read_to_string(lab.dir.join("rs/rovgate.log")).expect("rovgate's log");
    let established = (log.lines())
        .filter(|l| l.contains("session established") && l.contains("peer=victim"))
        .count();
    assert_eq!(established, 1, "{log}");
    assert!(!log.contains("session down peer=victim"), "{log}");
}

/// Expected: the client as BIRD, then OpenBGPD, then FRR, each peers with rovgate, gets the
/// RPKI-filtered routes (the hijacker at drop: 203.0.113.0/24 via the victim and
/// 198.18.66.0/24 via the hijacker, not the invalid /25), puts them in the kernel and
/// reaches the victim; rovgate gets the client's 198.51.100.0/24 (valid) from each.
#[test]
fn router_config_bird_openbgpd_and_frr_each_get_the_filtered_routes() {
    if !lab_possible(true) {
        return;
    }
    let lab = LabSh::up("routers", &["--client", "bird"]);
    let out = lab.scenario("router-config");
    assert_in_order(
        &out,
        &[
            "-- client router: bird*",
            "ANSWER: victim",
            "ROUTES OK: bird",
            "-- client router: openbgpd*",
            "ANSWER: victim",
            "ROUTES OK: openbgpd",
            "-- client router: frr*",
            "ANSWER: victim",
            "ROUTES OK: frr",
            "OK router-config*",
        ],
    );

    let kernel = lab.client_routes();
    assert!(
        kernel.contains("203.0.113.0/24") && kernel.contains("via 192.0.2.10"),
        "{kernel}"
    );
    assert!(!kernel.contains("203.0.113.0/25"), "{kernel}");
    let client = lab.peer("client");
    assert_eq!(
        (&client["routes"], &client["valid"]),
        (&1.into(), &1.into())
    );
    assert_eq!(lab.answer(), "victim");
}

/// Expected: a second `up` changes nothing (same processes); `up` restarts a daemon that
/// died; `status` shows the sessions, the RTR state and the report; `down` removes every
/// namespace, process and the state directory, and a second `down` is harmless.
#[test]
fn up_is_idempotent_and_repairs_and_down_removes_everything() {
    if !lab_possible(false) {
        return;
    }
    let lab = LabSh::up("updown", &[]);
    let pids = lab.pids();
    assert!(pids.len() >= 7, "{pids:?}");
    let again = lab.run(&["up"]);
    assert_ok(&again, "second lab.sh up");
    assert_eq!(lab.pids(), pids, "a second up restarted something");

    let (_, service) = pids
        .iter()
        .find(|(n, _)| n == "victim-http")
        .expect("victim's service");
    let killed = Command::new("kill").arg(service.to_string()).status();
    assert!(killed.is_ok_and(|s| s.success()));
    let repair = lab.run(&["up"]);
    assert_ok(&repair, "lab.sh up after the victim's service died");
    assert_ne!(lab.pids(), pids, "up did not restart the victim's service");
    assert_eq!(
        lab.exec("victim", &["curl", "-s", "-m", "3", "http://203.0.113.10/"])
            .trim(),
        "victim"
    );

    let status = lab.run(&["status"]);
    assert_ok(&status, "lab.sh status");
    let text = String::from_utf8_lossy(&status.stdout);
    assert_in_order(
        &text,
        &[
            "victim    192.0.2.10  64510  shadow  true       1      1        0          0        0           0",
            "hijacker  192.0.2.66  64666  accept  true       2      0        1          1        0           1",
            "client    192.0.2.20  64520  shadow  true       1      1        0          0        0           0",
            "RTR cache 198.18.0.2:8282: state up, 2 VRPs*",
            "total: 1 routes would be dropped, 0 destinations would become unreachable",
            "client: curl http://203.0.113.10/ -> hijacker",
        ],
    );

    let pids = lab.pids();
    let down = lab.run(&["down"]);
    assert_ok(&down, "lab.sh down");
    assert_eq!(lab.namespaces(), Vec::<String>::new());
    for (name, pid) in &pids {
        assert!(!alive(*pid), "{name} (pid {pid}) survived down");
    }
    assert!(!lab.dir.exists(), "{} survived down", lab.dir.display());
    let status = lab.run(&["status"]);
    assert_eq!(status.status.code(), Some(3), "status of a removed lab");
    assert_ok(&lab.run(&["down"]), "a second lab.sh down");
}
