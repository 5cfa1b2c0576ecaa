//! ROV in the route path, driven through `Rib`: each policy mode, re-evaluation when the
//! VRPs change, run-time policy changes and the mass-invalidation hold.

use super::tests::{announce, info, net};
use super::*;
use crate::policy::RovMode;
use crate::route::Asn;
use crate::route::RovState;
use crate::rpki::{SnapshotWriter, Vrp, VrpDelta, VrpsChanged};
use ipnet::IpNet;
use tokio::sync::oneshot;

const RS_ASN: u32 = 64500;

/// Announced prefixes with the large communities rovgate added.
pub(super) type Announced = Vec<(IpNet, Vec<[u32; 3]>)>;

pub(super) fn vrp(prefix: &str, max: u8, asn: u32) -> Vrp {
    Vrp::new(net(prefix), max, Asn(asn)).unwrap()
}

/// A RIB whose peer 0 (AS 64496) uses `mode`; peers 1 and 2 accept. VRPs come from `vrps`.
pub(super) struct Lab {
    pub(super) rib: Rib,
    rx: Vec<mpsc::Receiver<Outgoing>>,
    pub(super) writer: SnapshotWriter,
    changes: broadcast::Receiver<RovChanges>,
}

impl Lab {
    pub(super) async fn new(mode: RovMode, vrps: &[Vrp], mass: MassInvalidation) -> Lab {
        let store = VrpStore::new();
        let mut writer = SnapshotWriter::new(store.clone());
        let added = vrps.to_vec();
        writer.publish(
            VrpDelta {
                added,
                removed: vec![],
            },
            Default::default(),
            Default::default(),
        );
        // Named p0, p1, p2 (the snapshot tests name them), at 127.0.0.1 to .3.
        let peer = |i: u8, rov| PeerInfo {
            name: format!("p{i}"),
            rov,
            ..info(i + 1, 64496 + u32::from(i), None)
        };
        let peers = vec![
            peer(0, mode),
            peer(1, RovMode::Accept),
            peer(2, RovMode::Accept),
        ];
        let tagging = Tagging::euro_ix(RS_ASN);
        let mut rib = Rib::new(peers, store, tagging, mass);
        let changes = rib.subscribe();
        let mut rx = Vec::new();
        for i in 0..3 {
            let (tx, r) = mpsc::channel(64);
            let families = Family::ALL.to_vec();
            rib.handle(RibEvent::PeerUp {
                peer: PeerId(i),
                families,
                add_path: vec![],
                out: tx,
                session: Default::default(),
            });
            rx.push(r);
        }
        let mut lab = Lab {
            rib,
            rx,
            writer,
            changes,
        };
        lab.settle().await;
        lab.routes(2);
        lab
    }

    /// Peer `peer` announces `prefixes` with this AS path.
    pub(super) async fn announce(&mut self, peer: u32, path: &[u32], prefixes: &[&str]) {
        let update = announce(path, prefixes);
        self.rib.handle(RibEvent::Update {
            peer: PeerId(peer),
            update,
        });
        self.settle().await;
    }

    /// Publishes a VRP change and re-evaluates until done.
    pub(super) async fn change_vrps(&mut self, added: Vec<Vrp>, removed: Vec<Vrp>) {
        let delta = VrpDelta { added, removed };
        let prefixes = delta.changed_prefixes();
        let first = self.rib.vrps.load().table.is_empty();
        let (serial, _) = self
            .writer
            .publish(delta, Default::default(), Default::default());
        self.rib.vrps_changed(VrpsChanged {
            serial,
            prefixes,
            first,
            complete: true,
            aspas: false,
        });
        self.settle().await;
    }

    pub(super) async fn event(&mut self, event: RibEvent) {
        self.rib.handle(event);
        self.settle().await;
    }

    pub(super) async fn settle(&mut self) {
        while self.rib.reevaluating() {
            self.rib.reevaluate_step();
        }
        self.rib.flush();
    }

