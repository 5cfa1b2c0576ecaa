//! The RIB task: the one owner of routing state.
//!
//! Where it sits: session tasks send [`RibEvent`]s (peer up/down, decoded UPDATEs, refresh
//! requests); the RIB stores every received path (Adj-RIB-In: `update.rs` applies UPDATEs
//! to `table.rs`), keeps each
//! prefix's paths sorted by the decision process (`best.rs`), and at the end of every batch
//! of events hands the top two paths of each prefix the batch changed to every peer in
//! step as one shared batch (`export.rs`; new sessions get shared table dumps, `dump.rs`),
//! and diffs them into the pending state (`pending.rs`, Adj-RIB-Out) of each peer that fell
//! behind, which its writer pulls when its socket takes more; the RIB never waits for a
//! peer. An update delay (`delay.rs`) can hold all export after a start. It validates each
//! path against the current VRP snapshot and lets the peer's ROV mode (`policy.rs`)
//! decide whether it is eligible and how it is tagged; when the VRPs change it
//! re-evaluates the routes they cover (`reevaluate.rs`). Queries (report, looking glass)
//! come on their own channel and are answered between batches (`snapshot.rs`).

mod add_path;
mod aspa;
mod best;
mod delay;
mod dump;
mod events;
mod export;
mod hold;
mod large;
mod membership;
mod monitor;
mod peers;
mod pending;
mod prevalidate;
mod reevaluate;
mod rov;
mod snapshot;
mod stale;
mod table;
mod task;
mod timings;
mod unvalidated;
mod update;
mod view;

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::{broadcast, mpsc, Notify};
use tokio::time::Instant;
use tracing::{debug, info};

pub use best::Path;
pub use events::{RibEvent, RibInputs, RibQuery, QUERY_QUEUE};
pub use export::{Batch, Encoded, Outgoing};
pub use hold::MassInvalidation;
pub use large::on_large_table;
pub use monitor::{TableChanges, TableFeed, TABLE_FEED};
pub use peers::PeerInfo;
pub use prevalidate::{RovStates, Validator};
pub use snapshot::{InvalidPath, InvalidPaths, PathView};
pub use table::Top2;
pub use task::{run, RIB_QUEUE};
pub use timings::{Histogram, Timings};
pub use view::{
    HoldView, PeerView, ReevaluationView, RibView, RovChange, RovChanges, RovCounts, SharedView,
};

use crate::policy::Tagging;
use crate::route::{Export, Family, Interner, PeerId, SessionUp};
use crate::rpki::VrpStore;
use delay::UpdateDelay;
use dump::Dump;
use hold::Hold;
use peers::Peers;
use reevaluate::Pass;
use rov::{checked, shape};
use table::Table;
use unvalidated::VrpWait;

/// How many batches of RovChange events may wait for a slow subscriber before it misses
/// some. The channel holds its slots from the start: per change, 65,536 of them were 6 MiB.
const CHANGE_QUEUE: usize = 1024;

/// The routing state and what is waiting to be exported. The RIB task drives it; it is
/// public so benchmarks and the fuzz target can drive it the same way.
pub struct Rib {
    peers: Peers,
    table: Table,
    interned: Interner,
    vrps: VrpStore,
    tagging: Tagging,
    mass: MassInvalidation,
    /// Per-peer path counts by ROV state, indexed by `PeerId`.
    counts: Vec<RovCounts>,
    /// The re-evaluation in progress.
    pass: Pass,
    /// A VRP update held as a mass invalidation.
    hold: Option<Hold>,
    /// Verdict changes not yet broadcast.
    changes: Vec<RovChange>,
    changes_tx: broadcast::Sender<RovChanges>,
    /// How many verdict changes were broadcast.
    changes_sent: u64,
    /// Changed prefixes for BMP export (`monitor.rs`).
    feed: TableFeed,
    view: SharedView,
    /// How long UPDATEs and re-evaluation passes took, for the view.
    timings: Timings,
    /// Writers wake the RIB through this when they took a chunk.
    writable: Arc<Notify>,
    /// The last report's invalid paths and when they were collected.
    report: Option<(Instant, InvalidPaths)>,
    /// Table dumps in progress.
    dumps: Vec<Dump>,
    /// The update delay while it lasts.
    delay: Option<UpdateDelay>,
    /// Drop peers' routes wait for the first complete VRP set.
    wait: VrpWait,
    /// It held `large::LARGE_TABLE` paths once.
    large: bool,
}

