//! Export: what each peer must be told, shared while it keeps up, noted as pending state
//! of its own when it does not.
//!
//! Where it sits: at the end of a batch of events (and before anything that must follow
//! the batch's routes, such as a table dump or a marker) the RIB hands the table's dirty
//! list to [`Peers::export`](super::peers::Peers::export) as one shared batch. Every peer
//! that keeps up (nothing pending, room in its export channel) is sent the batch itself,
//! an `Arc`, and its writer works out its own view of it ([`Outgoing::into_exports`]): one
//! update group of everyone in step, at the cost of one pointer per peer for the RIB. A
//! peer whose channel is full falls behind: the batch is diffed into its own
//! [`Pending`](super::pending::Pending) state, and so is every batch after, until its
//! writer has pulled all of it (a chunk each time it wakes the RIB). The RIB never awaits
//! a peer.

use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use ipnet::IpNet;
use tracing::{debug, info};

use super::delay::UpdateDelay;
use super::pending::exports_of;
use super::table::{Dirty, Receiver, Top2};
use super::{Rib, RovChange, RovChanges};
use crate::route::{Export, Family, PeerId};

/// What a session's writer takes from the RIB.
#[derive(Debug)]
pub enum Outgoing {
    /// Exports for this peer alone: its pending state (a table dump, what it fell behind
    /// on, a marker).
    Own(Vec<Export>),
    /// A batch of changes shared by every peer in step, for this peer with these families.
    Shared {
        batch: Arc<Batch>,
        peer: Receiver,
        families: Arc<[Family]>,
    },
}

impl Outgoing {
    /// The exports for the peer.
    pub fn into_exports(self) -> Vec<Export> {
        match self {
            Outgoing::Own(exports) => exports,
            Outgoing::Shared {
                batch,
                peer,
                families,
            } => exports_of(&batch.changes, peer, &families),
        }
    }
}

/// UPDATE messages, as a writer encoded them.
pub type Encoded = Arc<Vec<Bytes>>;

/// A batch of changed prefixes, shared by the peers in step: their update group. Every
/// peer sees the same changes except the peers whose own path is the best before or after
/// one of them (they are sent the second best instead) and the peers that action
/// communities treat apart (see `Apart`), so the others share one encoding per kind of
/// session.
#[derive(Debug)]
pub struct Batch {
    changes: Vec<Dirty>,
    /// The peers that see the batch in a view of their own.
    apart: OnceLock<Apart>,
    /// The common view's UPDATEs per encoding (the writer's key for its capabilities and
    /// families).
    encoded: Mutex<Vec<(u64, Encoded)>>,
}

impl Batch {
    /// A batch of these changes.
    pub(super) fn new(changes: Vec<Dirty>) -> Self {
        Batch {
            changes,
            apart: OnceLock::new(),
            encoded: Mutex::new(Vec::new()),
        }
    }

    /// The changes, in order.
    pub(super) fn changes(&self) -> impl Iterator<Item = &Dirty> {
        self.changes.iter()
    }

    /// The common view's UPDATEs for a writer with encoding `key` (made by the first
    /// writer with that key, by `encode`); `None` for a peer that sees the batch in a
    /// view of its own.
    pub fn encoded(
        &self,
        to: Receiver,
        families: &[Family],
        key: u64,
        encode: impl FnOnce(&[Export]) -> Vec<Bytes>,
    ) -> Option<Encoded> {
        if self.apart.get_or_init(|| Apart::of(&self.changes)).has(to) {
            return None;
        }
        // A writer never panics holding the lock; if one did, its entry is still good.
        let mut encoded = self.encoded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, msgs)) = encoded.iter().find(|(k, _)| *k == key) {
            return Some(msgs.clone());
        }
        let msgs = Arc::new(encode(&exports_of(&self.changes, to, families)));
        encoded.push((key, msgs.clone()));
        Some(msgs)
    }
}

