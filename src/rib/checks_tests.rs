//! The IXP import checks in the route path, driven through `Rib`: each mode, a change of
//! modes or data at run time, and a ROA standing in for a missing route object as the VRPs
//! change.

use super::rov_tests::{vrp, Announced, Lab, NO_HOLD};
use super::tests::net;
use super::*;
use crate::policy::{Check, CheckModes, Filters, Irr, NextHopPolicy, RovMode};
use crate::route::Update;
use crate::route::{Asn, NextHop};

const RS_ASN: u32 = 64500;
const PEER: u32 = 64496;

/// Peer 0's filters: an IXP's defaults, any next hop (the test routes carry 192.0.2.1).
fn filters() -> Filters {
    Filters {
        next_hop: NextHopPolicy::Off,
        ..Filters::ixp_defaults(Asn(PEER), "127.0.0.1".parse().unwrap())
    }
}

async fn set_checks(lab: &mut Lab, checks: CheckModes, filters: Filters) {
    let filters = Arc::new(filters);
    let peer = PeerId(0);
    (lab.event(RibEvent::SetChecks {
        peer,
        checks,
        filters,
    }))
    .await;
}

/// Peer 0, its checks in `mode`, announces a clean route and one failing each of four checks.
async fn announced_in(mode: RovMode) -> Lab {
    let mut lab = Lab::new(RovMode::Accept, &[], NO_HOLD).await;
    set_checks(&mut lab, CheckModes::all(mode), filters()).await;
    lab.announce(0, &[PEER], &["1.2.3.0/24", "10.0.0.0/8", "1.2.3.0/25"])
        .await;
    lab.announce(0, &[PEER, 3356, 1], &["5.0.0.0/16"]).await;
    lab.announce(0, &[PEER, 65000], &["6.0.0.0/16"]).await;
    lab
}

fn sorted(mut announced: Announced) -> Announced {
    announced.sort();
    announced
}

#[tokio::test]
async fn each_mode_does_what_it_says_with_failed_checks() {
    let filtered = |code| vec![[RS_ASN, 1101, code]];
    let all = |tags: fn(u32) -> Vec<[u32; 3]>| {
        sorted(vec![
            (net("1.2.3.0/24"), vec![]),
            (net("10.0.0.0/8"), tags(3)),
            (net("1.2.3.0/25"), tags(1)),
            (net("5.0.0.0/16"), tags(14)),
            (net("6.0.0.0/16"), tags(4)),
        ])
    };
    let untagged = all(|_| vec![]);
    let cases = [
        (RovMode::Accept, untagged.clone(), 0),
        (RovMode::Shadow, untagged, 1),
        (RovMode::Tag, all(filtered), 1),
        (RovMode::Drop, vec![(net("1.2.3.0/24"), vec![])], 1),
    ];
    for (mode, expected, counted) in cases {
        let mut lab = announced_in(mode).await;
        assert_eq!(sorted(lab.routes(1).0), expected, "{mode}");
        let failed = lab.peer0().counts.failed;
        for check in [Check::Bogon, Check::PrefixTooLong, Check::TransitFree] {
            assert_eq!(failed.get(check), counted, "{mode} {check:?}");
        }
        assert_eq!(lab.peer0().counts.routes, 5, "{mode}: every path is kept");
    }
}

#[tokio::test]
async fn modes_changed_at_run_time_apply_to_stored_routes() {
    let mut lab = announced_in(RovMode::Accept).await;
    lab.routes(1);
    let mut checks = CheckModes::default();
    checks.set(crate::policy::CheckGroup::BogonPrefix, RovMode::Drop);
    set_checks(&mut lab, checks, filters()).await;
    assert_eq!(lab.routes(1), (vec![], vec![net("10.0.0.0/8")]));
    // The next hop policy tightened: every route of the peer goes.
    let strict = Filters {
        next_hop: NextHopPolicy::Strict,
        ..filters()
    };
    set_checks(&mut lab, CheckModes::all(RovMode::Drop), strict).await;
    let (_, mut withdrawn) = lab.routes(1);
    withdrawn.sort();
    let mut rest = ["1.2.3.0/24", "1.2.3.0/25", "5.0.0.0/16", "6.0.0.0/16"].map(net);
    rest.sort();
    assert_eq!(withdrawn, rest);
    assert_eq!(lab.peer0().counts.failed.get(Check::NextHop), 5);
}

