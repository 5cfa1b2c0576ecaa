//! Route origin validation end to end when the VRPs change: re-evaluation without a
//! session reset, caches past expire failing open, and the mass-invalidation hold. The
//! exchanges are `rov`'s (see there), on 127.0.61.0 and 127.0.64.0 to 127.0.67.0.

use std::process::Command;

use ipnet::IpNet;
use serde_json::{json, Value};

use crate::rov::{exchange, TAG_INVALID, TAG_NOT_FOUND, TAG_VALID};
use crate::support;
use crate::support::lab::{self, member, receiver, Lab, Peer, OTHER_AS};
use crate::support::{eventually, unix_seconds, vrp, wait_for, RtrTiming};

/// Expected: under `drop`, when the cache's VRPs change so that a valid route turns invalid,
/// rovgate withdraws it from OpenBGPD; when they change back, it announces it again. A
/// second, always valid route stays throughout. No session is reset and BIRD gets no
/// ROUTE-REFRESH: the stored routes are re-evaluated.
#[tokio::test]
async fn vrp_change_withdraws_and_reannounces_without_session_reset() {
    if !support::tools_present(&lab::TOOLS) {
        return;
    }
    let asn = 64611;
    let (stays, flips) = ("10.1.1.0/24", "10.1.2.0/24");
    let valid = vec![vrp(stays, 24, asn), vrp(flips, 24, asn)];
    let invalid = vec![vrp(stays, 24, asn), vrp(flips, 24, OTHER_AS)];
    let members = [member("m1", 1, asn, "drop", &[stays, flips])];
    let mut x = exchange(61, &members, "", &valid).await;
    wait_for("OpenBGPD has both routes", 60, || {
        x.has(stays) && x.has(flips)
    })
    .await;
    let passes = x.status()["reevaluation"]["passes"].as_u64().unwrap();

    x.cache.rewrite(&invalid);
    wait_for("the invalid route withdrawn at OpenBGPD", 30, || {
        !x.has(flips)
    })
    .await;
    assert!(x.has(stays), "the valid route stays");
    let m1 = x.peer("m1");
    assert_eq!(
        (&m1["invalid"], &m1["dropped"]),
        (&json!(1), &json!(1)),
        "{m1}"
    );

    x.cache.rewrite(&valid);
    wait_for("the route announced again at OpenBGPD", 30, || x.has(flips)).await;
    assert!(x.has(stays), "the valid route stays");
    let m1 = x.peer("m1");
    assert_eq!(
        (&m1["valid"], &m1["dropped"]),
        (&json!(2), &json!(0)),
        "{m1}"
    );
    let re = x.status()["reevaluation"].clone();
    assert!(re["passes"].as_u64().unwrap() >= passes + 2, "{re}");
    assert!(re["changes"].as_u64().unwrap() >= 2, "{re}");
    x.assert_no_session_reset();
}

