//! The birdwatcher JSON, field by field as Alice-LG decodes it: alice-lg/alice-lg
//! `pkg/sources/birdwatcher/parsers.go` (`parseAPIStatus`: `api.Version` string,
//! `api.result_from_cache` bool, `api.cache_status.cached_at.date` and `ttl` times;
//! `parseBirdwatcherStatus`: `status.router_id`, `current_server`, `last_reboot`,
//! `last_reconfig`, `version`, `message`; `parseNeighbors`: `protocols` a map by id, each
//! with `neighbor_address`, `neighbor_as` (number), `state`, `description`, `routes` (a map
//! of numbers: `imported`, `filtered`); `parseRouteData`: `network`, `gateway`,
//! `from_protocol`, `primary` (bool), `metric` (number), `type` (strings); `bgp.as_path`,
//! `local_pref` and `med` strings (`pkg/decoders/types.go` `IntList`, `String`),
//! `communities` and `large_communities` lists of number lists, `ext_communities` lists
//! of three).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde_json::{json, to_value};

use super::*;
use crate::bgp::wire::attr::{self, OPTIONAL, TRANSITIVE};
use crate::policy::{Check, CheckModes, Failed, RovMode};
use crate::rib::Path as RibPath;
use crate::rib::RovCounts;
use crate::route::{Actions, AsPath, Asn, AttrSet, Family, NextHop, PeerId, Segment};
use chrono::DateTime;
use ipnet::IpNet;

fn peer(name: &str, rov: RovMode, checks: CheckModes) -> PeerView {
    PeerView {
        id: PeerId(0),
        name: name.to_string(),
        address: IpAddr::from([192, 0, 2, 7]),
        asn: Asn(64496),
        monitored: false,
        rov,
        checks,
        up: true,
        families: Family::ALL.into(),
        pending: 0,
        last_down: None,
        session: None,
        counts: RovCounts {
            routes: 5,
            ..RovCounts::default()
        },
        would_drop: 0,
        abuse: Arc::default(),
    }
}

/// Attributes with AS path 64496 64511, MED 5, LOCAL_PREF 200, community 64496:7, large
/// community 64496:1:2 and a route target 64496:9.
fn attrs() -> AttrSet {
    let mut other = Vec::new();
    let flags = OPTIONAL | TRANSITIVE;
    attr::write(&mut other, 0x40, attr::LOCAL_PREF, &200u32.to_be_bytes());
    attr::write(&mut other, flags, attr::COMMUNITIES, &[0xfb, 0xf0, 0, 7]);
    let large: Vec<u8> = [64496u32, 1, 2]
        .iter()
        .flat_map(|w| w.to_be_bytes())
        .collect();
    attr::write(&mut other, flags, attr::LARGE_COMMUNITIES, &large);
    let rt = [0, 2, 0xfb, 0xf0, 0, 0, 0, 9];
    attr::write(&mut other, flags, attr::EXT_COMMUNITIES, &rt);
    AttrSet::new(
        0,
        AsPath(vec![Segment::Sequence(vec![64496, 64511])]),
        NextHop::V4([192, 0, 2, 7].into()),
        Some(5),
        Bytes::from(other),
    )
}

fn invalid_path(failed: Failed, rpki_invalid: bool) -> InvalidPath {
    InvalidPath {
        peer: PeerId(0),
        prefix: "203.0.113.0/24".parse().unwrap(),
        attrs: Arc::new(attrs()),
        rpki_invalid,
        failed,
        aspa: None,
        dropped: true,
        reachable: false,
    }
}

/// Expected: the `api` block and `ttl` with the keys and types Alice-LG asserts (a missing
/// `Version` or `result_from_cache` would panic its decoder), times in RFC 3339 UTC.
#[test]
fn every_answer_carries_the_api_block() {
    let answer = to_value(&answer(json!({"routes": []})).0).unwrap();
    assert!(answer["api"]["Version"].is_string(), "{answer}");
    assert_eq!(answer["api"]["result_from_cache"], false);
    let date = answer["api"]["cache_status"]["cached_at"]["date"]
        .as_str()
        .unwrap();
    let ttl = answer["ttl"].as_str().unwrap();
    let parse = |t: &str| DateTime::parse_from_rfc3339(t).unwrap();
    assert_eq!(parse(ttl) - parse(date), chrono::Duration::seconds(60));
    assert_eq!(answer["routes"], json!([]), "the body sits beside `api`");
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(86_400 + 61);
    assert_eq!(rfc3339(t), "1970-01-02T00:01:01Z");
}