#[tokio::test]
async fn a_valid_roa_stands_in_for_a_missing_route_object() {
    let roa = vrp("7.7.0.0/16", 16, PEER);
    let mut lab = Lab::new(RovMode::Accept, &[roa], NO_HOLD).await;
    let mut irr = Irr::default();
    irr.add_prefixes(r#"{"AS-PEER": [{"prefix": "1.2.0.0/16", "exact": true}]}"#)
        .unwrap();
    let filters = Filters {
        irr: Some(irr),
        ..filters()
    };
    set_checks(&mut lab, CheckModes::all(RovMode::Drop), filters).await;
    lab.announce(0, &[PEER], &["1.2.0.0/16", "7.7.0.0/16", "8.8.0.0/16"])
        .await;
    let mut got: Vec<_> = lab.routes(1).0.into_iter().map(|(p, _)| p).collect();
    got.sort();
    assert_eq!(got, [net("1.2.0.0/16"), net("7.7.0.0/16")], "IRR or ROA");
    let failed = |lab: &Lab| lab.peer0().counts.failed.get(Check::IrrPrefix);
    assert_eq!(failed(&lab), 1, "the ROA's route is not counted as failing");
    // The ROA goes: the route is in no route object any more.
    lab.change_vrps(vec![], vec![roa]).await;
    assert_eq!(lab.routes(1), (vec![], vec![net("7.7.0.0/16")]));
    assert_eq!(failed(&lab), 2);
}

/// A peer's route with BLACKHOLE (65535:666) and `large` communities.
fn blackhole_update(prefix: &str) -> Update {
    let mut attrs = super::tests::attrs(&[PEER], 1);
    let communities = [0xc0, 8, 4, 0xff, 0xff, 0x02, 0x9a];
    attrs.other = bytes::Bytes::from(communities.to_vec());
    attrs.actions = crate::route::Actions::read(RS_ASN, [0xffff_029a], []).map(Box::new);
    Update {
        announced: vec![(attrs, vec![net(prefix)])],
        ..Default::default()
    }
}

#[tokio::test]
async fn a_blackhole_request_of_own_space_goes_out_to_the_blackhole_next_hop() {
    // RPKI invalid as a /32 (the ROA allows /16): a blackhole request is not validated.
    let roa = vrp("1.2.0.0/16", 16, PEER);
    let mut lab = Lab::new(RovMode::Drop, &[roa], NO_HOLD).await;
    let mut irr = Irr::default();
    irr.add_prefixes(r#"{"AS-PEER": [{"prefix": "1.2.0.0/16", "exact": true}]}"#)
        .unwrap();
    let blackhole = "192.0.2.66".parse().unwrap();
    let filters = Filters {
        irr: Some(irr),
        blackhole_v4: Some(blackhole),
        ..filters()
    };
    set_checks(&mut lab, CheckModes::ALL_DROP, filters).await;
    for prefix in ["1.2.3.4/32", "9.9.9.9/32"] {
        let update = blackhole_update(prefix);
        lab.event(RibEvent::Update {
            peer: PeerId(0),
            update,
        })
        .await;
    }
    let sent = lab.exports(1);
    let announced: Vec<_> = (sent.iter())
        .filter_map(|e| match e {
            Export::Announce(a, prefixes) => Some((prefixes.clone(), a.next_hop)),
            _ => None,
        })
        .collect();
    let rewritten = crate::route::NextHop::V4(blackhole);
    assert_eq!(
        announced,
        [(vec![net("1.2.3.4/32")], rewritten)],
        "own space only"
    );
    let announcement = sent.iter().find_map(|e| match e {
        Export::Announce(attrs, _) => Some(attrs),
        _ => None,
    });
    let attrs = announcement.expect("one announcement");
    let tags = attrs.tags.as_ref().expect("tagged");
    assert_eq!(
        tags.blackhole,
        Some(rewritten),
        "NO_EXPORT goes with it on encode"
    );
}

/// RFC 8950: an IPv4 blackhole request with an IPv6 next hop is still an IPv4 route: it
/// goes out to the IPv4 blackhole next hop.
#[tokio::test]
async fn an_ipv4_blackhole_request_with_an_ipv6_next_hop_takes_the_ipv4_blackhole_next_hop() {
    let mut lab = Lab::new(RovMode::Accept, &[], NO_HOLD).await;
    let blackhole = "192.0.2.66".parse().unwrap();
    let filters = Filters {
        blackhole_v4: Some(blackhole),
        ..filters()
    };
    set_checks(&mut lab, CheckModes::ALL_DROP, filters).await;
    let mut update = blackhole_update("1.2.3.4/32");
    update.announced[0].0.next_hop = NextHop::V6("2001:db8::2".parse().unwrap(), None);
    let peer = PeerId(0);
    lab.event(RibEvent::Update { peer, update }).await;
    let next_hops: Vec<_> = (lab.exports(1).iter())
        .filter_map(|e| match e {
            Export::Announce(a, _) => Some(a.next_hop),
            _ => None,
        })
        .collect();
    assert_eq!(next_hops, [NextHop::V4(blackhole)]);
}