/// Expected: with expire 5 s from the only cache, stopping it keeps its VRPs while the
/// cache is reported down (the invalid route of a `drop` member stays unexported); after
/// expire, status shows `vrps.stale` true and no VRPs, that route is exported to OpenBGPD as
/// not-found, and a `tag` member's invalid route is re-tagged 64500:1000:2 (not-found)
/// instead of :4. When the cache comes back, its VRPs apply again: the route is withdrawn
/// and the tag is :4 again. No session is reset.
#[tokio::test]
async fn stale_caches_fail_open_to_not_found() {
    if !support::tools_present(&lab::TOOLS) {
        return;
    }
    let (drop_as, tag_as) = (64651, 64652);
    let (valid, dropped, tagged) = ("10.1.1.0/24", "10.1.2.0/24", "10.2.2.0/24");
    let vrps = [
        vrp(valid, 24, drop_as),
        vrp(dropped, 24, OTHER_AS),
        vrp(tagged, 24, OTHER_AS),
    ];
    let members = [
        member("dropper", 1, drop_as, "drop", &[valid, dropped]),
        member("tagger", 2, tag_as, "tag", &[tagged]),
    ];
    let short = RtrTiming {
        expire: 5,
        ..RtrTiming::default()
    };
    let mut x = Lab::exchange(65, &members, &receiver(), "", &vrps, short).await;
    wait_for("OpenBGPD has the valid and the tagged route", 60, || {
        x.has(valid) && x.has(tagged)
    })
    .await;
    assert!(!x.has(dropped), "the invalid route is dropped");
    assert!(x.detail(tagged).contains(TAG_INVALID));
    assert_eq!(x.peer("dropper")["dropped"], 1);

    x.cache.stop();
    let cache_state = |x: &Lab| x.status()["sources"][0]["state"].clone();
    wait_for("the cache reported down", 30, || cache_state(&x) != "up").await;
    let status = x.status();
    assert_eq!(status["sources"][0]["state"], "down", "{status}");
    assert_eq!(status["vrps"]["stale"], false, "not stale before expire");
    assert!(!x.has(dropped), "VRPs are kept until expire");

    wait_for("status stale", 30, || x.status()["vrps"]["stale"] == true).await;
    wait_for("the formerly invalid route at OpenBGPD", 30, || {
        x.has(dropped)
    })
    .await;
    wait_for("the tagged route re-tagged not-found", 30, || {
        x.detail(tagged).contains(TAG_NOT_FOUND)
    })
    .await;
    assert!(!x.detail(tagged).contains(TAG_INVALID));
    let status = x.status();
    assert_eq!(status["vrps"]["count"], 0, "{}", status["vrps"]);
    assert_eq!(status["sources"][0]["state"], "expired", "{status}");
    let dropper = x.peer("dropper");
    assert_eq!(
        (
            &dropper["not_found"],
            &dropper["invalid"],
            &dropper["dropped"]
        ),
        (&json!(2), &json!(0), &json!(0)),
        "{dropper}"
    );

    x.cache.restart();
    wait_for("the route withdrawn again at OpenBGPD", 30, || {
        !x.has(dropped)
    })
    .await;
    wait_for("the tagged route re-tagged invalid", 30, || {
        x.detail(tagged).contains(TAG_INVALID)
    })
    .await;
    let status = x.status();
    assert_eq!(status["vrps"]["stale"], false, "{}", status["vrps"]);
    assert_eq!(x.peer("dropper")["dropped"], 1);
    x.assert_no_session_reset();
}

