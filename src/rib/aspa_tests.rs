//! ASPA verification in the route path, driven through `Rib`: each mode with a leaked
//! path, and a dropped path coming back when the ASPAs change.

use super::rov_tests::{Lab, NO_HOLD};
use super::tests::net;
use super::*;
use crate::policy::{Check, CheckGroup, CheckModes, Filters, RovMode};
use crate::route::Asn;
use crate::rpki::{Aspa, AspaTable, VrpDelta, VrpsChanged};

const RS_ASN: u32 = 64500;
const PEER: u32 = 64496;

fn aspa(customer: u32, providers: &[u32]) -> Aspa {
    Aspa {
        customer: Asn(customer),
        providers: providers.iter().map(|&p| Asn(p)).collect(),
    }
}

impl Lab {
    /// Publishes these ASPAs (VRPs unchanged) and lets the RIB verify again.
    async fn change_aspas(&mut self, aspas: Vec<Aspa>) {
        let (serial, _) = (self.writer).publish(
            VrpDelta::default(),
            AspaTable::new(aspas),
            Default::default(),
        );
        self.rib.vrps_changed(VrpsChanged {
            serial,
            prefixes: vec![],
            first: false,
            complete: true,
            aspas: true,
        });
        self.settle().await;
    }
}

/// Peer 0 (a route-server client: upstream procedure), ASPA in `mode`, announces a leak
/// (AS 65001's ASPA lists only 65002, not the peer), a path with no ASPA on it (Unknown)
/// and one its customer's ASPA attests (Valid).
async fn leaked_in(mode: RovMode) -> Lab {
    let mut lab = Lab::new(RovMode::Accept, &[], NO_HOLD).await;
    lab.change_aspas(vec![aspa(65001, &[65002]), aspa(65003, &[PEER])])
        .await;
    let mut checks = CheckModes::default();
    checks.set(CheckGroup::Aspa, mode);
    let filters = Arc::new(Filters::ixp_defaults(
        Asn(PEER),
        "127.0.0.1".parse().unwrap(),
    ));
    (lab.event(RibEvent::SetChecks {
        peer: PeerId(0),
        checks,
        filters,
    }))
    .await;
    lab.announce(0, &[PEER, 65001], &["192.0.2.0/24"]).await;
    lab.announce(0, &[PEER, PEER, 65004], &["198.51.100.0/24"])
        .await;
    lab.announce(0, &[PEER, 65003], &["203.0.113.0/24"]).await;
    lab
}

#[tokio::test]
async fn each_mode_does_what_it_says_with_a_leaked_path() {
    let (leak, unknown, valid) = (
        net("192.0.2.0/24"),
        net("198.51.100.0/24"),
        net("203.0.113.0/24"),
    );
    let untagged = vec![(leak, vec![]), (unknown, vec![]), (valid, vec![])];
    let cases = [
        (RovMode::Accept, untagged.clone(), 0),
        (RovMode::Shadow, untagged, 1),
        (
            RovMode::Tag,
            vec![
                (leak, vec![[RS_ASN, 1101, 16]]),
                (unknown, vec![]),
                (valid, vec![]),
            ],
            1,
        ),
        (RovMode::Drop, vec![(unknown, vec![]), (valid, vec![])], 1),
    ];
    for (mode, expected, failed) in cases {
        let mut lab = leaked_in(mode).await;
        assert_eq!(lab.routes(1).0, expected, "{mode}: what peer 1 gets");
        let view = lab.peer0();
        assert_eq!(view.counts.failed.get(Check::Aspa), failed, "{mode}");
        assert_eq!(view.counts.routes, 3, "{mode}: every path is kept");
    }
}

#[tokio::test]
async fn a_dropped_path_comes_back_when_the_aspas_change() {
    let mut lab = leaked_in(RovMode::Drop).await;
    lab.routes(1);
    // The looking glass and the report name the hop.
    let why = "AS65001 has an ASPA that does not list AS64496 as a provider";
    let (_, views) = lab.rib.lookup(net("192.0.2.0/24"));
    assert_eq!(views[0].aspa.as_deref(), Some(why));
    let listed = lab.rib.invalid_paths();
    let listed: Vec<_> = listed
        .iter()
        .map(|p| (p.prefix, p.aspa.as_deref()))
        .collect();
    assert_eq!(listed, [(net("192.0.2.0/24"), Some(why))]);
    // AS 65001 adds the peer as a provider: the path is no leak any more.
    lab.change_aspas(vec![aspa(65001, &[65002, PEER]), aspa(65003, &[PEER])])
        .await;
    assert_eq!(lab.routes(1), (vec![(net("192.0.2.0/24"), vec![])], vec![]));
    assert_eq!(lab.peer0().counts.failed.get(Check::Aspa), 0);
    // AS 65004 publishes an ASPA without the peer: its path goes.
    lab.change_aspas(vec![aspa(65001, &[PEER]), aspa(65004, &[65005])])
        .await;
    assert_eq!(lab.routes(1), (vec![], vec![net("198.51.100.0/24")]));
    assert_eq!(lab.peer0().counts.failed.get(Check::Aspa), 1);
}
