//! No unvalidated routes at startup: rovgate started while its RTR cache (a real stayrtr)
//! is still down holds back the routes of `drop` members until the first complete VRP set
//! is in, and its status, metrics and page say that validation is not active.
//!
//! Each test builds one small exchange on its own loopback /24 (127.0.160.0, 127.0.161.0):
//! BIRD members at .1 (`drop`) and .2 (`accept`), OpenBGPD at .100 receiving what rovgate
//! exports (`support::lab`).

use std::collections::BTreeSet;

use ipnet::IpNet;
use serde_json::{json, Value};

use crate::support;
use crate::support::lab::{self, member, receiver, Lab, Peer, OTHER_AS};
use crate::support::{vrp, wait_for};

/// The `drop` member announces a valid, an invalid and a not-found route; the `accept`
/// member one not-found route. Returns them, the VRPs, and the routes by kind.
fn members(net: u8) -> ([Peer; 2], Vec<rovgate::rpki::Vrp>, [String; 4]) {
    let (drop_as, accept_as) = (64631, 64632);
    let r = |n: u8| format!("10.{net}.{n}.0/24");
    let (valid, invalid, not_found, accepted) = (r(1), r(2), r(3), r(4));
    let vrps = vec![vrp(&valid, 24, drop_as), vrp(&invalid, 24, OTHER_AS)];
    let members = [
        member(
            "dropper",
            1,
            drop_as,
            "drop",
            &[&valid, &invalid, &not_found],
        ),
        member("acceptor", 2, accept_as, "accept", &[&accepted]),
    ];
    (members, vrps, [valid, invalid, not_found, accepted])
}

fn set(routes: &[&String]) -> BTreeSet<IpNet> {
    routes.iter().map(|r| r.parse().unwrap()).collect()
}

/// Expected: with the cache down, the `accept` member's route reaches OpenBGPD and none of
/// the `drop` member's (invalid included); status says `validation.active` false with
/// reason "no VRPs yet", `complete` false and `waiting_for_vrps` true, the metric
/// `rovgate_validation_active` is 0 and the page says "validation not active: no VRPs yet".
/// Once stayrtr comes up, OpenBGPD gets the valid and not-found routes, never the invalid,
/// and validation is active.
#[tokio::test]
async fn drop_members_wait_for_a_cache_that_comes_up_late() {
    if !support::tools_present(&lab::TOOLS) {
        return;
    }
    let (members, vrps, [valid, invalid, not_found, accepted]) = members(160);
    let rpki = "startup_wait = 600";
    let mut x = Lab::exchange_cache_down(160, &members, &receiver(), rpki, &vrps).await;
    x.wait_for_routes(&members).await;
    wait_for("OpenBGPD has the accept member's route", 60, || {
        x.received() == set(&[&accepted])
    })
    .await;
    // The drop member's routes were stored before the accept member's route was exported.
    assert_eq!(x.received(), set(&[&accepted]), "{}", x.rovgate.log());
    let status = x.status();
    let vrp_status = &status["vrps"];
    assert_eq!(vrp_status["validation"]["active"], false, "{status}");
    assert_eq!(
        vrp_status["validation"]["reason"], "no VRPs yet",
        "{status}"
    );
    assert!(vrp_status["validation"]["since"].is_u64(), "{status}");
    assert_eq!(vrp_status["complete"], false, "{status}");
    assert_eq!(status["waiting_for_vrps"], true, "{status}");
    let metrics = x.rovgate.metrics();
    assert!(
        metrics.contains("\nrovgate_validation_active 0\n"),
        "{metrics}"
    );
    assert!(metrics.contains("\nrovgate_vrps_complete 0\n"), "{metrics}");
    let html = page(&x);
    assert!(
        html.contains("validation not active: no VRPs yet"),
        "{html}"
    );
    assert!(html.contains("id=\"waiting\""), "{html}");

    x.cache.restart();
    wait_for("OpenBGPD has the valid and not-found routes", 60, || {
        x.received() == set(&[&valid, &not_found, &accepted])
    })
    .await;
    let status = x.status();
    assert_eq!(
        status["vrps"]["validation"],
        json!({"active": true, "reason": null, "since": null})
    );
    assert_eq!(status["waiting_for_vrps"], false, "{status}");
    assert!(!x.has(&invalid), "{}", x.detail(&invalid));
    // The live notices are gone; the timeline still shows the past spell.
    let html = page(&x);
    for notice in ["id=\"validation\"", "id=\"charts-validation\""] {
        assert!(!html.contains(notice), "{notice} in the page:\n{html}");
    }
}

/// Expected: with no cache ever answering and `startup_wait = 2`, the `drop` member's
/// routes are held, then after the wait go out unvalidated (fail open), invalid included;
/// status says `complete` true while validation stays not active ("no VRPs yet").
#[tokio::test]
async fn without_any_cache_routes_fail_open_after_startup_wait() {
    if !support::tools_present(&lab::TOOLS) {
        return;
    }
    let (members, vrps, [valid, invalid, not_found, accepted]) = members(161);
    let rpki = "startup_wait = 2";
    let x = Lab::exchange_cache_down(161, &members, &receiver(), rpki, &vrps).await;
    x.wait_for_routes(&members).await;
    let all = set(&[&valid, &invalid, &not_found, &accepted]);
    wait_for("OpenBGPD has every route, unvalidated", 60, || {
        x.received() == all
    })
    .await;
    let status: Value = x.status();
    assert_eq!(status["vrps"]["complete"], true, "{status}");
    assert_eq!(status["waiting_for_vrps"], false, "{status}");
    assert_eq!(
        status["vrps"]["validation"]["reason"], "no VRPs yet",
        "{status}"
    );
    let log = x.rovgate.log();
    assert!(log.contains("startup_wait passed"), "{log}");
}

/// The overview page's HTML.
fn page(x: &Lab) -> String {
    let page = ureq::get(&format!("{}/", x.url())).call();
    let page = page.unwrap_or_else(|e| panic!("GET /: {e}"));
    page.into_string().expect("the page's text")
}
