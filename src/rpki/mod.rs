//! The RPKI side: VRP sources, the effective VRP table, and validation.
//!
//! Where it sits: one task per RTR cache (`rtr.rs`) and per file (`file.rs`, `slurm.rs`)
//! sends [`SourceEvent`]s to the rpki task below. The rpki task alone owns
//! [`VrpSources`]; for every event it computes the delta, builds the next [`VrpSnapshot`]
//! and publishes it through [`VrpStore`] (`store.rs`). An empty delta publishes nothing.
//! A config reload adds and removes sources through [`SourceControl`] (`source_tasks.rs`).
//! Read `vrp.rs` first (validation), then `sources.rs` (merging), then this file.

pub mod aspa;
pub mod file;
pub mod rtr;
pub mod server;
pub mod server_clients;
pub mod server_source;
pub mod slurm;
pub mod source_tasks;
pub mod sources;
pub mod startup;
pub mod status;
pub mod store;
pub mod vrp;
mod vrp_set;

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::{info, warn};

pub use aspa::{Aspa, AspaTable, Attestation};
pub use source_tasks::{SourceChanges, SourceControl};
pub use sources::{SourceEvent, VrpSources};
pub use startup::Startup;
pub use status::RpkiStatus;
pub use store::{SnapshotWriter, VrpDelta, VrpSnapshot, VrpStore, VrpsChanged};
pub use vrp::{Verdict, Vrp, VrpTable};

/// Where VRPs come from (the config's `[rpki]` table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpkiConfig {
    /// VRP files (rpki-client or Routinator JSON, CSV), resolved against the config's directory.
    pub vrp_files: Vec<PathBuf>,
    /// RFC 8416 SLURM files, resolved against the config's directory.
    pub slurm: Vec<PathBuf>,
    /// RTR caches (`[[rpki.cache]]`).
    pub caches: Vec<CacheConfig>,
    /// How often files are checked for changes (key `reload_seconds`, default 5).
    pub reload: Duration,
    /// How long drop peers' routes wait for the first complete VRP set at most (key
    /// `startup_wait`, default 30 seconds).
    pub startup_wait: Duration,
}

impl RpkiConfig {
    /// This config with the sources (caches, VRP files, SLURM files) of `new`: what a reload
    /// to `new` applies; the other keys wait for a restart.
    pub fn with_sources_of(&self, new: &RpkiConfig) -> RpkiConfig {
        RpkiConfig {
            vrp_files: new.vrp_files.clone(),
            slurm: new.slurm.clone(),
            caches: new.caches.clone(),
            ..self.clone()
        }
    }
}

/// An RTR cache (one `[[rpki.cache]]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// `host:port` (IPv6 as `[addr]:port`), checked for shape, resolved on connect.
    pub address: String,
    /// Lower is preferred; defaults to the cache's position in the file.
    pub preference: u32,
}

/// How many source events may queue before sources wait for the rpki task.
const EVENT_QUEUE: usize = 64;
/// How many change notices may queue before the rpki task waits for the RIB.
const CHANGED_QUEUE: usize = 16;

/// Starts the rpki task and one task per configured source; returns the store they fill
/// and the notices of what each published snapshot changed (for the RIB; dropping the
/// receiver is fine when nobody re-evaluates routes).
pub fn spawn(
    config: &RpkiConfig,
    shutdown: watch::Receiver<bool>,
) -> (VrpStore, mpsc::Receiver<VrpsChanged>) {
    let rpki = start(config, shutdown);
    (rpki.store, rpki.changed)
}

/// The running rpki task, from [`start`].
pub struct Rpki {
    /// The VRP store it fills.
    pub store: VrpStore,
    /// What each published snapshot changed, for the RIB.
    pub changed: mpsc::Receiver<VrpsChanged>,
    /// Adds and removes sources (a config reload).
    pub control: SourceControl,
}

/// Starts the rpki task and one task per configured source, as [`spawn`], with the handle
/// that changes the sources later.
pub fn start(config: &RpkiConfig, shutdown: watch::Receiver<bool>) -> Rpki {
    let store = VrpStore::new();
    let (events, rx) = mpsc::channel(EVENT_QUEUE);
    let mut sources = VrpSources::default();
    let mut tasks = source_tasks::SourceTasks::new(events, shutdown.clone());
    tasks.apply(config, &mut sources, &VrpTable::new());
    let mut startup = Startup::new(config.startup_wait, Instant::now());
    startup.update(&sources, 0, Instant::now());
    store.publish_status(startup.status(&sources));
    let (changed_tx, changed) = mpsc::channel(CHANGED_QUEUE);
    let (control, requests) = mpsc::channel(1);
    let task = Task {
        sources,
        tasks,
        startup,
        store: store.clone(),
        writer: SnapshotWriter::new(store.clone()),
    };
    tokio::spawn(task.run((rx, requests), changed_tx, shutdown));
    Rpki {
        store,
        changed,
        control: SourceControl(control),
    }
}

