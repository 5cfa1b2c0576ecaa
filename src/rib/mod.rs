//! The RIB task: the one owner of routing state.
//!
//! Where it sits: session tasks send [`RibEvent`]s (peer up/down, decoded UPDATEs, refresh
//! requests); the RIB stores every received path (Adj-RIB-In, `table.rs`), keeps each
//! prefix's paths sorted by the decision process (`best.rs`), and diffs each prefix's top two
//! paths into per-peer outboxes (`export.rs`) that it sends to the sessions as `Export`s at the
//! end of every batch of events. It validates each path against the current VRP snapshot.

mod best;
mod export;
mod peers;
mod table;

use std::time::Duration;

use ipnet::IpNet;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::{debug, info, warn};

pub use best::Path;
pub use peers::PeerInfo;
pub use table::Top2;

use crate::route::{Attrs, Export, Family, Interner, PeerId, Update};
use crate::rpki::{RovState, VrpStore};
use peers::Peers;
use table::Table;

/// How many events the RIB takes before it flushes exports.
const BATCH: usize = 256;
/// The RIB's inbound queue.
pub const RIB_QUEUE: usize = 1024;

/// What sessions tell the RIB.
#[derive(Debug)]
pub enum RibEvent {
    /// A session reached Established: export the table to it, then End-of-RIB per family.
    PeerUp {
        peer: PeerId,
        families: Vec<Family>,
        out: mpsc::Sender<Vec<Export>>,
    },
    /// A session went down. With `restart`, the peer's paths are kept as stale for that long
    /// (graceful restart helper); otherwise they are withdrawn now.
    PeerDown {
        peer: PeerId,
        restart: Option<Duration>,
    },
    /// A decoded UPDATE.
    Update { peer: PeerId, update: Update },
    /// The peer asked for our routes again (ROUTE-REFRESH).
    Refresh { peer: PeerId, family: Family },
    /// The peer starts re-sending a family (enhanced route refresh BoRR): mark its paths
    /// stale until `EndOfResend`.
    BeginResend { peer: PeerId, family: Family },
    /// The peer finished re-sending a family (EoRR or End-of-RIB): drop paths still stale.
    EndOfResend { peer: PeerId, family: Family },
}

/// Runs the RIB task until shutdown or until every sender is gone.
pub async fn run(
    peers: Vec<PeerInfo>,
    vrps: VrpStore,
    mut events: mpsc::Receiver<RibEvent>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut rib = Rib::new(peers, vrps);
    loop {
        let deadline = rib.peers.next_stale_deadline();
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { return };
                rib.handle(event);
                for _ in 1..BATCH {
                    match events.try_recv() {
                        Ok(event) => rib.handle(event),
                        Err(_) => break,
                    }
                }
            }
            _ = sleep_until(deadline) => rib.expire_stale(Instant::now()),
            _ = shutdown.changed() => return,
        }
        rib.flush().await;
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// The routing state and what is waiting to be exported. The RIB task drives it; it is
/// public so benchmarks and the fuzz target can drive it the same way.
pub struct Rib {
    peers: Peers,
    table: Table,
    interned: Interner,
    vrps: VrpStore,
}

impl Rib {
    /// An empty RIB for these peers, validating against `vrps`.
    pub fn new(peers: Vec<PeerInfo>, vrps: VrpStore) -> Self {
        Rib {
            peers: Peers::new(peers),
            table: Table::default(),
            interned: Interner::default(),
            vrps,
        }
    }

    /// Applies one event; exports wait in the peers' outboxes until [`Rib::flush`].
    pub fn handle(&mut self, event: RibEvent) {
        match event {
            RibEvent::PeerUp {
                peer,
                families,
                out,
            } => self.peer_up(peer, families, out),
            RibEvent::PeerDown { peer, restart } => self.peer_down(peer, restart),
            RibEvent::Update { peer, update } => self.update(peer, update),
            RibEvent::Refresh { peer, family } => {
                self.dump(peer, family);
                self.peers.mark(peer, Export::EndOfRefresh(family));
            }
            RibEvent::BeginResend { peer, family } => self.mark_stale(peer, Some(family)),
            RibEvent::EndOfResend { peer, family } => self.purge_stale(peer, Some(family)),
        }
    }

    fn peer_up(&mut self, peer: PeerId, families: Vec<Family>, out: mpsc::Sender<Vec<Export>>) {
        info!(peer = %self.peers.name(peer), ?families, "peer up: exporting the table");
        self.peers.up(peer, families.clone(), out);
        for family in families {
            self.dump(peer, family);
            self.peers.mark(peer, Export::EndOfRib(family));
        }
    }