    /// What peer `i` was sent since the last call.
    pub(super) fn exports(&mut self, i: usize) -> Vec<Export> {
        let mut exports = Vec::new();
        while let Ok(batch) = self.rx[i].try_recv() {
            exports.extend(batch.into_exports());
        }
        exports
    }

    /// What peer `i` was sent since the last call: announced (prefix, tags), withdrawn.
    pub(super) fn routes(&mut self, i: usize) -> (Announced, Vec<IpNet>) {
        let (mut ann, mut wd) = (Vec::new(), Vec::new());
        for e in self.exports(i) {
            match e {
                Export::Announce(a, ps) => {
                    let tags = a.tags.as_ref().map_or(vec![], |m| m.large.clone());
                    ann.extend(ps.into_iter().map(|p| (p, tags.clone())));
                }
                Export::Withdraw(ps) => wd.extend(ps),
                _ => {}
            }
        }
        (ann, wd)
    }

    pub(super) fn peer0(&self) -> PeerView {
        self.rib.view().load().peers[0].clone()
    }
}

pub(super) const NO_HOLD: MassInvalidation = MassInvalidation {
    share_ppm: 1_000_000,
    peers: usize::MAX,
    min_routes: usize::MAX,
    hold: None,
};

/// 192.0.2.0/24 may only be originated by AS 65001; peer 0 announces it from AS 65002
/// (invalid) and 198.51.100.0/24 (not found).
async fn invalid_from_peer0(mode: RovMode) -> Lab {
    let mut lab = Lab::new(mode, &[vrp("192.0.2.0/24", 24, 65001)], NO_HOLD).await;
    lab.announce(0, &[64496, 65002], &["192.0.2.0/24"]).await;
    lab.announce(0, &[64496, 65002], &["198.51.100.0/24"]).await;
    lab
}

#[tokio::test]
async fn each_mode_does_what_it_says_with_an_invalid_route() {
    let invalid = net("192.0.2.0/24");
    let not_found = net("198.51.100.0/24");
    let cases: [(RovMode, Announced, u64, u64); 4] = [
        (
            RovMode::Accept,
            vec![(invalid, vec![]), (not_found, vec![])],
            0,
            1,
        ),
        (
            RovMode::Shadow,
            vec![(invalid, vec![]), (not_found, vec![])],
            0,
            1,
        ),
        (
            RovMode::Tag,
            vec![
                (invalid, vec![[RS_ASN, 1000, 4]]),
                (not_found, vec![[RS_ASN, 1000, 2]]),
            ],
            0,
            1,
        ),
        (RovMode::Drop, vec![(not_found, vec![])], 1, 0),
    ];
    for (mode, expected, dropped, would_drop) in cases {
        let mut lab = invalid_from_peer0(mode).await;
        assert_eq!(lab.routes(1).0, expected, "{mode}: what peer 1 gets");
        let view = lab.peer0();
        assert_eq!((view.counts.routes, view.counts.invalid), (2, 1), "{mode}");
        assert_eq!(view.counts.not_found, 1, "{mode}");
        assert_eq!(view.counts.dropped, dropped, "{mode}");
        assert_eq!(view.would_drop, would_drop, "{mode}");
    }
}

#[tokio::test]
async fn a_dropped_route_stays_in_adj_rib_in_with_its_filtered_reason() {
    let lab = invalid_from_peer0(RovMode::Drop).await;
    let paths = lab.rib.table.paths(&net("192.0.2.0/24"));
    assert_eq!(paths.len(), 1);
    let p = &paths[0];
    assert!(!p.eligible && p.state == RovState::Invalid);
    let tags = p.attrs.tags.as_ref().expect("tagged");
    assert_eq!(tags.large, vec![[RS_ASN, 1101, 13]]);
}

#[tokio::test]
async fn tagged_routes_carry_the_rfc_8097_state() {
    let mut lab = invalid_from_peer0(RovMode::Tag).await;
    let mut batches = Vec::new();
    while let Ok(batch) = lab.rx[1].try_recv() {
        batches.extend(batch.into_exports());
    }
    let states: Vec<_> = batches
        .iter()
        .filter_map(|e| match e {
            Export::Announce(a, _) => a.tags.as_ref().and_then(|m| m.state),
            _ => None,
        })
        .collect();
    assert!(states.contains(&RovState::Invalid) && states.contains(&RovState::NotFound));
}