impl Rib {
    /// An empty RIB for these peers, validating against `vrps`, tagging routes with
    /// `tagging` and holding mass invalidations by `mass`.
    pub fn new(
        peers: Vec<PeerInfo>,
        vrps: VrpStore,
        tagging: Tagging,
        mass: MassInvalidation,
    ) -> Self {
        let counts = vec![RovCounts::default(); peers.len()];
        let rib = Rib {
            peers: Peers::new(peers),
            table: Table::default(),
            interned: Interner::default(),
            pass: Pass::new(vrps.load().serial),
            vrps,
            tagging,
            mass,
            counts,
            hold: None,
            changes: Vec::new(),
            changes_tx: broadcast::channel(CHANGE_QUEUE).0,
            changes_sent: 0,
            feed: broadcast::channel(TABLE_FEED).0,
            view: Arc::new(ArcSwap::from_pointee(RibView::default())),
            writable: Arc::new(Notify::new()),
            report: None,
            dumps: Vec::new(),
            delay: None,
            wait: VrpWait::Off,
            timings: Timings::default(),
            large: false,
        };
        rib.publish_view();
        rib
    }

    /// The view the RIB publishes after each batch (per-peer counts, holds).
    pub fn view(&self) -> SharedView {
        self.view.clone()
    }

    /// Sends no routes until every configured peer has sent its table, or for at most
    /// `length` after the first session comes up (`[server] update_delay`); call before
    /// any session is up.
    pub fn set_update_delay(&mut self, length: Duration) {
        self.delay = (!length.is_zero()).then(|| UpdateDelay::new(length, self.counts.len()));
        self.note_changes();
        self.publish_view();
    }

    /// What a session's writer notifies each time it takes a chunk of exports.
    pub fn writable(&self) -> Arc<Notify> {
        self.writable.clone()
    }

    /// A receiver of every verdict change from now on, a batch's changes together.
    pub fn subscribe(&self) -> broadcast::Receiver<RovChanges> {
        self.changes_tx.subscribe()
    }

    /// Applies one event; exports wait in the peers' outboxes until [`Rib::flush`].
    pub fn handle(&mut self, event: RibEvent) {
        if let Some(peer) = event.peer().filter(|&p| !self.peers.exists(p)) {
            // A removed peer's session sends until it is closed.
            return debug!(%peer, "event for a removed peer ignored");
        }
        match event {
            RibEvent::PeerUp {
                peer,
                families,
                add_path,
                out,
                session,
            } => self.peer_up(peer, (families, add_path), out, session),
            RibEvent::PeerDown {
                peer,
                restart,
                reason,
            } => self.peer_down(peer, restart, reason),
            RibEvent::Update { peer, update } => self.update(peer, update, None),
            RibEvent::ValidatedUpdate {
                peer,
                update,
                states,
            } => self.update(peer, update, Some(states)),
            RibEvent::PathUpdate { peer, update } => self.update(peer, update, None),
            // During the update delay the dump at its end is the answer. RFC 7313 §4: the
            // re-export goes between BoRR and EoRR.
            RibEvent::Refresh { peer, family } if self.delay.is_none() => {
                self.queue_marker(peer, Export::BeginRefresh(family));
                self.refresh(peer, family);
                self.queue_marker(peer, Export::EndOfRefresh(family));
            }
            RibEvent::Refresh { .. } => {}
            RibEvent::BeginResend { peer, family } => self.set_stale(peer, Some(family)),
            RibEvent::EndOfResend { peer, family } => self.purge_stale(peer, Some(family)),
            RibEvent::SetPolicy { peer, rov } => self.set_policy(peer, rov),
            RibEvent::SetChecks {
                peer,
                checks,
                filters,
            } => self.set_checks(peer, checks, filters),
            RibEvent::SetRovConfig { tagging, mass } => self.set_rov_config(tagging, mass),
            RibEvent::AddPeer { info, reply } => {
                // The asker may have given up; the peer stays configured anyway.
                let _ = reply.send(self.add_peer(info));
            }
            RibEvent::RemovePeer { peer } => self.remove_peer(peer),
            RibEvent::AcceptVrps { reply } => {
                // The operator may have given up waiting; the accept stands anyway.
                let _ = reply.send(self.accept_held("accepted by an operator"));
            }
        }
    }