/// The peers that see a batch unlike the others (sorted): for each change, the owners of
/// the best path and of every next one while the path before goes to nobody unnamed
/// (`rs:0:0`: the others get the next), and the ASes the action communities of those paths
/// name. Every other peer gets the same view of each change.
#[derive(Debug)]
struct Apart {
    owners: Vec<PeerId>,
    named: Vec<u32>,
}

impl Apart {
    fn of(changes: &[Dirty]) -> Apart {
        let (mut owners, mut named) = (Vec::new(), Vec::new());
        for top in changes.iter().flat_map(|d| [&d.before, &d.after]) {
            for path in top.paths() {
                owners.push(path.peer);
                let Some(actions) = path.attrs.actions.as_deref() else {
                    break;
                };
                named.extend(actions.named());
                if !actions.to_none {
                    break;
                }
            }
        }
        owners.sort_unstable();
        owners.dedup();
        named.sort_unstable();
        named.dedup();
        Apart { owners, named }
    }

    fn has(&self, to: Receiver) -> bool {
        self.owners.binary_search(&to.peer).is_ok() || self.named.binary_search(&to.asn.0).is_ok()
    }
}

/// How many changed prefixes an event that changes many (a peer down, a policy change)
/// lets gather before it exports them, to keep batches small.
const DIRTY_MAX: usize = 16384;

impl Rib {
    /// Notes every prefix of `family` for `peer` again (after what changed before), though
    /// it may hold them already: a ROUTE-REFRESH.
    pub(super) fn refresh(&mut self, peer: PeerId, family: Family) {
        self.export();
        if let Some(paths) = self.peers.add_paths(peer, family) {
            return paths.resend(family);
        }
        let to = self.peers.receiver(peer);
        let Some(pending) = self.peers.pending(peer) else {
            return;
        };
        for (prefix, paths) in self.table.iter(family) {
            let top = Top2::of(paths);
            pending.resend(prefix, top.for_peer(to).map(|p| &p.attrs));
        }
    }

    /// Sends what changed since the last time to the peers in step, and diffs it into the
    /// pending state of the others.
    pub(super) fn export(&mut self) {
        let dirty = self.table.take_dirty();
        self.publish_changes(&dirty);
        // During the update delay nobody is sent changes: the dump at its end has them.
        if self.delay.is_none() {
            self.peers.export(dirty, &self.table);
        }
        self.note_changes();
    }

    /// Exports what changed once many prefixes have changed.
    pub(super) fn export_when_many(&mut self) {
        if self.table.dirty_len() >= DIRTY_MAX {
            self.export();
        }
    }

    /// Queues a marker for `peer` after everything that changed so far.
    pub(super) fn queue_marker(&mut self, peer: PeerId, marker: Export) {
        self.export();
        self.peers.queue_marker(peer, marker);
    }

    /// Ends a batch: broadcasts verdict changes, notes what changed, hands each peer whose
    /// writer has room its next chunk, and publishes the view.
    pub fn flush(&mut self) {
        if !self.changes.is_empty() {
            let changes: Arc<[RovChange]> = std::mem::take(&mut self.changes).into();
            let first = self.changes_sent;
            self.changes_sent += changes.len() as u64;
            // No subscriber is not an error: nobody is listening yet.
            let _ = self.changes_tx.send(RovChanges { first, changes });
        }
        self.export();
        self.end_delay_when_due();
        self.note_large_table();
        self.send_dumps();
        self.send_ready();
        self.publish_view();
    }

    /// Ends the update delay once every configured peer has sent its table.
    fn end_delay_when_due(&mut self) {
        if self.delay.as_ref().is_some_and(UpdateDelay::all_in) {
            self.end_delay();
        }
    }

    /// Ends the update delay: every established peer gets its table dump.
    pub(super) fn end_delay(&mut self) {
        let Some(delay) = self.delay.take() else {
            return;
        };
        self.note_changes();
        let missing = delay.missing();
        info!(
            missing,
            "update delay over: sending the table to every peer up"
        );
        for (peer, families) in self.peers.established() {
            families.iter().for_each(|&f| self.start_dump(peer, f));
        }
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
