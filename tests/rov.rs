//! Route origin validation end to end, each `rov` mode and switching modes at run time:
//! real BIRD 2 members send routes through rovgate to a real OpenBGPD, with VRPs from a
//! real stayrtr (`support::lab`). VRP changes, cache expiry and the mass-invalidation hold
//! are in `rov_vrps`.
//!
//! Each test builds one small exchange on its own loopback /24 (127.0.60.0 to 127.0.68.0):
//! BIRD members at .1, .2, ... (rs-clients of rovgate, each with its own `rov` mode) and
//! OpenBGPD at .100, which announces nothing and receives what rovgate exports.

use std::collections::BTreeSet;

use ipnet::IpNet;
use rovgate::rpki::Vrp;
use serde_json::json;

use crate::support;
use crate::support::lab::{self, member, receiver, Lab, Peer, OTHER_AS};
use crate::support::{vrp, wait_for, RtrTiming};

/// rovgate's AS: `[server] asn` in the config `Rovgate::start` writes. Its Euro-IX ROV
/// tags are `64500:1000:1` (valid), `:2` (not-found) and `:4` (invalid).
pub(crate) const TAG_VALID: &str = "64500:1000:1";
pub(crate) const TAG_NOT_FOUND: &str = "64500:1000:2";
pub(crate) const TAG_INVALID: &str = "64500:1000:4";
/// Any of rovgate's ROV tags.
const ANY_TAG: &str = "64500:1000:";

/// An exchange on 127.0.NET.0/24 with these BIRD members and the OpenBGPD receiver, the
/// cache serving `vrps` with fast RTR timers unless `timing` says otherwise.
pub(crate) async fn exchange(net: u8, members: &[Peer], more: &str, vrps: &[Vrp]) -> Lab {
    Lab::exchange(net, members, &receiver(), more, vrps, RtrTiming::default()).await
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
    if !support::tools_present(&lab::TOOLS) {
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
    let x = exchange(60, &members, "", &vrps).await;

    let expected: BTreeSet<IpNet> = members
        .iter()
        .flat_map(|m| m.routes.iter())
        .filter(|r| r.as_str() != "10.1.2.0/24")
        .map(|r| r.parse().unwrap())
        .collect();
    wait_for("OpenBGPD has every route but the dropped one", 60, || {
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

/// Expected: `POST /api/v1/peers/m1/rov {"rov":"drop"}` on a `shadow` peer withdraws its
/// invalid route from OpenBGPD (its valid one stays) and status shows the peer as `drop`
/// with the route dropped; `{"rov":"shadow"}` brings it back. An unknown peer name gets 404.
/// No session is reset.
#[tokio::test]
async fn http_switches_a_peer_between_shadow_and_drop() {
    if !support::tools_present(&lab::TOOLS) {
        return;
    }
    let asn = 64621;
    let (valid, invalid) = ("10.1.1.0/24", "10.1.2.0/24");
    let vrps = [vrp(valid, 24, asn), vrp(invalid, 24, OTHER_AS)];
    let members = [member("m1", 1, asn, "shadow", &[valid, invalid])];
    let x = exchange(62, &members, "", &vrps).await;
    wait_for("OpenBGPD has both routes", 60, || {
        x.has(valid) && x.has(invalid)
    })
    .await;
    assert_eq!(x.peer("m1")["would_drop"], 1);

    let answer = x
        .rovgate
        .post("/api/v1/peers/m1/rov", json!({"rov": "drop"}));
    assert_eq!(answer, Ok(json!({"rov": "drop"})));
    wait_for("the invalid route withdrawn at OpenBGPD", 30, || {
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
    wait_for("the invalid route back at OpenBGPD", 30, || x.has(invalid)).await;
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
    if !support::tools_present(&lab::TOOLS) {
        return;
    }
    let asn = 64631;
    let (valid, invalid) = ("10.1.1.0/24", "10.1.2.0/24");
    let vrps = [vrp(valid, 24, asn), vrp(invalid, 24, OTHER_AS)];
    let members = [member("m1", 1, asn, "shadow", &[valid, invalid])];
    let x = exchange(63, &members, "", &vrps).await;
    wait_for("OpenBGPD has both routes", 60, || {
        x.has(valid) && x.has(invalid)
    })
    .await;

    let (shadow, drop) = ("rov = \"shadow\"\n", "rov = \"drop\"\n");
    x.rovgate.reload(|config| {
        assert_eq!(config.matches(shadow).count(), 1, "{config}");
        config.replace(shadow, drop)
    });
    wait_for("the invalid route withdrawn at OpenBGPD", 30, || {
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
    wait_for("the invalid route back at OpenBGPD", 30, || x.has(invalid)).await;
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
    if !support::tools_present(&lab::TOOLS) {
        return;
    }
    let (a1, a2) = (64641, 64642);
    let (invalid1, invalid2) = ("10.2.1.0/24", "10.2.2.0/24");
    let vrps = [vrp(invalid1, 24, OTHER_AS), vrp(invalid2, 24, OTHER_AS)];
    let members = [
        member("m1", 1, a1, "shadow", &[invalid1]),
        member("m2", 2, a2, "shadow", &[invalid2]),
    ];
    let x = exchange(68, &members, "", &vrps).await;
    wait_for("OpenBGPD has both routes", 60, || {
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
    wait_for("m2's invalid route withdrawn at OpenBGPD", 30, || {
        !x.has(invalid2)
    })
    .await;
    assert!(x.has(invalid1), "m1's route stays");
    assert_eq!(x.peer("m1")["rov"], json!("shadow"));
    assert_eq!(x.peer("m2")["rov"], json!("drop"));
    x.assert_no_session_reset();
}