/// The rpki task's state: the sources, startup, and the store it publishes to.
struct Task {
    sources: VrpSources,
    tasks: source_tasks::SourceTasks,
    startup: Startup,
    store: VrpStore,
    writer: SnapshotWriter,
}

impl Task {
    /// The rpki task: applies source events, cache expiry, the end of the startup wait and
    /// changes of the sources, publishes snapshots.
    async fn run(
        mut self,
        (mut events, mut requests): (
            mpsc::Receiver<SourceEvent>,
            mpsc::Receiver<source_tasks::Reconfigure>,
        ),
        changed: mpsc::Sender<VrpsChanged>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            let (expiry, sources, store) =
                (self.sources.next_expiry(), &mut self.sources, &self.store);
            let delta = tokio::select! {
                event = events.recv() => match event {
                    Some(event) => sources.handle(event, Instant::now(), &store.load().table),
                    None => return,
                },
                _ = sleep_until(expiry) => sources.tick(Instant::now(), &store.load().table),
                _ = sleep_until(self.startup.deadline()) => VrpDelta::default(),
                Some((config, reply)) = requests.recv() => {
                    let (delta, changes) = self.tasks.apply(&config, sources, &store.load().table);
                    info!(added = ?changes.added, removed = ?changes.removed, "RPKI sources reconfigured");
                    // The reload that asked may have given up waiting: nothing to tell.
                    let _ = reply.send(changes);
                    delta
                }
                _ = shutdown.changed() => return,
            };
            if let Some(notice) = self.publish(delta) {
                // Nobody re-evaluates routes (the validate command, tests): nothing to tell.
                let _ = changed.send(notice).await;
            }
        }
    }

    /// Publishes a new snapshot when the VRPs, ASPAs or SLURM exceptions changed, then the
    /// sources' status (in that order: a status reporting an update implies its snapshot).
    /// Returns what the RIB is to hear: VRPs changed, or the set became complete.
    fn publish(&mut self, delta: VrpDelta) -> Option<VrpsChanged> {
        let Task {
            sources,
            startup,
            store,
            writer,
            ..
        } = self;
        let notice = publish_snapshot(sources, delta, store, writer);
        let was_stale = store.status().stale;
        let vrps = store.load().table.len();
        let completed = startup.update(sources, vrps, Instant::now());
        let status = startup.status(sources);
        if status.stale && !was_stale {
            warn!(
                "every RTR cache is past expire: RTR VRPs withdrawn, routes fail open to not-found"
            );
        } else if was_stale && !status.stale {
            info!("RTR data is current again");
        }
        store.publish_status(status);
        let complete = startup.complete();
        match notice {
            Some(notice) => Some(VrpsChanged { complete, ..notice }),
            None => completed.then(|| VrpsChanged {
                serial: store.load().serial,
                prefixes: Vec::new(),
                first: false,
                complete,
                aspas: false,
            }),
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

fn publish_snapshot(
    sources: &VrpSources,
    delta: VrpDelta,
    store: &VrpStore,
    writer: &mut SnapshotWriter,
) -> Option<VrpsChanged> {
    let current = store.load();
    let (aspas, exceptions) = (sources.aspas(), sources.exceptions());
    if delta.is_empty() && aspas == current.aspas && exceptions == current.exceptions {
        return None;
    }
    let first = current.table.is_empty();
    let aspas_changed = aspas != current.aspas;
    drop(current);
    let (added, removed) = (delta.added.len(), delta.removed.len());
    let prefixes = delta.changed_prefixes();
    let (serial, vrps) = writer.publish(delta, aspas, exceptions);
    info!(
        serial,
        added, removed, vrps, aspas_changed, "VRP snapshot published"
    );
    (!prefixes.is_empty() || aspas_changed).then_some(VrpsChanged {
        serial,
        prefixes,
        first,
        complete: false,
        aspas: aspas_changed,
    })
}
