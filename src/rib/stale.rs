//! Graceful restart (RFC 4724) and enhanced route refresh (RFC 7313) on the RIB side:
//! a peer's paths set stale, and withdrawn when the peer does not re-send them.
//!
//! Where it sits: inside the RIB task; `mod.rs` calls these on PeerDown with a restart
//! time, on BoRR/EoRR and End-of-RIB, and when a stale deadline passes.

use tracing::info;

use super::{Path, Rib};
use crate::route::{Family, PeerId};

impl Rib {
    fn families(family: Option<Family>) -> Vec<Family> {
        family.map_or(Family::ALL.to_vec(), |f| vec![f])
    }

    pub(super) fn set_stale(&mut self, peer: PeerId, family: Option<Family>) {
        for f in Self::families(family) {
            for prefix in self.table.prefixes_of(f, peer, |_| true) {
                // Staleness does not change the order: nothing to sort or export.
                let stale = &mut self.counts[peer.0 as usize].stale;
                self.table.reshape(prefix, &self.peers, |p| {
                    if p.peer == peer && !p.stale {
                        p.stale = true;
                        *stale += 1;
                    }
                    false
                });
            }
        }
    }

    pub(super) fn purge_stale(&mut self, peer: PeerId, family: Option<Family>) {
        // The common case (End-of-RIB of a fresh session) has nothing stale: skip the walk.
        let purged = match self.counts[peer.0 as usize].stale {
            0 => 0,
            _ => self.withdraw_where(peer, family, |p| p.stale),
        };
        if purged > 0 {
            info!(peer = %self.peers.name(peer), purged, "stale routes withdrawn");
        }
        if family.is_none() {
            self.peers.set_stale_deadline(peer, None);
        }
    }

    pub(super) fn withdraw_where(
        &mut self,
        peer: PeerId,
        family: Option<Family>,
        pred: impl Fn(&Path) -> bool,
    ) -> usize {
        // A peer without paths (a session that never sent any) costs no walk of the table.
        if self.counts[peer.0 as usize].routes == 0 {
            return 0;
        }
        let mut n = 0;
        for f in Self::families(family) {
            for (prefix, path_id) in self.table.paths_of(f, peer, &pred) {
                self.remove(peer, prefix, path_id);
                self.export_when_many();
                n += 1;
            }
        }
        n
    }
}
