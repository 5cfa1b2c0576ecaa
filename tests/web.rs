//! The web page, as a browser renders it: real headless Chromium loads rovgate's `GET /`
//! and `GET /?peer=NAME` while real peers (BIRD, OpenBGPD) and a real cache (stayrtr) feed
//! it, and the tests read the rendered DOM (`--dump-dom`) as an operator reads the page.
//!
//! Each test runs its own exchange (`support::lab`) on its own loopback /24: 127.0.70.0 to
//! 127.0.72.0.

use crate::support;
use crate::support::chromium::{attribute, cell, dump_dom, element, paragraph, row, screenshot};
use crate::support::chromium::{table, text_of};
use crate::support::lab::{self, Lab, EDGE_AS, MEMBER_AS, OTHER_AS};

/// A peer name that is markup if the page does not escape it.
const MARKUP_NAME: &str = "edge <b>&\"x\" 'y'";

/// Whether the lab's tools and Chromium are installed (see `support::tools_present`).
fn lab_and_chromium_present() -> bool {
    support::tools_present(&[&lab::TOOLS[..], &["chromium"]].concat())
}

/// Expected: the page of the `shadow` member (`/?peer=member-a`) lists its one invalid
/// route, 10.70.2.0/24 from AS64701 under a ROA for AS65000, with reason `origin-as`, the
/// covering VRP, "no" for reachable (no other peer has it), not dropped, and the fix the
/// report API gives (add a ROA for the route's prefix and origin); its valid route is not
/// listed.
#[tokio::test]
async fn peer_page_explains_the_invalid_route() {
    if !lab_and_chromium_present() {
        return;
    }
    let lab = Lab::start(70, "member-a", "edge").await;
    let report = lab.rovgate.get("/api/v1/report?peer=member-a");
    let report = report.expect("the report API answers");
    let suggestion = report["peers"][0]["invalid_routes"][0]["suggestion"].clone();

    let dom = dump_dom(&format!("{}/?peer=member-a", lab.url()));
    let title = "Invalid routes of member-a";
    assert!(dom.contains(title), "{title:?} in the page:\n{dom}");
    let routes = table(&dom, "invalid-routes");
    assert_eq!(routes.len(), 2, "one invalid route in the table:\n{dom}");
    let (route, _) = row(&dom, "invalid-routes", "Prefix", &lab.invalid());
    let expected = [
        ("Origin", format!("AS{MEMBER_AS}")),
        ("AS path", MEMBER_AS.to_string()),
        ("Reason", "origin-as".into()),
        (
            "Covering VRPs",
            format!("{}-24 AS{OTHER_AS}", lab.invalid()),
        ),
        ("Reachable without it", "no".into()),
        ("Dropped", "no".into()),
    ];
    for (header, value) in expected {
        assert_eq!(cell(&route, header), value, "{header} of {route:?}");
    }
    let fix = cell(&route, "Suggested fix");
    assert_eq!(json_str(&suggestion), fix, "the page's fix is the report's");
    let roa = format!("add a ROA {} maxLength 24 AS{MEMBER_AS}", lab.invalid());
    assert!(fix.contains(&roa), "the fix names the ROA to add: {fix:?}");
}

