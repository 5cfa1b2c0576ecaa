//! ASPA verification again when the ASPAs change: a path's ASPA outcome depends on every
//! AS in it, not on its prefix, so a changed ASPA table is checked against every path of
//! the peers that run ASPA (`aspa` not `accept`).
//!
//! Where it sits: the rpki task flags a snapshot whose ASPA table changed
//! ([`VrpsChanged::aspas`](crate::rpki::VrpsChanged)); the RIB task runs
//! [`Rib::reverify_aspa`] before queueing the VRP part of the change. Each such peer's
//! paths are checked again as after a change of its modes (`rov.rs`): paths whose decision
//! changes are exported, the others are left as they are. A path dropped as ASPA Invalid
//! stays in Adj-RIB-In and comes back here.

use tracing::info;

use super::Rib;
use crate::policy::Check;
use crate::route::PeerId;

impl Rib {
    /// Checks every path of the peers that run ASPA again, against the current snapshot.
    pub(super) fn reverify_aspa(&mut self) {
        let started = std::time::Instant::now();
        let peers = (0..self.counts.len() as u32).map(PeerId);
        let running: Vec<PeerId> = peers
            .filter(|&p| self.peers.info(p).checks.runs(Check::Aspa))
            .collect();
        for &peer in &running {
            self.reshape_peer(Some(peer), true);
        }
        let ms = started.elapsed().as_secs_f64() * 1e3;
        info!(
            peers = running.len(),
            ms, "ASPAs changed: paths verified again"
        );
    }
}
