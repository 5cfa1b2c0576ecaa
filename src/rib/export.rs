//! Per-peer export: what each peer should hold, as a diff of a prefix's top two paths.
//!
//! Where it sits: at the end of a batch of events (and before anything that must follow
//! the batch's routes, such as a table dump or a marker) the RIB hands the table's dirty
//! list to [`Peers::export`](super::peers::Peers::export), which diffs each changed prefix
//! once per peer into that peer's [`Outbox`]. The outbox groups the prefixes that share an
//! attribute set; the session's writer packs each group into UPDATEs. A prefix appears once
//! per dirty list, so only its final state within a batch is sent.

use std::sync::Arc;

use foldhash::HashMap;
use ipnet::IpNet;
use tracing::debug;

use super::table::Top2;
use super::Rib;
use crate::route::{Attrs, Export, Family, PeerId};

/// How many changed prefixes an event that changes many (a peer down, a policy change)
/// lets gather before it diffs them into the outboxes, to keep the dirty list small.
const DIRTY_MAX: usize = 16384;

impl Rib {
    /// Queues every peer's announcements for the table dump of `family` to `peer`, after
    /// what changed before.
    pub(super) fn dump(&mut self, peer: PeerId, family: Family) {
        self.export();
        let Some(outbox) = self.peers.outbox(peer) else {
            return;
        };
        for (prefix, paths) in self.table.iter(family) {
            outbox.dump(peer, prefix, &Top2::of(paths));
        }
    }

    /// Diffs what changed since the last time into the peers' outboxes.
    pub(super) fn export(&mut self) {
        self.peers.export(self.table.take_dirty());
    }

    /// Diffs what changed into the outboxes once many prefixes have changed.
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

    /// Sends every peer's waiting exports to its session, broadcasts verdict changes and
    /// publishes the view.
    pub async fn flush(&mut self) {
        for change in self.changes.drain(..) {
            // No subscriber is not an error: nobody is listening yet.
            let _ = self.changes_tx.send(change);
        }
        self.publish_view();
        self.export();
        for (peer, out, exports) in self.peers.take_outboxes() {
            if out.send(exports).await.is_err() {
                debug!(peer = %self.peers.name(peer), "session gone before its exports were sent");
            }
        }
    }
}

/// What one peer will be sent at the end of the current batch.
#[derive(Default)]
pub struct Outbox {
    /// Exports ready to send, in order.
    exports: Vec<Export>,
    /// Withdrawals since the last seal.
    withdrawn: Vec<IpNet>,
    /// Announcements since the last seal, grouped by attribute set.
    announced: Vec<(Attrs, Vec<IpNet>)>,
    /// Attribute set (by address) → its group in `announced`.
    groups: HashMap<usize, usize>,
}

impl Outbox {
    /// Notes what `peer` must be told about `prefix`, which went from `before` to `after`.
    pub fn diff(&mut self, peer: PeerId, prefix: IpNet, before: &Top2, after: &Top2) {
        let id = |t: &Top2| t.for_peer(peer).map(|p| Arc::as_ptr(&p.attrs));
        match (id(before), after.for_peer(peer)) {
            (Some(b), Some(a)) if b == Arc::as_ptr(&a.attrs) => {}
            (_, Some(a)) => self.announce(prefix, &a.attrs),
            (Some(_), None) => self.withdrawn.push(prefix),
            (None, None) => {}
        }
    }

    /// Notes a prefix's current route for `peer` in a full dump (initial export, refresh).
    pub fn dump(&mut self, peer: PeerId, prefix: IpNet, top: &Top2) {
        if let Some(path) = top.for_peer(peer) {
            self.announce(prefix, &path.attrs);
        }
    }

    fn announce(&mut self, prefix: IpNet, attrs: &Attrs) {
        let key = Arc::as_ptr(attrs);
        // Prefixes sharing attributes mostly come one after another: try the last group.
        if let Some((last, prefixes)) = self.announced.last_mut() {
            if Arc::as_ptr(last) == key {
                prefixes.push(prefix);
                return;
            }
        }
        let next = self.announced.len();
        let i = *self.groups.entry(key as usize).or_insert(next);
        if i == next {
            self.announced.push((attrs.clone(), Vec::new()));
        }
        self.announced[i].1.push(prefix);
    }

    /// Turns what was noted since the last seal into exports: withdrawals first, then one
    /// announcement per attribute set. Every prefix was noted at most once since the last
    /// seal, except one withdrawn and then added again, which is withdrawn first.
    pub fn seal(&mut self) {
        if !self.withdrawn.is_empty() {
            self.exports
                .push(Export::Withdraw(std::mem::take(&mut self.withdrawn)));
        }
        self.groups.clear();
        let groups = self.announced.drain(..);
        (self.exports).extend(groups.map(|(attrs, prefixes)| Export::Announce(attrs, prefixes)));
    }

    /// Queues a marker to follow what was noted so far.
    pub fn mark(&mut self, marker: Export) {
        self.seal();
        self.exports.push(marker);
    }

    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.exports.is_empty() && self.withdrawn.is_empty() && self.announced.is_empty()
    }

    /// Empties the outbox into exports.
    pub fn take(&mut self) -> Vec<Export> {
        self.seal();
        std::mem::take(&mut self.exports)
    }
}

/// Whether `family` is among a session's negotiated families.
pub fn carries(families: &[Family], prefix: &IpNet) -> bool {
    families.contains(&Family::of(prefix))
}