fn json_str(value: &serde_json::Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

/// Expected: `/` shows both sessions up with AS, address and ROV mode, the stayrtr cache up
/// with its 2 VRPs and not stale, and the per-peer table with the `shadow` member at 2
/// routes, 1 valid, 1 invalid, would-drop 1, dropped 0 and the `drop` edge at 1 not-found,
/// would-drop 0. The edge's name, which is markup, shows as text, and its link opens its
/// own page. An unknown peer's page is a 404. The charts and the timeline are drawn, and
/// the search box leads to the looking glass (`overview_draws_charts_and_a_search_box`).
#[tokio::test]
async fn overview_shows_sessions_sources_and_would_drop() {
    if !lab_and_chromium_present() {
        return;
    }
    let lab = Lab::start(71, "member-a", MARKUP_NAME).await;
    let dom = dump_dom(&format!("{}/", lab.url()));

    let (member, _) = row(&dom, "sessions", "Peer", "member-a");
    let (edge, edge_html) = row(&dom, "sessions", "Peer", MARKUP_NAME);
    for (peer, asn, host, rov) in [
        (&member, MEMBER_AS, 1, "shadow"),
        (&edge, EDGE_AS, 2, "drop"),
    ] {
        assert_eq!(cell(peer, "AS"), format!("AS{asn}"), "{peer:?}");
        assert_eq!(
            cell(peer, "Address"),
            format!("127.0.71.{host}"),
            "{peer:?}"
        );
        assert_eq!(cell(peer, "Session"), "up", "{peer:?}");
        assert_eq!(cell(peer, "ROV"), rov, "{peer:?}");
    }

    let sources = table(&dom, "sources");
    assert_eq!(sources.len(), 2, "one RPKI source:\n{dom}");
    let (source, _) = row(&dom, "sources", "Kind", "rtr");
    assert_eq!(cell(&source, "Name"), lab.cache.address(), "{source:?}");
    assert_eq!(cell(&source, "State"), "up", "{source:?}");
    assert_eq!(cell(&source, "VRPs"), "2", "{source:?}");
    assert_eq!(cell(&source, "Stale"), "no", "{source:?}");

    let counts = |name: &str| {
        let (r, _) = row(&dom, "rov", "Peer", name);
        let heads = [
            "Routes",
            "Valid",
            "Invalid",
            "Not found",
            "Would drop",
            "Dropped",
        ];
        heads.map(|h| cell(&r, h).to_string())
    };
    assert_eq!(counts("member-a"), ["2", "1", "1", "0", "1", "0"]);
    assert_eq!(counts(MARKUP_NAME), ["1", "0", "0", "1", "0", "0"]);

    // The edge's link, as the browser has it, opens the edge's page.
    let href = edge_html
        .split("href=\"")
        .nth(1)
        .and_then(|h| h.split('"').next());
    let href = text_of(href.expect("the edge's name links to its page"));
    let page = ureq::get(&format!("{}{href}", lab.url())).call();
    let page = page.unwrap_or_else(|e| panic!("GET {href}: {e}"));
    let page = page.into_string().expect("the page's text");
    let heading = page
        .split("<h2 id=\"peer\">")
        .nth(1)
        .and_then(|h| h.split("</h2>").next());
    let heading = text_of(heading.unwrap_or_else(|| panic!("no peer heading in {href}:\n{page}")));
    assert_eq!(heading, format!("Invalid routes of {MARKUP_NAME}"));

    match ureq::get(&format!("{}/?peer=nobody", lab.url())).call() {
        Err(ureq::Error::Status(404, _)) => {}
        other => panic!("an unknown peer's page: {other:?}"),
    }
    overview_draws_charts_and_a_search_box(&lab, &dom);
}

/// Expected (the overview's lab): the chart of all peers ends at invalid 1, would drop 1,
/// dropped 0 (the member's route), and the member is the one peer charted on its own (the
/// edge never had a route that would be dropped); the timeline has validation and the
/// cache, up at the serial the status API reports. The search box is a GET form to the
/// looking glass; what a browser sends for the invalid route's prefix lands on its path
/// from the member, invalid. Chromium's screenshot of the page is a PNG of the window's
/// size.
fn overview_draws_charts_and_a_search_box(lab: &Lab, dom: &str) {
    let total = element(dom, "svg", "chart-total");
    for legend in [">invalid 1<", ">would drop 1<", ">dropped 0<"] {
        assert!(total.contains(legend), "{legend} in the chart:\n{total}");
    }
    let member = element(dom, "svg", "chart-peer-0");
    assert!(member.contains("<title>member-a</title>"), "{member}");
    assert!(
        !dom.contains("<svg id=\"chart-peer-1\""),
        "only the member is charted"
    );

    let timeline = element(dom, "svg", "rpki-timeline");
    let status = lab.rovgate.status().expect("status");
    let serial = status["sources"][0]["serial"]
        .as_u64()
        .expect("the cache's serial");
    let cache = format!(">rtr {}</text>", lab.cache.address());
    for part in [
        ">validation</text>".to_string(),
        "<title>validation active</title>".into(),
        cache,
        format!("<title>up, serial {serial}</title>"),
        format!("<title>serial {serial}</title></line>"),
    ] {
        assert!(
            timeline.contains(&part),
            "{part} in the timeline:\n{timeline}"
        );
    }

    let form = element(dom, "form", "lookup");
    assert_eq!(attribute(form, "method"), "get", "{form}");
    let input = &form[form.find("<input").expect("the search field")..];
    // A GET form sends its fields as the action's query: action?prefix=P.
    let search = format!(
        "{}{}?{}={}",
        lab.url(),
        attribute(form, "action"),
        attribute(input, "name"),
        lab.invalid().replace('/', "%2F")
    );
    let answer = dump_dom(&search);
    let json = answer
        .split("<pre>")
        .nth(1)
        .and_then(|a| a.split("</pre>").next());
    let json = text_of(json.unwrap_or_else(|| panic!("no JSON from {search}:\n{answer}")));
    let routes: serde_json::Value = serde_json::from_str(&json).expect("the looking glass's JSON");
    assert_eq!(routes["prefix"], lab.invalid(), "{routes}");
    let paths = routes["paths"].as_array().expect("paths");
    assert_eq!(paths.len(), 1, "{routes}");
    assert_eq!(paths[0]["peer"], "member-a", "{routes}");
    assert_eq!(paths[0]["rov"], "invalid", "{routes}");
    assert_eq!(paths[0]["verdict"]["state"], "invalid", "{routes}");

    let png = screenshot(&format!("{}/", lab.url()));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // IHDR: width and height, big-endian, at bytes 16..24.
    let size = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!((size(16), size(20)), (1000, 2400), "the window's size");
}

/// Expected: with a mass-invalidation guard of one route (hold 0: until accepted), a VRP
/// update that would drop the `drop` edge's not-found route (a new ROA for another AS) is
/// held: `/` says so (1 route of 1 peer, applied only on accept) and counts the edge's route
/// invalid but not dropped (would-drop 1). After `POST /api/v1/vrps/accept` the notice is
/// gone, the route is dropped, and the recent changes show it going from not-found to
/// invalid.
#[tokio::test]
async fn overview_shows_a_held_mass_invalidation_until_accepted() {
    if !lab_and_chromium_present() {
        return;
    }
    let rov = "[rov]\nmass_invalidation_min_routes = 1\nmass_invalidation_hold_seconds = 0\n";
    let mut lab = Lab::start_with(72, "member-a", "edge", rov).await;
    let page = format!("{}/", lab.url());
    assert_eq!(
        paragraph(&dump_dom(&page), "held"),
        None,
        "nothing held yet"
    );

    lab.invalidate_edge();
    support::wait_for("the update held", 30, || {
        lab.rovgate
            .status()
            .is_some_and(|s| !s["held_update"].is_null())
    })
    .await;
    let dom = dump_dom(&page);
    let held = paragraph(&dom, "held").unwrap_or_else(|| panic!("no held update:\n{dom}"));
    for words in [
        "would newly drop 1 routes of 1 peers",
        "It is applied only on accept",
    ] {
        assert!(held.contains(words), "{words:?} in {held:?}");
    }
    let counts = |dom: &str| {
        let (r, _) = row(dom, "rov", "Peer", "edge");
        ["Invalid", "Would drop", "Dropped"].map(|h| cell(&r, h).to_string())
    };
    assert_eq!(counts(&dom), ["1", "1", "0"], "held: invalid, not dropped");

    let accepted = lab
        .rovgate
        .post("/api/v1/vrps/accept", serde_json::json!({}));
    assert_eq!(accepted, Ok(serde_json::json!({"accepted": true})));
    support::wait_for("the edge's route dropped", 30, || {
        lab.peer("edge")["dropped"] == 1
    })
    .await;
    let dom = dump_dom(&page);
    assert_eq!(
        paragraph(&dom, "held"),
        None,
        "accepted: nothing held:\n{dom}"
    );
    assert_eq!(counts(&dom), ["1", "0", "1"], "accepted: dropped");
    let (change, _) = row(&dom, "changes", "Prefix", &lab.not_found());
    assert_eq!(cell(&change, "Peer"), "edge", "{change:?}");
    let states = (cell(&change, "Before"), cell(&change, "After"));
    assert_eq!(states, ("not-found", "invalid"), "{change:?}");
}