/// Expected: protocol ids are names BIRD accepts (letters, digits, `_`, a letter first),
/// distinct even when two names clean up alike.
#[test]
fn protocol_ids_are_bird_names_and_distinct() {
    let modes = (RovMode::Drop, CheckModes::default());
    let peers: Vec<PeerView> = [
        "AS64496 Example-1",
        "as64496.example",
        "1st",
        "AS64496_Example_1",
    ]
    .iter()
    .map(|n| peer(n, modes.0, modes.1))
    .collect();
    let ids = protocol_ids(&peers);
    assert_eq!(
        ids,
        [
            "AS64496_Example_1",
            "as64496_example",
            "p_1st",
            "AS64496_Example_1_3"
        ]
    );
}

/// Expected: a protocol has the fields `parseNeighbors` reads, with numbers where it wants
/// numbers; imported is what is stored less what is filtered.
#[test]
fn a_protocol_has_what_alice_lg_reads() {
    let mut down = peer("rs-client", RovMode::Drop, CheckModes::default());
    down.up = false;
    down.last_down = Some("hold timer expired".to_string());
    let json = to_value(protocol("rs_client", &down, 2)).unwrap();
    assert_eq!(json["bird_protocol"], "BGP");
    assert_eq!(json["state"], "down");
    assert_eq!(json["neighbor_address"], "192.0.2.7");
    assert_eq!(json["neighbor_as"], 64496);
    assert_eq!(json["description"], "rs-client");
    assert_eq!(json["last_error"], "hold timer expired");
    assert_eq!(json["routes"], json!({"imported": 3, "filtered": 2}));
}

/// Expected: the attributes in birdwatcher's shapes: AS path and MED and LOCAL_PREF as
/// strings, communities as number lists read from the received attributes, rovgate's
/// large communities after the received ones, a route target as `rt`.
#[test]
fn bgp_attributes_in_birdwatcher_shapes() {
    let json = to_value(bgp(&attrs(), &[[64500, 1000, 1]])).unwrap();
    assert_eq!(
        json,
        json!({
            "origin": "IGP",
            "as_path": ["64496", "64511"],
            "next_hop": "192.0.2.7",
            "local_pref": "200",
            "med": "5",
            "communities": [[64496, 7]],
            "large_communities": [[64496, 1, 2], [64500, 1000, 1]],
            "ext_communities": [["rt", "64496", "9"]],
        })
    );
}

/// Expected: a filtered route carries the reasons rovgate marks it with under its peer's
/// modes: RPKI invalid in `drop` -> `rs:1101:13`; in `tag` with a bogon check in `drop` ->
/// the RPKI state tag `rs:1000:4` and `rs:1101:3`.
#[test]
fn a_filtered_route_carries_its_reject_reasons() {
    let tagging = Tagging::euro_ix(64500);
    let p = peer("m", RovMode::Drop, CheckModes::default());
    let route = filtered_route(
        &invalid_path(Failed::default(), true),
        ("m", &p),
        RovState::Invalid,
        &tagging,
    );
    let json = to_value(&route).unwrap();
    assert_eq!(json["network"], "203.0.113.0/24");
    assert_eq!(json["from_protocol"], "m");
    assert_eq!(json["gateway"], "192.0.2.7");
    assert_eq!(json["primary"], false);
    assert_eq!(json["type"], json!(["BGP", "univ"]));
    assert_eq!(json["metric"], 100);
    let large = &json["bgp"]["large_communities"];
    assert_eq!(large, &json!([[64496, 1, 2], [64500, 1101, 13]]));

    let p = peer("m", RovMode::Tag, CheckModes::all(RovMode::Drop));
    let mut bogon = Failed::default();
    bogon.add(Check::Bogon);
    let route = filtered_route(
        &invalid_path(bogon, true),
        ("m", &p),
        RovState::Invalid,
        &tagging,
    );
    let code = Check::Bogon.code();
    assert_eq!(
        route.bgp.large_communities,
        [[64496, 1, 2], [64500, 1000, 4], [64500, 1101, code]]
    );
}

/// Expected: `/routes/noexport` lists a path an action community keeps from the peer only
/// in a family the peer's session carries: for a session of IPv4 alone, the kept IPv4
/// prefix is listed and the kept IPv6 one is not (nothing of IPv6 is sent to it at all).
#[test]
fn noexport_lists_only_the_families_the_peer_carries() {
    let mut kept = attrs();
    kept.actions = Some(Box::new(Actions {
        rs: 64500,
        to_none: true,
        ..Actions::default()
    }));
    let path = RibPath::new(PeerId(1), 0, Arc::new(kept), RovState::NotFound);
    let to = PeerView {
        families: [Family::Ipv4Unicast].into(),
        ..peer("to", RovMode::Shadow, CheckModes::default())
    };
    let (v4, v6): (IpNet, IpNet) = (
        "203.0.113.0/24".parse().unwrap(),
        "2001:db8::/32".parse().unwrap(),
    );
    let paths = [path];
    let listed = |prefix| received::kept_path(prefix, &paths, &to).map(|p| p.peer);
    assert_eq!(listed(&v4), Some(PeerId(1)));
    assert_eq!(listed(&v6), None);
}
