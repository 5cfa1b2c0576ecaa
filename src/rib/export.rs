//! Per-peer export: what each peer should hold, as a diff of a prefix's top two paths.
//!
//! Where it sits: the RIB task turns every table [`Change`] into outbox entries here; at the
//! end of a batch of events each outbox becomes a list of `Export`s (prefixes that share an
//! attribute set grouped together) sent to the peer's session, which packs them into
//! UPDATEs. Only the final state of a prefix within a batch is sent.

use foldhash::HashMap;
use std::sync::Arc;

use ipnet::IpNet;

use super::table::{Change, Top2};
use crate::route::{Attrs, Export, Family, PeerId};

/// What one peer will be sent at the end of the current batch.
#[derive(Default)]
pub struct Outbox {
    /// Prefix → attributes to announce, or `None` to withdraw.
    routes: HashMap<IpNet, Option<Attrs>>,
    /// Markers (End-of-RIB, end of refresh, limit reached) sent after the routes.
    markers: Vec<Export>,
}

impl Outbox {
    /// Records what `peer` must be told about `prefix` after `change`, if anything.
    pub fn record(&mut self, peer: PeerId, prefix: IpNet, change: &Change) {
        let before = change.before.for_peer(peer);
        let after = change.after.for_peer(peer);
        match (before, after) {
            (Some(b), Some(a)) if b == Arc::as_ptr(&a.attrs) as usize => {}
            (_, Some(a)) => {
                self.routes.insert(prefix, Some(a.attrs.clone()));
            }
            (Some(_), None) => {
                self.routes.insert(prefix, None);
            }
            (None, None) => {}
        }
    }

    /// Records a prefix's current route for `peer` in a full dump (initial export, refresh).
    pub fn dump(&mut self, peer: PeerId, prefix: IpNet, top: &Top2) {
        if let Some(path) = top.for_peer(peer) {
            self.routes.insert(prefix, Some(path.attrs.clone()));
        }
    }

    /// Queues a marker to follow the routes.
    pub fn mark(&mut self, marker: Export) {
        self.markers.push(marker);
    }

    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty() && self.markers.is_empty()
    }

    /// Empties the outbox into exports: withdrawals first, then announcements grouped by
    /// attribute set (in no particular order), then the markers.
    pub fn take(&mut self) -> Vec<Export> {
        let mut withdrawn = Vec::new();
        let mut groups: HashMap<*const crate::route::AttrSet, (Attrs, Vec<IpNet>)> =
            HashMap::default();
        for (prefix, attrs) in self.routes.drain() {
            match attrs {
                None => withdrawn.push(prefix),
                Some(a) => groups
                    .entry(Arc::as_ptr(&a))
                    .or_insert_with(|| (a, Vec::new()))
                    .1
                    .push(prefix),
            }
        }
        let mut out = Vec::with_capacity(groups.len() + 2);
        if !withdrawn.is_empty() {
            out.push(Export::Withdraw(withdrawn));
        }
        for (attrs, prefixes) in groups.into_values() {
            out.push(Export::Announce(attrs, prefixes));
        }
        out.append(&mut self.markers);
        out
    }
}

/// Whether `family` is among a session's negotiated families.
pub fn carries(families: &[Family], prefix: &IpNet) -> bool {
    families.contains(&Family::of(prefix))
}
