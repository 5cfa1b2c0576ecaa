//! Applying ROV policy to stored paths: on arrival, when an operator changes a peer's
//! mode, and when the `[rov]` settings change.
//!
//! Where it sits: inside the RIB task. [`shape`] asks `policy::decide` and sets a path's
//! eligibility and tags (an interned tagged attribute set); the `Rib` methods here re-shape
//! stored paths and export what changed, without touching sessions.

use std::sync::Arc;

use ipnet::IpNet;
use tracing::info;

use super::{Path, PeerInfo, Rib};
use crate::policy::{
    check, check_prefix, decide_all, CheckModes, Failed, Filters, Route, RovMode, Tagging,
};
use crate::rib::MassInvalidation;
use crate::route::{AttrSet, Family, Interner, NextHop, PeerId, RovState};
use crate::rpki::AspaTable;

impl Rib {
    /// Re-applies policy to every path of `peer` (or of every peer) whose decision may
    /// have changed: a new mode or new `[rov]` settings.
    pub(super) fn reshape_peer(&mut self, peer: Option<PeerId>, recheck: bool) {
        // A peer without paths (not up yet, just added) costs no walk of the table.
        if peer.is_some_and(|p| self.counts[p.0 as usize].routes == 0) {
            return;
        }
        for family in Family::ALL {
            let prefixes: Vec<IpNet> = match peer {
                Some(peer) => self.table.prefixes_of(family, peer, |_| true),
                None => self.table.iter(family).map(|(p, _)| p).collect(),
            };
            for prefix in prefixes {
                let which = |path: &Path| peer.is_none_or(|p| p == path.peer);
                self.reshape(prefix, which, false, recheck);
                self.export_when_many();
            }
        }
    }

    /// Re-decides policy for the paths of `prefix` that `which` selects, keeping their
    /// states (releasing them from a hold with `release`; running the import checks again
    /// with `recheck`), and exports what changed.
    pub(super) fn reshape(
        &mut self,
        prefix: IpNet,
        which: impl Fn(&Path) -> bool,
        release: bool,
        recheck: bool,
    ) {
        let snapshot = self.vrps.load();
        let Rib {
            table,
            peers,
            interned,
            tagging,
            counts,
            wait,
            ..
        } = self;
        table.reshape(prefix, &*peers, |path| {
            if !which(path) {
                return false;
            }
            let counts = &mut counts[path.peer.0 as usize];
            counts.count(path, -1);
            path.held &= !release;
            if recheck {
                path.failed = checked(peers.info(path.peer), &snapshot.aspas, prefix, path);
            }
            let family = Family::of(&prefix);
            let changed = shape(
                path,
                family,
                peers.info(path.peer),
                tagging,
                interned,
                wait.holds(),
            );
            counts.count(path, 1);
            changed || release
        });
    }

    pub(super) fn set_policy(&mut self, peer: PeerId, rov: RovMode) {
        let before = self.peers.set_rov(peer, rov);
        if before != rov {
            info!(peer = %self.peers.name(peer), %before, after = %rov, "ROV policy changed: re-evaluating the peer's routes");
            self.reshape_peer(Some(peer), false);
        }
    }

    pub(super) fn set_checks(&mut self, peer: PeerId, checks: CheckModes, filters: Arc<Filters>) {
        info!(peer = %self.peers.name(peer), "import checks changed: checking the peer's routes again");
        self.peers.set_checks(peer, checks, filters);
        self.reshape_peer(Some(peer), true);
    }

    pub(super) fn set_rov_config(&mut self, tagging: Tagging, mass: MassInvalidation) {
        self.mass = mass;
        if tagging != self.tagging {
            info!("ROV communities changed: tagging every route anew");
            self.tagging = tagging;
            self.reshape_peer(None, false);
        }
    }
}

/// Applies the peer's policy to the path's state and failed checks: eligibility and tags;
/// while the VRP set is not complete (`unvalidated`), a path of a peer in `drop` is not
/// eligible (a blackhole request, never origin-validated, is). Returns whether anything the
/// decision process or export sees changed.
pub(super) fn shape(
    path: &mut Path,
    family: Family,
    peer: &PeerInfo,
    tagging: &Tagging,
    interned: &mut Interner,
    unvalidated: bool,
) -> bool {
    let mode = peer.rov;
    path.held &= mode == RovMode::Drop && path.state == RovState::Invalid;
    let verdict = (path.state, path.failed, path.held);
    let received = path.attrs.received();
    let blackhole = (received.blackhole())
        .then(|| peer.filters.blackhole(family))
        .flatten();
    let mut d = decide_all(mode, &peer.checks, verdict, tagging, blackhole);
    d.eligible &= !(unvalidated && mode == RovMode::Drop && blackhole.is_none());
    let blackhole = d.blackhole.map(NextHop::from);
    let untagged = d.large.is_empty() && d.ext.is_none() && blackhole.is_none();
    let same_tags = match path.attrs.tags.as_ref() {
        None => untagged,
        Some(m) => m.large == d.large && m.state == d.ext && m.blackhole == blackhole,
    };
    // A monitored neighbour's path is never selected (so never exported), whatever its
    // policy would do with it.
    let eligible = d.eligible && !peer.monitored;
    let changed = !same_tags || path.eligible != eligible;
    if !same_tags {
        path.attrs = match untagged {
            true => path.attrs.received().clone(),
            false => interned.intern(AttrSet::tagged(&path.attrs, d.large, d.ext, blackhole)),
        };
    }
    path.eligible = eligible;
    changed
}

/// The import checks the peer's policy runs that a path for `prefix` fails, in its RPKI
/// state (run again when the state changes: a valid ROA may stand in for a route object).
pub(super) fn checked(peer: &PeerInfo, aspas: &AspaTable, prefix: IpNet, path: &Path) -> Failed {
    check(&peer.filters, &peer.checks, aspas, route(&prefix, path))
}

/// The checks of [`checked`] that look at the prefix (the path's own were run once for
/// its UPDATE).
pub(super) fn checked_prefix(peer: &PeerInfo, prefix: IpNet, path: &Path) -> Failed {
    check_prefix(&peer.filters, &peer.checks, route(&prefix, path))
}

fn route<'a>(prefix: &'a IpNet, path: &'a Path) -> Route<'a> {
    let attrs = path.attrs.received();
    Route {
        prefix,
        path: &attrs.as_path,
        next_hop: attrs.next_hop.addr(),
        blackhole: attrs.blackhole(),
        state: path.state,
    }
}