/// Expected: a `drop` member announces 200 more-specifics of 10.0.0.0/8, valid by one VRP
/// (10.0.0.0/8 max 24 for its AS). The cache replaces that VRP with one for another AS,
/// which would newly drop all 200 (>= `mass_invalidation_min_routes` 50, and nearly all
/// routes): rovgate holds the update — status shows `held_update` (200 routes, 1 peer, no
/// deadline with hold 0) and OpenBGPD keeps all 200 routes, even after the same VRP update
/// re-tagged a `tag` member's route (so the held pass did reach OpenBGPD). After
/// `rovgate vrps accept --url ...` the 200 routes are withdrawn at OpenBGPD and
/// `held_update` is null; a second accept finds nothing to accept.
#[tokio::test]
async fn mass_invalidation_is_held_until_accepted() {
    if !support::tools_present(&lab::TOOLS) {
        return;
    }
    let members = hold_members();
    let sentinel = "172.16.1.0/24";
    let before = [vrp("10.0.0.0/8", 24, 64641)];
    let after = [
        vrp("10.0.0.0/8", 24, OTHER_AS),
        vrp("172.16.0.0/16", 24, 64642),
    ];
    let rov = "[rov]\nmass_invalidation_min_routes = 50\nmass_invalidation_hold_seconds = 0\n";
    let mut x = exchange(64, &members, rov, &before).await;
    wait_for("OpenBGPD has all 201 routes", 60, || {
        x.received().len() == 201
    })
    .await;
    assert!(x.detail(sentinel).contains(TAG_NOT_FOUND));
    assert_eq!(x.status()["held_update"], Value::Null);

    x.cache.rewrite(&after);
    wait_for("the update held", 30, || {
        !x.status()["held_update"].is_null()
    })
    .await;
    wait_for(
        "the same update re-tagged the sentinel at OpenBGPD",
        30,
        || x.detail(sentinel).contains(TAG_VALID),
    )
    .await;
    let status = x.status();
    let held = &status["held_update"];
    assert_eq!(
        (&held["routes"], &held["peers"]),
        (&json!(200), &json!(1)),
        "{held}"
    );
    assert_eq!(held["until"], Value::Null, "hold 0: no deadline: {held}");
    assert_eq!(
        held_routes_at_receiver(&x),
        200,
        "OpenBGPD keeps the held routes"
    );
    let m = x.peer("many");
    assert_eq!(
        (&m["invalid"], &m["held"], &m["dropped"]),
        (&json!(200), &json!(200), &json!(0)),
        "{m}"
    );
    assert_eq!(m["would_drop"], 200, "{m}");

    let accept = || {
        let out = Command::new(env!("CARGO_BIN_EXE_rovgate"))
            .args(["vrps", "accept", "--url", &x.rovgate.url(), "--token-file"])
            .arg(x.rovgate.token_file())
            .output()
            .expect("run rovgate vrps accept");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = accept();
    assert!(first.starts_with("accepted"), "{first}");
    wait_for("the 200 routes withdrawn at OpenBGPD", 30, || {
        held_routes_at_receiver(&x) == 0
    })
    .await;
    assert!(x.has(sentinel), "the tagged member's route stays");
    assert_eq!(x.status()["held_update"], Value::Null);
    let m = x.peer("many");
    assert_eq!(
        (&m["dropped"], &m["held"], &m["would_drop"]),
        (&json!(200), &json!(0), &json!(0)),
        "{m}"
    );
    let second = accept();
    assert!(second.starts_with("nothing to accept"), "{second}");
    x.assert_no_session_reset();
}

/// 200 routes of a `drop` member ("many", AS 64641, at .1), all more-specifics of
/// 10.0.0.0/8, and one of a `tag` member ("tagged", AS 64642, at .2), for the hold tests.
fn hold_members() -> [Peer; 2] {
    let many: Vec<String> = (0..200).map(|i| format!("10.64.{i}.0/24")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    [
        member("many", 1, 64641, "drop", &many),
        member("tagged", 2, 64642, "tag", &["172.16.1.0/24"]),
    ]
}

/// How many of the hold members' 10.64.x.0/24 routes OpenBGPD has.
fn held_routes_at_receiver(x: &Lab) -> usize {
    let received = x.received();
    let many: IpNet = "10.64.0.0/16".parse().unwrap();
    received.iter().filter(|p| many.contains(*p)).count()
}

/// Expected: while a mass invalidation is held (hold 0: until accepted), the member whose
/// routes it holds resets its session (`birdc disable`, then `enable`); its routes are
/// withdrawn while it is down, and when it announces them again they are exported again —
/// the update is still held, so nothing new is dropped — and status counts them as held,
/// not dropped. After `POST /api/v1/vrps/accept` they are withdrawn.
#[tokio::test]
async fn held_mass_invalidation_survives_a_session_reset() {
    if !support::tools_present(&lab::TOOLS) {
        return;
    }
    let members = hold_members();
    let before = [vrp("10.0.0.0/8", 24, 64641)];
    let after = [vrp("10.0.0.0/8", 24, OTHER_AS)];
    let rov = "[rov]\nmass_invalidation_min_routes = 50\nmass_invalidation_hold_seconds = 0\n";
    let mut x = exchange(66, &members, rov, &before).await;
    wait_for("OpenBGPD has all 201 routes", 60, || {
        x.received().len() == 201
    })
    .await;
    x.cache.rewrite(&after);
    wait_for("the update held", 30, || x.peer("many")["held"] == 200).await;
    assert_eq!(x.status()["held_update"]["routes"], 200);

    let bird = &x.birds[0];
    bird.birdc("disable rsrv");
    wait_for("the member's routes withdrawn at OpenBGPD", 30, || {
        held_routes_at_receiver(&x) == 0
    })
    .await;
    bird.birdc("enable rsrv");
    wait_for("rovgate stores the member's routes again", 60, || {
        x.peer("many")["routes"] == 200
    })
    .await;
    let status = x.status();
    assert!(!status["held_update"].is_null(), "still held: {status}");
    let exported = eventually(20, || held_routes_at_receiver(&x) == 200).await;
    assert!(
        exported,
        "the re-announced routes must be exported while the update is held; OpenBGPD has \
         {} of them; status: held_update {}, peer {}",
        held_routes_at_receiver(&x),
        x.status()["held_update"],
        x.peer("many")
    );
    let m = x.peer("many");
    assert_eq!((&m["held"], &m["dropped"]), (&json!(200), &json!(0)), "{m}");

    let accepted = x.rovgate.post("/api/v1/vrps/accept", json!({}));
    assert_eq!(accepted, Ok(json!({"accepted": true})));
    wait_for("the routes withdrawn after accept", 30, || {
        held_routes_at_receiver(&x) == 0
    })
    .await;
}

/// Expected: a held mass invalidation (hold 3600 s) that the next VRP update undoes (the
/// routes are valid again) holds nothing any more: `held_update` becomes null. When a later
/// update invalidates the same 200 routes again, that is a new hold of those 200 routes
/// (not 400), since that update, ending 3600 s after it.
#[tokio::test]
async fn undone_mass_invalidation_is_no_longer_held() {
    if !support::tools_present(&lab::TOOLS) {
        return;
    }
    let members = hold_members();
    let valid = [vrp("10.0.0.0/8", 24, 64641)];
    let invalid = [vrp("10.0.0.0/8", 24, OTHER_AS)];
    let invalid_again = [vrp("10.0.0.0/8", 24, OTHER_AS + 1)];
    let rov = "[rov]\nmass_invalidation_min_routes = 50\nmass_invalidation_hold_seconds = 3600\n";
    let mut x = exchange(67, &members, rov, &valid).await;
    wait_for("OpenBGPD has all 201 routes", 60, || {
        x.received().len() == 201
    })
    .await;
    x.cache.rewrite(&invalid);
    wait_for("the update held", 30, || x.peer("many")["held"] == 200).await;
    let first = x.status()["held_update"].clone();
    assert_eq!(first["routes"], 200, "{first}");

    x.cache.rewrite(&valid);
    wait_for("the routes valid again", 30, || {
        x.peer("many")["valid"] == 200
    })
    .await;
    let m = x.peer("many");
    assert_eq!((&m["held"], &m["invalid"]), (&json!(0), &json!(0)), "{m}");
    let released = eventually(10, || x.status()["held_update"].is_null()).await;
    assert!(
        released,
        "no route is held, so no update should be: held_update {}, peer {}",
        x.status()["held_update"],
        x.peer("many")
    );

    let since = first["since"].as_u64().unwrap_or_default();
    wait_for("a second later than the first hold's", 5, || {
        unix_seconds() > since
    })
    .await;
    x.cache.rewrite(&invalid_again);
    wait_for("the update held", 30, || x.peer("many")["held"] == 200).await;
    let second = x.status()["held_update"].clone();
    assert_eq!(second["routes"], 200, "{second}");
    assert!(
        second["since"].as_u64() > first["since"].as_u64(),
        "{first} then {second}"
    );
    let held_for = second["until"].as_u64().unwrap() - second["since"].as_u64().unwrap();
    assert!((3599..=3601).contains(&held_for), "{second}");
    assert_eq!(held_routes_at_receiver(&x), 200);
}
