//! The task of every configured VRP source, started and stopped as the config says.
//!
//! Where it sits: the rpki task (`mod.rs`) owns one [`SourceTasks`]. At startup it starts a
//! task for every cache (`rtr.rs`), VRP file (`file.rs`) and SLURM file (`slurm.rs`) of
//! `[rpki]`; on a config reload ([`SourceControl::reconfigure`]) it stops the tasks of the
//! sources no longer configured (their data leaves the effective set at once) and starts
//! the new ones exactly as at startup. A source is known by its address or path: one kept
//! across a reload keeps its connection and data (a cache whose preference changed only
//! takes its new rank).

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::AbortHandle;

use super::sources::{SourceEvent, SourceId, VrpSources};
use super::store::VrpDelta;
use super::vrp::VrpTable;
use super::{file, rtr, slurm, CacheConfig, RpkiConfig};

/// What a reconfiguration of the sources started and stopped, by address or path.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SourceChanges {
    /// Sources started.
    pub added: Vec<String>,
    /// Sources stopped, their data withdrawn.
    pub removed: Vec<String>,
}

/// A request to the rpki task: make the sources those of the config, answer what changed.
pub type Reconfigure = (RpkiConfig, oneshot::Sender<SourceChanges>);

/// The handle a reload uses to change the rpki task's sources.
#[derive(Clone, Debug)]
pub struct SourceControl(pub(super) mpsc::Sender<Reconfigure>);

impl SourceControl {
    /// Makes the running sources those of `config` (its caches, VRP files and SLURM files;
    /// its other keys are not looked at); none when the rpki task has stopped.
    pub async fn reconfigure(&self, config: RpkiConfig) -> Option<SourceChanges> {
        let (reply, changes) = oneshot::channel();
        self.0.send((config, reply)).await.ok()?;
        changes.await.ok()
    }
}

/// A source as the config names it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Key {
    Cache(String),
    File(PathBuf),
    Slurm(PathBuf),
}

impl Key {
    fn name(&self) -> String {
        match self {
            Key::Cache(address) => address.clone(),
            Key::File(path) | Key::Slurm(path) => path.display().to_string(),
        }
    }
}

struct Running {
    key: Key,
    id: SourceId,
    task: AbortHandle,
}

/// The running source tasks and what a new one is given.
pub(super) struct SourceTasks {
    running: Vec<Running>,
    events: mpsc::Sender<SourceEvent>,
    shutdown: watch::Receiver<bool>,
}

impl SourceTasks {
    /// No source yet; the tasks [`SourceTasks::apply`] starts send to `events`.
    pub(super) fn new(events: mpsc::Sender<SourceEvent>, shutdown: watch::Receiver<bool>) -> Self {
        SourceTasks {
            running: Vec::new(),
            events,
            shutdown,
        }
    }

    /// Stops the tasks of sources `config` no longer has and removes them from `sources`,
    /// updates cache preferences, and starts a task for each new source; returns how the
    /// effective set differs from `table` and what changed.
    pub(super) fn apply(
        &mut self,
        config: &RpkiConfig,
        sources: &mut VrpSources,
        table: &VrpTable,
    ) -> (VrpDelta, SourceChanges) {
        let wanted = keys(config);
        let (kept, stopped): (Vec<Running>, Vec<Running>) = std::mem::take(&mut self.running)
            .into_iter()
            .partition(|r| wanted.iter().any(|(key, _)| *key == r.key));
        for r in &stopped {
            r.task.abort();
        }
        let removed: Vec<SourceId> = stopped.iter().map(|r| r.id).collect();
        let preference = |r: &Running| {
            let wanted = wanted.iter().find(|(key, _)| *key == r.key);
            Some((r.id, wanted?.1?))
        };
        let preferences: Vec<_> = kept.iter().filter_map(preference).collect();
        let delta = sources.change(&removed, &preferences, table);
        self.running = kept;
        let mut changes = SourceChanges {
            removed: stopped.iter().map(|r| r.key.name()).collect(),
            ..Default::default()
        };
        for (key, preference) in wanted {
            if !self.running.iter().any(|r| r.key == key) {
                changes.added.push(key.name());
                self.start(key, preference, config.reload, sources);
            }
        }
        (delta, changes)
    }

    fn start(&mut self, key: Key, pref: Option<u32>, every: Duration, sources: &mut VrpSources) {
        let (events, shutdown) = (self.events.clone(), self.shutdown.clone());
        let (id, task) = match &key {
            Key::Cache(address) => {
                let preference = pref.unwrap_or_default();
                let n = sources.add_cache(address.clone(), preference);
                let cache = CacheConfig {
                    address: address.clone(),
                    preference,
                };
                let run = rtr::run(n, cache, events, shutdown);
                (SourceId::Cache(n), tokio::spawn(run))
            }
            Key::File(path) => {
                let n = sources.add_file(path.display().to_string());
                let watch = file::watch(n, path.clone(), every, events, shutdown);
                (SourceId::File(n), tokio::spawn(watch))
            }
            Key::Slurm(path) => {
                let n = sources.add_slurm(path.display().to_string());
                let watch = slurm::watch(n, path.clone(), every, events, shutdown);
                (SourceId::Slurm(n), tokio::spawn(watch))
            }
        };
        let task = task.abort_handle();
        self.running.push(Running { key, id, task });
    }
}

/// The sources `config` names, caches with their preference.
fn keys(config: &RpkiConfig) -> Vec<(Key, Option<u32>)> {
    let caches =
        (config.caches.iter()).map(|c| (Key::Cache(c.address.clone()), Some(c.preference)));
    let files = (config.vrp_files.iter()).map(|p| (Key::File(p.clone()), None));
    let slurms = (config.slurm.iter()).map(|p| (Key::Slurm(p.clone()), None));
    caches.chain(files).chain(slurms).collect()
}