#[tokio::test]
async fn a_valid_path_wins_when_the_better_invalid_one_is_dropped() {
    let mut lab = Lab::new(RovMode::Drop, &[vrp("192.0.2.0/24", 24, 65001)], NO_HOLD).await;
    // Peer 0's path is shorter but invalid; peer 1's longer path is valid.
    lab.announce(0, &[64496, 65002], &["192.0.2.0/24"]).await;
    lab.announce(1, &[64497, 64999, 65001], &["192.0.2.0/24"])
        .await;
    let (ann, _) = lab.routes(2);
    assert_eq!(ann, vec![(net("192.0.2.0/24"), vec![])]);
    let best = lab.rib.table.paths(&net("192.0.2.0/24"))[0].clone();
    assert_eq!(best.peer, PeerId(1));
}

#[tokio::test]
async fn vrp_changes_withdraw_and_restore_routes_without_a_refresh() {
    let v = vrp("192.0.2.0/24", 24, 65002);
    let mut lab = Lab::new(RovMode::Drop, &[v], NO_HOLD).await;
    lab.announce(0, &[64496, 65002], &["192.0.2.0/25"]).await;
    // /25 is longer than maxLength 24: invalid, never exported.
    assert_eq!(lab.routes(1), (vec![], vec![]));
    // Raise maxLength: valid, announced.
    let longer = vrp("192.0.2.0/24", 25, 65002);
    lab.change_vrps(vec![longer], vec![v]).await;
    assert_eq!(lab.routes(1).0, vec![(net("192.0.2.0/25"), vec![])]);
    let batch = lab.changes.try_recv().unwrap();
    assert_eq!((batch.first, batch.changes.len()), (0, 1));
    let change = &batch.changes[0];
    assert_eq!(
        (change.before, change.after, change.prefix, change.origin),
        (
            RovState::Invalid,
            RovState::Valid,
            net("192.0.2.0/25"),
            Some(Asn(65002))
        )
    );
    assert_eq!(change.vrps, vec![longer]);
    // Back: withdrawn again.
    lab.change_vrps(vec![v], vec![longer]).await;
    assert_eq!(lab.routes(1).1, vec![net("192.0.2.0/25")]);
    // Unrelated VRPs change nothing and emit nothing.
    lab.change_vrps(vec![vrp("203.0.113.0/24", 24, 1)], vec![])
        .await;
    assert_eq!(lab.routes(1), (vec![], vec![]));
    assert!(lab.changes.try_recv().is_ok(), "the change back");
    assert!(
        lab.changes.try_recv().is_err(),
        "nothing for the unrelated VRP"
    );
}

#[tokio::test]
async fn switching_a_peer_to_drop_and_back_re_exports_its_routes() {
    let mut lab = invalid_from_peer0(RovMode::Shadow).await;
    lab.routes(1);
    let (peer, rov) = (PeerId(0), RovMode::Drop);
    lab.event(RibEvent::SetPolicy { peer, rov }).await;
    assert_eq!(lab.routes(1), (vec![], vec![net("192.0.2.0/24")]));
    assert_eq!(lab.peer0().rov, RovMode::Drop);
    let rov = RovMode::Tag;
    lab.event(RibEvent::SetPolicy { peer, rov }).await;
    let (mut ann, _) = lab.routes(1);
    ann.sort();
    let expected = vec![
        (net("192.0.2.0/24"), vec![[RS_ASN, 1000, 4]]),
        (net("198.51.100.0/24"), vec![[RS_ASN, 1000, 2]]),
    ];
    assert_eq!(ann, expected);
}

