//! ASPA verification again when the ASPAs change: a path's ASPA outcome depends on every
//! AS in it, not on its prefix, so a changed ASPA table is checked against every path of
//! the peers that run ASPA (`aspa` not `accept`).
//!
//! Where it sits: the rpki task flags a snapshot whose ASPA table changed
//! ([`VrpsChanged::aspas`](crate::rpki::VrpsChanged)); the RIB task runs
//! [`Rib::reverify_aspa`] before queueing the VRP part of the change. Paths whose outcome
//! flips get their policy decided again and what changed is exported; the others are left
//! as they are. A path dropped as ASPA Invalid stays in Adj-RIB-In and comes back here.

use ipnet::IpNet;
use tracing::info;

use super::{shape, Rib};
use crate::policy::{verify, AspaState, Check};
use crate::route::{Family, PeerId};
use crate::rpki::AspaTable;

impl Rib {
    /// Verifies every path of the peers that run ASPA against the current snapshot's ASPAs.
    pub(super) fn reverify_aspa(&mut self) {
        let peers = (0..self.counts.len() as u32).map(PeerId);
        let running = |p: &PeerId| self.peers.info(*p).checks.runs(Check::Aspa);
        if !peers.clone().any(|p| running(&p)) {
            return;
        }
        let started = std::time::Instant::now();
        let snapshot = self.vrps.load();
        let mut flipped = 0;
        for family in Family::ALL {
            let prefixes: Vec<IpNet> = self.table.iter(family).map(|(p, _)| p).collect();
            for prefix in prefixes {
                flipped += self.reverify_prefix(prefix, &snapshot.aspas);
                self.export_when_many();
            }
        }
        let ms = started.elapsed().as_secs_f64() * 1e3;
        info!(flipped, ms, "ASPAs changed: paths verified again");
    }

    /// Verifies the paths of `prefix` again; returns how many changed outcome.
    fn reverify_prefix(&mut self, prefix: IpNet, aspas: &AspaTable) -> usize {
        let Rib {
            table,
            peers,
            interned,
            tagging,
            counts,
            ..
        } = self;
        let mut flipped = 0;
        table.reshape(prefix, &*peers, |path| {
            let peer = peers.info(path.peer);
            if !peer.checks.runs(Check::Aspa) {
                return false;
            }
            let (filters, as_path) = (&peer.filters, &path.attrs.received().as_path);
            let verdict = verify(aspas, as_path, filters.asn, filters.aspa);
            let invalid = verdict.state == AspaState::Invalid;
            if invalid == path.failed.has(Check::Aspa) {
                return false;
            }
            flipped += 1;
            let counts = &mut counts[path.peer.0 as usize];
            counts.count(path, -1);
            path.failed = path.failed.without(Check::Aspa);
            if invalid {
                path.failed.add(Check::Aspa);
            }
            shape(path, peer, tagging, interned);
            counts.count(path, 1);
            true
        });
        flipped
    }
}
