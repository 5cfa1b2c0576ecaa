//! ADD-PATH export (RFC 7911) to route-server clients that negotiated it: every path of a
//! prefix that passes the client's export policy, not only the best, so that a client
//! whose own policy rejects the best path can still pick another (RFC 7947 §2.3.2.1, the
//! path hiding problem).
//!
//! Where it sits: for the families a session negotiated ADD-PATH for (RFC 7911 does it per
//! AFI/SAFI), it is never part of an update group (`export.rs`): at the end of each batch
//! the RIB (`peers.rs`) looks each changed prefix of them up in the table and diffs its
//! paths, one by one, against what the peer was last noted to hold, into the peer's own
//! [`Pending`] state keyed by path, which its writer pulls like any peer's. Its other
//! families go as any peer's: the best path, no path identifier. Table dumps and ROUTE-REFRESH note every prefix the same
//! way (`dump.rs`, `export.rs`). A path goes to the peer under the same terms as a best
//! path goes to any peer: eligible (ROV and the import checks in their modes), never the
//! peer's own, not kept from it by action communities ([`Receiver::may_have`]).
//!
//! The path identifier is the source peer's `PeerId`: a path is at most one per peer and
//! prefix, the id stays while the peer is configured and is never given to another, so a
//! path keeps its identifier while its attributes change and a withdrawal names exactly
//! the path that went.

use std::sync::Arc;

use foldhash::HashMap;
use ipnet::IpNet;
use smallvec::SmallVec;

use super::best::Path;
use super::pending::{Held, Pending};
use super::table::Receiver;
use super::Rib;
use crate::route::{Attrs, Export, Family, PathNlri, PeerId};

/// The paths of a prefix a peer holds: (path identifier, attributes), best first.
type HeldPaths = SmallVec<[(u32, Attrs); 2]>;

/// What an ADD-PATH peer holds and still has to be sent of the families it negotiated
/// ADD-PATH for.
pub struct AddPaths {
    /// Those families (RFC 7911 negotiates per family; the others go as any peer's).
    pub families: Vec<Family>,
    /// Per prefix, the paths the peer holds once everything pending is sent.
    exported: HashMap<IpNet, HeldPaths>,
    /// What it still has to be sent, path by path.
    pub pending: Pending<PathNlri>,
}

/// The attributes of path `id` among `held`.
fn find(held: &HeldPaths, id: u32) -> Option<&Attrs> {
    held.iter().find(|(i, _)| *i == id).map(|(_, a)| a)
}

impl AddPaths {
    /// Nothing held or pending yet, for these families.
    pub fn new(families: Vec<Family>) -> Self {
        AddPaths {
            families,
            exported: HashMap::default(),
            pending: Pending::default(),
        }
    }

    /// Notes that `prefix` now has `paths` (the table's, best first), as `to` may have them.
    pub fn note(&mut self, to: Receiver, prefix: IpNet, paths: &[Path]) {
        let now: HeldPaths = (paths.iter())
            .filter(|p| p.eligible && to.may_have(p))
            .map(|p| (p.peer.0, p.attrs.clone()))
            .collect();
        let before = match now.is_empty() {
            true => self.exported.remove(&prefix),
            false => self.exported.insert(prefix, now.clone()),
        };
        let before = before.unwrap_or_default();
        for (id, had) in &before {
            if find(&now, *id).is_none() {
                let held = Held::Path(had.clone());
                self.pending.note(PathNlri { id: *id, prefix }, held, None);
            }
        }
        for (id, attrs) in &now {
            let had = find(&before, *id);
            if had.map(Arc::as_ptr) != Some(Arc::as_ptr(attrs)) {
                let held = had.map_or(Held::Nothing, |a| Held::Path(a.clone()));
                self.pending
                    .note(PathNlri { id: *id, prefix }, held, Some(attrs));
            }
        }
    }

    /// Notes every path of `family` the peer should hold again, to be sent even if it holds
    /// it (a ROUTE-REFRESH).
    pub fn resend(&mut self, family: Family) {
        for (&prefix, paths) in &self.exported {
            if Family::of(&prefix) != family {
                continue;
            }
            for (id, attrs) in paths {
                self.pending
                    .resend(PathNlri { id: *id, prefix }, Some(attrs));
            }
        }
    }
}

impl Rib {
    /// Notes every prefix of `family` for the ADD-PATH peer `peer`, then End-of-RIB: its
    /// table dump, its own (it shares no update group).
    pub(super) fn dump_paths(&mut self, peer: PeerId, family: Family) {
        let to = self.peers.receiver(peer);
        if let Some(paths) = self.peers.add_paths(peer, family) {
            for (prefix, held) in self.table.iter(family) {
                paths.note(to, prefix, held);
            }
        }
        self.peers.queue_marker(peer, Export::EndOfRib(family));
    }
}

#[cfg(test)]
#[path = "add_path_tests.rs"]
mod tests;