#[tokio::test]
async fn a_mass_invalidation_is_held_until_accepted() {
    let mass = MassInvalidation {
        share_ppm: 100_000, // 10%
        peers: 10,
        min_routes: 2,
        hold: None,
    };
    let cover = vrp("10.0.0.0/8", 24, 64496);
    let mut lab = Lab::new(RovMode::Drop, &[cover], mass).await;
    let prefixes: Vec<String> = (0..5).map(|i| format!("10.{i}.0.0/24")).collect();
    let refs: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    lab.announce(0, &[64496], &refs).await;
    lab.announce(0, &[64496], &["192.0.2.0/24"]).await;
    assert_eq!(lab.routes(1).0.len(), 6);
    // A ROA for another AS replaces the covering one: five of six routes turn invalid.
    lab.change_vrps(vec![vrp("10.0.0.0/8", 24, 65000)], vec![cover])
        .await;
    let held = lab.rib.view().load().held_update.clone().expect("held");
    assert_eq!((held.routes, held.peers), (5, 1));
    assert_eq!(lab.routes(1), (vec![], vec![]), "nothing dropped yet");
    assert_eq!(lab.peer0().counts.held, 5);
    assert_eq!(lab.peer0().would_drop, 5);
    // Re-announcing a held route keeps it held.
    lab.announce(0, &[64496, 64496], &["10.0.0.0/24"]).await;
    assert_eq!(lab.routes(1).0.len(), 1);
    assert_eq!(lab.peer0().counts.held, 5);
    let (reply, accepted) = oneshot::channel();
    lab.event(RibEvent::AcceptVrps { reply }).await;
    assert!(accepted.await.unwrap());
    let (_, mut withdrawn) = lab.routes(1);
    withdrawn.sort();
    assert_eq!(withdrawn.len(), 5);
    assert!(lab.rib.view().load().held_update.is_none());
    assert_eq!(lab.peer0().counts.dropped, 5);
    // Nothing held: accepting again says so.
    let (reply, accepted) = oneshot::channel();
    lab.event(RibEvent::AcceptVrps { reply }).await;
    assert!(!accepted.await.unwrap());
}

#[tokio::test]
async fn the_first_vrps_are_never_held() {
    let mass = MassInvalidation {
        share_ppm: 1,
        peers: 0,
        min_routes: 1,
        hold: None,
    };
    let mut lab = Lab::new(RovMode::Drop, &[], mass).await;
    lab.announce(0, &[64496], &["192.0.2.0/24", "198.51.100.0/24"])
        .await;
    lab.routes(1);
    // The cache syncs after the routes arrived: both turn invalid and are dropped at once.
    let vrps = vec![vrp("192.0.2.0/24", 24, 1), vrp("198.51.100.0/24", 24, 1)];
    lab.change_vrps(vrps, vec![]).await;
    assert!(lab.rib.view().load().held_update.is_none());
    assert_eq!(lab.routes(1).1.len(), 2);
}

#[tokio::test]
async fn a_held_update_applies_itself_when_its_hold_time_ends() {
    let mass = MassInvalidation {
        share_ppm: 1,
        peers: 10,
        min_routes: 1,
        hold: Some(Duration::from_secs(60)),
    };
    let v = vrp("192.0.2.0/24", 24, 64496);
    let mut lab = Lab::new(RovMode::Drop, &[v], mass).await;
    lab.announce(0, &[64496], &["192.0.2.0/24"]).await;
    lab.routes(1);
    lab.change_vrps(vec![vrp("192.0.2.0/24", 24, 1)], vec![v])
        .await;
    assert_eq!(lab.routes(1), (vec![], vec![]), "held");
    let deadline = lab.rib.next_deadline().expect("the hold's deadline");
    lab.rib.tick(deadline);
    lab.settle().await;
    assert_eq!(lab.routes(1).1, vec![net("192.0.2.0/24")]);
}

#[tokio::test]
async fn losing_every_vrp_fails_open_to_not_found() {
    let v = vrp("192.0.2.0/24", 24, 65001);
    let mut lab = invalid_from_peer0(RovMode::Drop).await;
    lab.routes(1);
    // Caches past expire withdraw their VRPs: the dropped route becomes not-found, exported.
    lab.change_vrps(vec![], vec![v]).await;
    assert_eq!(lab.routes(1).0, vec![(net("192.0.2.0/24"), vec![])]);
    assert_eq!(lab.peer0().counts.invalid, 0);
}