    /// `families`: the negotiated ones, and those of them sent with ADD-PATH.
    fn peer_up(
        &mut self,
        peer: PeerId,
        (families, add_path): (Vec<Family>, Vec<Family>),
        out: mpsc::Sender<Outgoing>,
        session: Arc<SessionUp>,
    ) {
        info!(peer = %self.peers.name(peer), ?families, ?add_path, "peer up: exporting the table");
        // Changes so far go to the peers that were up when they happened; the new peer
        // gets the table as it is now.
        self.export();
        self.peers
            .up(peer, (families.clone(), add_path), out, session);
        self.note_changes();
        if self.feed.receiver_count() > 0 {
            // A BMP station's Peer Up reads the session from the view: show it before the
            // peer's first routes reach the station.
            self.publish_view();
        }
        match &mut self.delay {
            Some(delay) => delay.up(peer, &families),
            None => families.into_iter().for_each(|f| self.start_dump(peer, f)),
        }
    }

    pub(super) fn peer_down(&mut self, peer: PeerId, restart: Option<Duration>, reason: String) {
        self.peers.down(peer, reason);
        self.leave_dumps(peer);
        if let Some(delay) = &mut self.delay {
            delay.down(peer);
        }
        match restart {
            Some(time) => {
                info!(peer = %self.peers.name(peer), ?time, "peer down: keeping its routes as stale (graceful restart)");
                self.set_stale(peer, None);
                self.peers
                    .set_stale_deadline(peer, Some(Instant::now() + time));
            }
            None => {
                info!(peer = %self.peers.name(peer), "peer down: withdrawing its routes");
                self.withdraw_where(peer, None, |_| true);
            }
        }
    }

    /// The next time something is due: a stale deadline, a hold's end, the update
    /// delay's end, a dump waiting too long for a member.
    fn next_deadline(&self) -> Option<Instant> {
        let hold = self.hold.as_ref().and_then(|h| h.deadline);
        let delay = self.delay.as_ref().and_then(UpdateDelay::deadline);
        let dumps = self.dumps.iter().filter_map(Dump::deadline);
        self.peers
            .next_stale_deadline()
            .into_iter()
            .chain(hold)
            .chain(delay)
            .chain(dumps)
            .min()
    }

    fn tick(&mut self, now: Instant) {
        let delay = self.delay.as_ref().and_then(UpdateDelay::deadline);
        if delay.is_some_and(|t| t <= now) {
            self.end_delay();
        }
        for peer in self.peers.stale_expired(now) {
            self.purge_stale(peer, None);
        }
        if self
            .hold
            .as_ref()
            .and_then(|h| h.deadline)
            .is_some_and(|t| t <= now)
        {
            self.accept_held("its hold time passed");
        }
    }

    pub(super) fn publish_view(&self) {
        self.view.store(Arc::new(RibView {
            peers: self.peers.view(&self.counts),
            held_update: self.hold.as_ref().map(Hold::view),
            update_delay: self.delay.as_ref().map(UpdateDelay::missing),
            waiting_for_vrps: self.wait.holds(),
            reevaluation: self.pass.view(),
            generation: self.table.generation(),
            timings: self.timings,
        }));
    }
}

#[cfg(test)]
mod aspa_tests;
#[cfg(test)]
mod checks_tests;
#[cfg(test)]
mod dump_tests;
#[cfg(test)]
mod membership_tests;
#[cfg(test)]
mod monitor_tests;
#[cfg(test)]
mod monitored_tests;
#[cfg(test)]
mod peer_tests;
#[cfg(test)]
mod pending_tests;
#[cfg(test)]
mod prevalidate_tests;
#[cfg(test)]
mod rov_tests;
#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod table_tests;
#[cfg(test)]
mod tests;
