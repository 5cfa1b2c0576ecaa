//! The mass-invalidation hold: routes a held VRP update would newly drop stay eligible
//! (shadow) until an operator accepts the update or its hold time passes.
//!
//! Where it sits: inside the RIB task. `reevaluate.rs` decides that a pass is held and
//! adds the paths it keeps; the hold remembers them by (prefix, peer), so a route the peer
//! withdraws and announces again (a session reset) is still held; a path that turns valid
//! or not-found leaves the hold, and a hold with no path left ends by itself.

use std::time::{Duration, SystemTime};

use foldhash::HashSet;
use ipnet::IpNet;
use tokio::time::Instant;
use tracing::info;

use super::view::HoldView;
use super::Rib;
use crate::route::PeerId;

/// The mass-invalidation guard: a VRP update that would newly drop at least `min_routes`
/// routes, and either more than `share_ppm` of all stored routes or routes from more than
/// `peers` peers, is applied as shadow only until an operator accepts it or `hold` passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MassInvalidation {
    /// The share of all stored routes, parts per million (config key `mass_invalidation_percent`,
    /// a percentage above 0 and at most 100; default 0.1 %, 1000 ppm).
    pub share_ppm: u32,
    /// The number of peers (config key `mass_invalidation_peers`, at least 1, default 10).
    pub peers: usize,
    /// An update newly dropping fewer routes is never held (key
    /// `mass_invalidation_min_routes`, default 100).
    pub min_routes: usize,
    /// How long an update is held (config key `mass_invalidation_hold_seconds`, default 3600);
    /// none (0 in the file): until an operator accepts it.
    pub hold: Option<Duration>,
}

impl Default for MassInvalidation {
    /// 0.1 % of routes or 10 peers, at least 100 routes, held for an hour.
    fn default() -> Self {
        MassInvalidation {
            share_ppm: 1000,
            peers: 10,
            min_routes: 100,
            hold: Some(Duration::from_secs(3600)),
        }
    }
}

impl MassInvalidation {
    /// Whether newly dropping `routes` routes of `total`, from `peers` peers, is a mass
    /// invalidation.
    pub(super) fn holds(&self, routes: usize, peers: usize, total: u64) -> bool {
        let share = routes as u128 * 1_000_000 > u128::from(self.share_ppm) * u128::from(total);
        routes >= self.min_routes && (share || peers > self.peers)
    }
}

/// A VRP update (or several) held back as a mass invalidation.
pub(super) struct Hold {
    since: SystemTime,
    serial: u64,
    /// When it is applied without an operator.
    pub deadline: Option<Instant>,
    /// The held routes: (prefix, peer).
    paths: HashSet<(IpNet, PeerId)>,
}

impl Hold {
    /// Whether `peer`'s route for `prefix` is held.
    pub fn holds(&self, prefix: IpNet, peer: PeerId) -> bool {
        self.paths.contains(&(prefix, peer))
    }

    /// Holds `peer`'s route for `prefix`.
    pub fn insert(&mut self, prefix: IpNet, peer: PeerId) {
        self.paths.insert((prefix, peer));
    }

    /// Lets go of `peer`'s route for `prefix` (it is not invalid any more).
    pub fn remove(&mut self, prefix: IpNet, peer: PeerId) {
        self.paths.remove(&(prefix, peer));
    }

    /// Lets go of every route of `peer` (it was removed).
    pub fn forget(&mut self, peer: PeerId) {
        self.paths.retain(|&(_, p)| p != peer);
    }

    /// What the view shows of it.
    pub fn view(&self) -> HoldView {
        let left = (self.deadline).map(|d| d.saturating_duration_since(Instant::now()));
        let peers: HashSet<PeerId> = self.paths.iter().map(|(_, p)| *p).collect();
        HoldView {
            since: Some(self.since),
            serial: self.serial,
            routes: self.paths.len(),
            peers: peers.len(),
            until: left.map(|l| SystemTime::now() + l),
        }
    }
}

impl Rib {
    /// A pass for snapshot `serial` is held: starts a hold, or joins the one in force (the
    /// later update's hold time counts from now).
    pub(super) fn start_hold(&mut self, serial: u64) {
        let deadline = self.mass.hold.map(|h| Instant::now() + h);
        let hold = self.hold.get_or_insert_with(|| Hold {
            since: SystemTime::now(),
            serial,
            deadline,
            paths: HashSet::default(),
        });
        hold.serial = serial;
        hold.deadline = hold.deadline.max(deadline);
    }

    /// Whether `peer`'s route for `prefix` is held.
    pub(super) fn held(&self, prefix: IpNet, peer: PeerId) -> bool {
        self.hold.as_ref().is_some_and(|h| h.holds(prefix, peer))
    }

    /// Ends a hold that no longer keeps any route.
    pub(super) fn release_empty_hold(&mut self) {
        if let Some(hold) = self.hold.take_if(|h| h.paths.is_empty()) {
            info!(
                serial = hold.serial,
                "held VRP update released: the routes it held are no longer invalid"
            );
        }
    }

    /// Applies a held VRP update: its invalid routes are dropped now. Returns whether one
    /// was held.
    pub(super) fn accept_held(&mut self, why: &str) -> bool {
        let Some(hold) = self.hold.take() else {
            return false;
        };
        info!(
            serial = hold.serial,
            routes = hold.paths.len(),
            why,
            "held VRP update applied: its invalid routes are dropped now"
        );
        for (prefix, peer) in hold.paths {
            self.reshape(prefix, |p| p.peer == peer && p.held, true, false);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mass_invalidation_needs_the_floor_and_a_share_or_peer_count() {
        let mass = MassInvalidation {
            share_ppm: 1000,
            peers: 2,
            min_routes: 10,
            hold: None,
        };
        let cases = [
            ("below the floor", 9, 9, 100, false),
            ("over 0.1% of routes", 11, 1, 10_000, true),
            ("under 0.1%, few peers", 11, 2, 1_000_000, false),
            ("under 0.1%, many peers", 11, 3, 1_000_000, true),
        ];
        for (name, routes, peers, total, held) in cases {
            assert_eq!(mass.holds(routes, peers, total), held, "{name}");
        }
    }
}
