//! The birdwatcher-compatible API as Alice-LG reads it, against a real exchange
//! (`support::lab`): a BIRD member in `drop` sends a valid and an RPKI-invalid route, a
//! real stayrtr serves the VRPs, OpenBGPD receives. Alice-LG itself cannot be built here
//! (its Go modules cannot be fetched), so the answers are checked field by field against
//! what its birdwatcher source decodes (`src/http/birdwatcher.rs` names the files).

use serde_json::{json, Value};

use crate::support::lab::{self, member, receiver, Lab, OTHER_AS, RECEIVER_AS};
use crate::support::{self, vrp, RtrTiming};

const NET: u8 = 95;
const MEMBER_AS: u32 = 64795;

/// The `api` block every answer starts with.
fn assert_meta(answer: &Value) {
    let api = &answer["api"];
    assert!(api["Version"].is_string(), "{answer}");
    assert_eq!(api["result_from_cache"], false, "{answer}");
    assert!(
        api["cache_status"]["cached_at"]["date"].is_string(),
        "{answer}"
    );
    assert!(answer["ttl"].is_string(), "{answer}");
}

/// Expected: `/status` names the router; `/protocols/bgp` lists both peers by protocol id
/// (`member.one` as BIRD would name it, `member_one`) with 1 route imported and 1 filtered
/// for the member; `/routes/filtered/member_one` lists the invalid route with the
/// filtered-reason community 64500:1101:13; `/routes/prefix` shows the valid route as
/// primary with its AS path and next hop; `/routes/protocol/member_one` and
/// `/routes/table/master` list the valid route alone (the one rovgate uses), primary;
/// `/routes/noexport` is an empty list (no action community keeps anything from the
/// member); an unknown protocol gets 404.
#[tokio::test]
async fn alice_lg_sees_peers_counts_and_the_filtered_invalid_route() {
    if !support::tools_present(&lab::TOOLS) {
        return;
    }
    let (valid, invalid) = (format!("10.{NET}.1.0/24"), format!("10.{NET}.2.0/24"));
    let members = [member(
        "member.one",
        1,
        MEMBER_AS,
        "drop",
        &[&valid, &invalid],
    )];
    let vrps = [vrp(&valid, 24, MEMBER_AS), vrp(&invalid, 24, OTHER_AS)];
    let x = Lab::exchange(NET, &members, &receiver(), "", &vrps, RtrTiming::default()).await;
    support::wait_for("the invalid route dropped", 60, || {
        x.peer("member.one")["dropped"] == 1
    })
    .await;
    let get = |path: &str| {
        let answer = (x.rovgate.get(&format!("/birdwatcher{path}")))
            .unwrap_or_else(|| panic!("GET /birdwatcher{path}"));
        assert_meta(&answer);
        answer
    };

    let status = get("/status");
    assert_eq!(status["status"]["router_id"], "192.0.2.254", "{status}");
    assert!(status["status"]["current_server"].is_string(), "{status}");

    let protocols = get("/protocols/bgp");
    let names: Vec<&String> = protocols["protocols"].as_object().unwrap().keys().collect();
    assert_eq!(names.len(), 2, "{protocols}");
    let one = &protocols["protocols"]["member_one"];
    assert_eq!(one["bird_protocol"], "BGP", "{protocols}");
    assert_eq!(one["state"], "up", "{protocols}");
    assert_eq!(
        one["neighbor_address"],
        format!("127.0.{NET}.1"),
        "{protocols}"
    );
    assert_eq!(one["neighbor_as"], MEMBER_AS, "{protocols}");
    assert_eq!(one["description"], "member.one", "{protocols}");
    let counts = &one["routes"];
    assert_eq!(
        (&counts["imported"], &counts["filtered"]),
        (&json!(1), &json!(1)),
        "{protocols}"
    );
    let short = get("/protocols/short");
    assert_eq!(short["protocols"]["member_one"]["state"], "up", "{short}");

    let filtered = get("/routes/filtered/member_one");
    let routes = filtered["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 1, "{filtered}");
    let route = &routes[0];
    assert_eq!(route["network"], invalid, "{filtered}");
    assert_eq!(route["from_protocol"], "member_one", "{filtered}");
    assert_eq!(route["gateway"], format!("127.0.{NET}.1"), "{filtered}");
    assert_eq!(
        route["bgp"]["as_path"],
        json!([MEMBER_AS.to_string()]),
        "{filtered}"
    );
    assert_eq!(
        route["bgp"]["large_communities"],
        json!([[64500, 1101, 13]]),
        "{filtered}"
    );

    let all = get("/routes/table/master/filtered");
    assert_eq!(
        all["routes"], filtered["routes"],
        "one member: its filtered routes"
    );

    let lookup = get(&format!("/routes/prefix?prefix={valid}"));
    let routes = lookup["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 1, "{lookup}");
    assert_eq!(routes[0]["network"], valid, "{lookup}");
    assert_eq!(routes[0]["primary"], true, "{lookup}");
    assert_eq!(routes[0]["bgp"]["origin"], "IGP", "{lookup}");
    assert_eq!(
        routes[0]["bgp"]["next_hop"],
        format!("127.0.{NET}.1"),
        "{lookup}"
    );

    let used = get("/routes/protocol/member_one");
    let routes = used["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 1, "the valid route alone: {used}");
    assert_eq!(routes[0]["network"], valid, "{used}");
    assert_eq!(routes[0]["from_protocol"], "member_one", "{used}");
    assert_eq!(routes[0]["primary"], true, "{used}");
    assert_eq!(get("/routes/table/master")["routes"], used["routes"]);

    assert_eq!(get("/routes/noexport/member_one")["routes"], json!([]));

    let status_of = |path: &str| {
        let url = format!("{}/birdwatcher{path}", x.url());
        match ureq::get(&url).call() {
            Err(ureq::Error::Status(code, _)) => code,
            other => panic!("{path}: {other:?}"),
        }
    };
    assert_eq!(status_of("/routes/filtered/nobody"), 404);
    assert_eq!(status_of("/routes/protocol/nobody"), 404);
}

/// Expected: a member tags its route `rs:0:<receiver's AS>` (Euro-IX "do not announce
/// to"); the receiver does not get it, and `/routes/noexport/receiver` lists it, with the
/// member's protocol and the community; the other member gets it, and its `noexport` list
/// is empty, as is the announcing member's own (a route server never sends a peer its own
/// route: that is not a filter).
#[tokio::test]
async fn noexport_lists_what_an_action_community_keeps_from_a_peer() {
    if !support::tools_present(&lab::TOOLS) {
        return;
    }
    const NET: u8 = 97;
    let kept = format!("10.{NET}.1.0/24");
    // The lab writes `route R blackhole;`: the attribute block ends the statement, `#`
    // comments out the rest.
    let tagged =
        format!("{kept} blackhole {{ bgp_large_community.add((64500, 0, {RECEIVER_AS})); }}; #");
    let members = [
        member("one", 1, MEMBER_AS, "accept", &[&tagged]),
        member("two", 2, MEMBER_AS + 1, "accept", &[]),
    ];
    let vrps = [vrp(&format!("10.{NET}.9.0/24"), 24, OTHER_AS)];
    let x = Lab::exchange(NET, &members, &receiver(), "", &vrps, RtrTiming::default()).await;
    let two = &x.birds[1];
    support::wait_for("the other member has the route", 60, || {
        two.birdc("show route protocol rsrv").contains(&kept)
    })
    .await;
    assert!(!x.has(&kept), "the receiver got a route kept from it");
    let routes = |id: &str| {
        let answer = (x.rovgate.get(&format!("/birdwatcher/routes/noexport/{id}")))
            .unwrap_or_else(|| panic!("GET /birdwatcher/routes/noexport/{id}"));
        assert_meta(&answer);
        answer["routes"].clone()
    };
    let noexport = routes("receiver");
    let listed = noexport.as_array().unwrap();
    assert_eq!(listed.len(), 1, "{noexport}");
    assert_eq!(listed[0]["network"], kept, "{noexport}");
    assert_eq!(listed[0]["from_protocol"], "one", "{noexport}");
    assert_eq!(listed[0]["primary"], true, "{noexport}");
    assert_eq!(
        listed[0]["bgp"]["large_communities"],
        json!([[64500, 0, RECEIVER_AS]]),
        "{noexport}"
    );
    assert_eq!(routes("two"), json!([]), "the other member gets it");
    assert_eq!(
        routes("one"),
        json!([]),
        "its own route is not filtered from it"
    );
}
