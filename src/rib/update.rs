//! UPDATEs into the Adj-RIB-In: withdrawals removed, announcements checked (first AS,
//! RPKI state, the IXP import checks), shaped by the peer's policy and stored, and the
//! maximum-prefix limit enforced.
//!
//! Where it sits: the RIB task's [`Rib::handle`] calls [`Rib::update`] for each decoded
//! UPDATE a session sends; `stale.rs` removes paths through [`Rib::remove`].

use ipnet::IpNet;
use tracing::{debug, warn};

use super::rov::{checked_prefix, shape};
use super::{Path, Rib, RovStates};
use crate::policy::{check_path, Failed};
use crate::route::{Attrs, Export, Family, Nlri, PeerId, RovState, Update};

impl Rib {
    /// Applies `peer`'s `update`, whose prefixes' RPKI states its session may have looked
    /// up (`states`).
    pub(super) fn update<N: Nlri>(
        &mut self,
        peer: PeerId,
        update: Update<N>,
        states: Option<RovStates>,
    ) {
        let started = std::time::Instant::now();
        self.apply_update(peer, update, states);
        self.timings.update.record(started.elapsed());
    }

    fn apply_update<N: Nlri>(
        &mut self,
        peer: PeerId,
        update: Update<N>,
        states: Option<RovStates>,
    ) {
        for nlri in update.withdrawn {
            self.remove(peer, nlri.prefix(), nlri.path_id());
        }
        // One snapshot for the whole UPDATE, not one load per route; the session's
        // lookups stand if they were made against it.
        let vrps = self.vrps.load();
        let states = states.and_then(|s| s.of(vrps.serial)).unwrap_or_default();
        let mut at = 0;
        for (attrs, prefixes) in update.announced {
            let first = at;
            at += prefixes.len();
            let attrs = self.interned.intern(attrs);
            if !self.peers.first_as_ok(peer, &attrs) {
                debug!(peer = %self.peers.name(peer), path = %attrs.as_path, "first AS is not the peer's: treated as withdrawn");
                (prefixes.into_iter()).for_each(|n| self.remove(peer, n.prefix(), n.path_id()));
                continue;
            }
            // The path's own checks once for the whole group.
            let info = self.peers.info(peer);
            let next_hop = attrs.next_hop.addr();
            let (filters, checks) = (&info.filters, &info.checks);
            let of_path = check_path(filters, checks, &vrps.aspas, &attrs.as_path, next_hop);
            for (i, nlri) in prefixes.into_iter().enumerate() {
                let (prefix, path_id) = (nlri.prefix(), nlri.path_id());
                let state = match states.get(first + i) {
                    Some(&state) => state,
                    None => vrps.table.state(&prefix, attrs.as_path.origin()),
                };
                self.insert((peer, path_id), prefix, attrs.clone(), (state, of_path));
            }
        }
        if let Some(family) = update.end_of_rib {
            debug!(peer = %self.peers.name(peer), ?family, "End-of-RIB received");
            self.purge_stale(peer, Some(family));
            if let Some(delay) = &mut self.delay {
                delay.end_of_rib(peer, family);
            }
        }
    }

    /// Stores `peer`'s path `path_id` for `prefix` in RPKI `state`, failing the path checks
    /// `of_path`.
    fn insert(
        &mut self,
        (peer, path_id): (PeerId, u32),
        prefix: IpNet,
        attrs: Attrs,
        verdict: (RovState, Failed),
    ) {
        let (state, of_path) = verdict;
        if self.peers.over_limit(peer) {
            return;
        }
        // A route re-announced while a held update keeps it (even after a session reset)
        // stays held.
        let held = self.held(prefix, peer);
        let mut path = Path::new(peer, path_id, attrs, state);
        path.held = held;
        let info = self.peers.info(peer);
        path.failed = of_path | checked_prefix(info, prefix, &path);
        let unvalidated = self.wait.holds();
        shape(
            &mut path,
            Family::of(&prefix),
            info,
            &self.tagging,
            &mut self.interned,
            unvalidated,
        );
        self.counts[peer.0 as usize].count(&path, 1);
        match self.table.upsert(prefix, path, &self.peers) {
            Some(old) => self.counts[peer.0 as usize].count(&old, -1),
            None => {
                if let Some(limit) = self.peers.count_route(peer) {
                    warn!(peer = %self.peers.name(peer), limit, "maximum prefixes exceeded: closing the session");
                    // The route past the limit is not taken: undo the insert (the diff of
                    // the two changes is nothing to export).
                    if let Some(path) = self.table.remove(prefix, peer, path_id) {
                        self.counts[peer.0 as usize].count(&path, -1);
                    }
                    self.peers.uncount_route(peer);
                    self.queue_marker(peer, Export::LimitReached(limit));
                }
            }
        }
    }

    pub(super) fn remove(&mut self, peer: PeerId, prefix: IpNet, path_id: u32) {
        if let Some(old) = self.table.remove(prefix, peer, path_id) {
            self.counts[peer.0 as usize].count(&old, -1);
            self.peers.uncount_route(peer);
        }
    }
}
