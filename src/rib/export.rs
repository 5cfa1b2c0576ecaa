//! Per-peer export: what each peer must be told, noted as pending state, and pulled by the
//! peer's writer when its socket takes more.
//!
//! Where it sits: at the end of a batch of events (and before anything that must follow
//! the batch's routes, such as a table dump or a marker) the RIB hands the table's dirty
//! list to [`Peers::export`](super::peers::Peers::export), which diffs each changed prefix
//! once per peer into that peer's [`Pending`](super::pending::Pending) state. Then every
//! peer whose export channel has room gets its next chunk; a peer whose channel is full
//! (its writer has not taken the last chunk) gets nothing until its writer wakes the RIB
//! again. The RIB never awaits a peer.

use ipnet::IpNet;
use tracing::debug;

use super::table::Top2;
use super::Rib;
use crate::route::{Export, Family, PeerId};

/// How many changed prefixes an event that changes many (a peer down, a policy change)
/// lets gather before it diffs them into the pending state, to keep the dirty list small.
const DIRTY_MAX: usize = 16384;

impl Rib {
    /// Notes every prefix of `family` for `peer` (after what changed before): the initial
    /// export, or with `resend` a ROUTE-REFRESH.
    pub(super) fn dump(&mut self, peer: PeerId, family: Family, resend: bool) {
        self.export();
        let Some(pending) = self.peers.pending(peer) else {
            return;
        };
        for (prefix, paths) in self.table.iter(family) {
            let top = Top2::of(paths);
            pending.dump(prefix, top.for_peer(peer).map(|p| &p.attrs), resend);
        }
    }

    /// Diffs what changed since the last time into the peers' pending state.
    pub(super) fn export(&mut self) {
        self.peers.export(self.table.take_dirty());
    }

    /// Diffs what changed into the pending state once many prefixes have changed.
    pub(super) fn export_when_many(&mut self) {
        if self.table.dirty_len() >= DIRTY_MAX {
            self.export();
        }
    }

    /// Queues a marker for `peer` after everything that changed so far.
    pub(super) fn mark(&mut self, peer: PeerId, marker: Export) {
        self.export();
        self.peers.mark(peer, marker);
    }

    /// Ends a batch: broadcasts verdict changes, notes what changed, hands each peer whose
    /// writer has room its next chunk, and publishes the view.
    pub fn flush(&mut self) {
        for change in self.changes.drain(..) {
            // No subscriber is not an error: nobody is listening yet.
            let _ = self.changes_tx.send(change);
        }
        self.export();
        self.send_ready();
        self.publish_view();
    }

    /// Hands each peer whose writer has room its next chunk (a writer took one).
    pub fn send_ready(&mut self) {
        let gone = self.peers.send_ready();
        for peer in gone {
            debug!(peer = %self.peers.name(peer), "session gone before its exports were sent");
        }
    }
}

/// Whether `family` is among a session's negotiated families.
pub fn carries(families: &[Family], prefix: &IpNet) -> bool {
    families.contains(&Family::of(prefix))
}