    fn dump(&mut self, peer: PeerId, family: Family) {
        let Some(outbox) = self.peers.outbox(peer) else {
            return;
        };
        for (prefix, paths) in self.table.iter(family) {
            outbox.dump(peer, prefix, &Top2::of(paths));
        }
    }

    fn peer_down(&mut self, peer: PeerId, restart: Option<Duration>) {
        self.peers.down(peer);
        match restart {
            Some(time) => {
                info!(peer = %self.peers.name(peer), ?time, "peer down: keeping its routes as stale (graceful restart)");
                self.mark_stale(peer, None);
                self.peers
                    .set_stale_deadline(peer, Some(Instant::now() + time));
            }
            None => {
                info!(peer = %self.peers.name(peer), "peer down: withdrawing its routes");
                self.withdraw_where(peer, None, |_| true);
            }
        }
    }

    fn update(&mut self, peer: PeerId, update: Update) {
        for prefix in update.withdrawn {
            self.remove(peer, prefix);
        }
        for (attrs, prefixes) in update.announced {
            let attrs = self.interned.intern(attrs);
            if !self.peers.first_as_ok(peer, &attrs) {
                debug!(peer = %self.peers.name(peer), path = %attrs.as_path, "first AS is not the peer's: treated as withdrawn");
                prefixes.into_iter().for_each(|p| self.remove(peer, p));
                continue;
            }
            // One snapshot for the whole UPDATE, not one load per route.
            let vrps = self.vrps.load();
            for prefix in prefixes {
                let rov = vrps.table.state(&prefix, attrs.as_path.origin());
                self.insert(peer, prefix, attrs.clone(), rov);
            }
        }
        if let Some(family) = update.end_of_rib {
            debug!(peer = %self.peers.name(peer), ?family, "End-of-RIB received");
            self.purge_stale(peer, Some(family));
        }
    }

    fn insert(&mut self, peer: PeerId, prefix: IpNet, attrs: Attrs, rov: RovState) {
        if self.peers.over_limit(peer) {
            return;
        }
        let path = Path {
            peer,
            attrs,
            rov,
            eligible: true,
            stale: false,
        };
        let change = self.table.upsert(prefix, path, &self.peers);
        if change.added {
            if let Some(limit) = self.peers.count_route(peer) {
                warn!(peer = %self.peers.name(peer), limit, "maximum prefixes exceeded: closing the session");
                self.peers.mark(peer, Export::LimitReached(limit));
                // The route past the limit is not taken: undo the insert, export nothing.
                self.table.remove(prefix, peer);
                self.peers.uncount_route(peer);
                return;
            }
        }
        self.peers.record(prefix, &change);
    }

    fn remove(&mut self, peer: PeerId, prefix: IpNet) {
        if let Some(change) = self.table.remove(prefix, peer) {
            self.peers.uncount_route(peer);
            self.peers.record(prefix, &change);
        }
    }

    fn families(family: Option<Family>) -> Vec<Family> {
        family.map_or(Family::ALL.to_vec(), |f| vec![f])
    }

    fn mark_stale(&mut self, peer: PeerId, family: Option<Family>) {
        for f in Self::families(family) {
            for prefix in self.table.prefixes_of(f, peer, |_| true) {
                self.table.mark(&prefix, peer, |p| p.stale = true);
            }
        }
    }

    fn purge_stale(&mut self, peer: PeerId, family: Option<Family>) {
        let purged = self.withdraw_where(peer, family, |p| p.stale);
        if purged > 0 {
            info!(peer = %self.peers.name(peer), purged, "stale routes withdrawn");
        }
        if family.is_none() {
            self.peers.set_stale_deadline(peer, None);
        }
    }

    fn withdraw_where(
        &mut self,
        peer: PeerId,
        family: Option<Family>,
        pred: impl Fn(&Path) -> bool,
    ) -> usize {
        let mut n = 0;
        for f in Self::families(family) {
            for prefix in self.table.prefixes_of(f, peer, &pred) {
                self.remove(peer, prefix);
                n += 1;
            }
        }
        n
    }

    fn expire_stale(&mut self, now: Instant) {
        for peer in self.peers.stale_expired(now) {
            self.purge_stale(peer, None);
        }
    }

    /// Sends every peer's waiting exports to its session.
    pub async fn flush(&mut self) {
        for (peer, out, exports) in self.peers.take_outboxes() {
            if out.send(exports).await.is_err() {
                debug!(peer = %self.peers.name(peer), "session gone before its exports were sent");
            }
        }
    }
}

#[cfg(test)]
mod tests;
