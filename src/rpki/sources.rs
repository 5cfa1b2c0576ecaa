//! The VRP sources and how they merge into one effective set.
//!
//! Where it sits: RTR cache tasks (`rtr.rs`) and file readers (`file.rs`, `slurm.rs`) send
//! [`SourceEvent`]s to the rpki task, which hands them to [`VrpSources`]. `VrpSources` is pure
//! (no I/O, time passed in) and answers each event with the [`VrpDelta`] to apply to the
//! current table. The effective set is
//! `(files ∪ the RTR cache in use) − SLURM filters ∪ SLURM assertions`.
//! The cache in use is the most preferred one that is up and synced; failing that, the most
//! preferred whose data is within its expire time; failing that, none (data withdrawn).
//! Sources come and go with a config reload (`sources_change.rs`).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

pub use super::aspa::Aspa;
use super::aspa::AspaTable;
use super::slurm::LocalExceptions;
use super::status::{SourceState, SourceStatus};
use super::store::VrpDelta;
use super::vrp::{Vrp, VrpTable};
use super::vrp_set::VrpSet;
use crate::route::Asn;

/// What a cache sent in one completed reset or serial query (up to End of Data).
#[derive(Clone, Debug, Default)]
pub struct CacheUpdate {
    /// A reset: the data replaces everything the cache sent before.
    pub reset: bool,
    /// Route origins announced.
    pub announced: Vec<Vrp>,
    /// Route origins withdrawn.
    pub withdrawn: Vec<Vrp>,
    /// ASPAs announced (replacing the customer's previous one).
    pub aspa_announced: Vec<Aspa>,
    /// Customer ASes whose ASPA was withdrawn.
    pub aspa_withdrawn: Vec<Asn>,
    /// The cache's serial after this update, when known.
    pub serial: Option<u32>,
    /// The negotiated RTR version.
    pub version: Option<u8>,
    /// Refresh, retry and expire from End of Data, in seconds.
    pub timing: (u32, u32, u32),
}

/// Something that happened to a source, named by the id it was added with (see
/// [`SourceId`]); an event of a source removed since is ignored.
#[derive(Clone, Debug)]
pub enum SourceEvent {
    /// The cache's TCP connection is open; no data yet on this connection.
    CacheConnected { cache: usize },
    /// The cache completed a query.
    CacheSynced {
        cache: usize,
        update: Box<CacheUpdate>,
    },
    /// The cache's connection failed or closed; its data is kept until it expires.
    CacheDown { cache: usize, error: String },
    /// A VRP file was (re)read.
    FileLoaded {
        file: usize,
        vrps: Vec<Vrp>,
        aspas: Vec<Aspa>,
    },
    /// A VRP file could not be read; its previous data stays.
    FileFailed { file: usize, error: String },
    /// A SLURM file was (re)read.
    SlurmLoaded {
        file: usize,
        exceptions: LocalExceptions,
    },
    /// A SLURM file could not be read; its previous exceptions stay.
    SlurmFailed { file: usize, error: String },
}

#[derive(Debug)]
struct Cache {
    id: usize,
    status: SourceStatus,
    vrps: VrpSet,
    aspas: BTreeMap<Asn, Vec<Asn>>,
    expires_at: Option<Instant>,
}

#[derive(Debug)]
struct FileSource {
    id: usize,
    status: SourceStatus,
    vrps: VrpSet,
    aspas: Vec<Aspa>,
}

#[derive(Debug)]
struct SlurmSource {
    id: usize,
    status: SourceStatus,
    exceptions: LocalExceptions,
}

/// All sources; their union (before SLURM) is asked of each source's set, not copied.
#[derive(Debug, Default)]
pub struct VrpSources {
    caches: Vec<Cache>,
    files: Vec<FileSource>,
    slurms: Vec<SlurmSource>,
    in_use: Option<usize>,
    /// The id the next source added gets: ids are never used twice.
    next_id: usize,
}

impl VrpSources {
    /// Applies one event; returns how the effective set differs from `table`.
    pub fn handle(&mut self, event: SourceEvent, now: Instant, table: &VrpTable) -> VrpDelta {
        let Some(event) = self.by_position(event) else {
            return VrpDelta::default();
        };
        let mut touched = Vec::new();
        match event {
            SourceEvent::CacheConnected { cache } => self.caches[cache].status.error = None,
            SourceEvent::CacheSynced { cache, update } => {
                self.cache_synced(cache, *update, now, &mut touched)
            }
            SourceEvent::CacheDown { cache, error } => {
                let c = &mut self.caches[cache];
                if c.status.state != SourceState::Expired {
                    c.status.state = SourceState::Down;
                }
                c.status.error = Some(error);
            }
            SourceEvent::FileLoaded { file, vrps, aspas } => {
                self.files[file].aspas = aspas;
                self.file_loaded(file, vrps, &mut touched)
            }
            SourceEvent::FileFailed { file, error } => fail(&mut self.files[file].status, error),
            SourceEvent::SlurmLoaded { file, exceptions } => {
                let s = &mut self.slurms[file];
                s.exceptions = exceptions;
                s.status.state = SourceState::Up;
                s.status.vrps = s.exceptions.assertions.len();
                s.status.last_update = Some(SystemTime::now());
                s.status.error = None;
                return self.delta(self.every_vrp(table), table);
            }
            SourceEvent::SlurmFailed { file, error } => fail(&mut self.slurms[file].status, error),
        }
        self.expire(now, &mut touched);
        self.reselect(&mut touched);
        self.delta(touched, table)
    }

    /// Withdraws cache data past its expire time; returns the resulting delta.
    pub fn tick(&mut self, now: Instant, table: &VrpTable) -> VrpDelta {
        let mut touched = Vec::new();
        self.expire(now, &mut touched);
        self.reselect(&mut touched);
        self.delta(touched, table)
    }

    /// The earliest time at which some cache's data expires.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.caches.iter().filter_map(|c| c.expires_at).min()
    }

    /// Statuses of every source, caches first, then files, then SLURM files.
    pub fn statuses(&self) -> Vec<SourceStatus> {
        let caches = self.caches.iter().enumerate().map(|(i, c)| SourceStatus {
            in_use: self.in_use == Some(i),
            ..c.status.clone()
        });
        let files = self.files.iter().map(|f| f.status.clone());
        caches
            .chain(files)
            .chain(self.slurms.iter().map(|s| s.status.clone()))
            .collect()
    }

    /// The ASPAs of the cache in use and of the files, a customer's providers united.
    pub fn aspas(&self) -> AspaTable {
        let cached = self.in_use.map(|i| &self.caches[i].aspas).into_iter();
        let cached = cached.flatten().map(|(customer, providers)| Aspa {
            customer: *customer,
            providers: providers.clone(),
        });
        let files = self.files.iter().flat_map(|f| f.aspas.iter().cloned());
        AspaTable::new(cached.chain(files))
    }

    /// All SLURM files' exceptions together.
    pub fn exceptions(&self) -> LocalExceptions {
        let mut all = LocalExceptions::default();
        for s in &self.slurms {
            all.filters.extend(s.exceptions.filters.iter().cloned());
            all.assertions
                .extend(s.exceptions.assertions.iter().copied());
        }
        all
    }

    /// True when caches are configured and none has data within its expire time.
    pub fn stale(&self) -> bool {
        !self.caches.is_empty() && self.in_use.is_none() && self.ever_synced()
    }

    /// Whether every source has answered once: each cache completed a query, each file
    /// was read (or failed to be).
    pub fn all_answered(&self) -> bool {
        let answered = |s: &SourceStatus| s.state != SourceState::Starting;
        self.caches.iter().all(|c| c.status.last_update.is_some())
            && self.files.iter().all(|f| answered(&f.status))
            && self.slurms.iter().all(|s| answered(&s.status))
    }

    fn ever_synced(&self) -> bool {
        self.caches.iter().any(|c| c.status.last_update.is_some())
    }

    fn cache_synced(&mut self, i: usize, u: CacheUpdate, now: Instant, touched: &mut Vec<Vrp>) {
        let in_use = self.in_use == Some(i);
        let c = &mut self.caches[i];
        if u.reset {
            if in_use {
                touched.extend(c.vrps.iter());
            }
            c.vrps.clear();
            c.aspas.clear();
        }
        c.vrps.apply(u.withdrawn, u.announced, |vrp| {
            if in_use {
                touched.push(vrp);
            }
        });
        for customer in u.aspa_withdrawn {
            c.aspas.remove(&customer);
        }
        for aspa in u.aspa_announced {
            c.aspas.insert(aspa.customer, aspa.providers);
        }
        let s = &mut c.status;
        if u.reset {
            s.resets += 1;
        } else {
            s.serial_updates += 1;
        }
        s.state = SourceState::Up;
        s.vrps = c.vrps.len();
        s.serial = u.serial.or(s.serial);
        s.version = u.version.or(s.version);
        s.last_update = Some(SystemTime::now());
        s.error = None;
        c.expires_at = Some(now + Duration::from_secs(u.timing.2.into()));
    }

    fn file_loaded(&mut self, i: usize, vrps: Vec<Vrp>, touched: &mut Vec<Vrp>) {
        let new = VrpSet::of(vrps);
        let f = &mut self.files[i];
        touched.extend(f.vrps.symmetric_difference(&new));
        f.vrps = new;
        f.status.state = SourceState::Up;
        f.status.vrps = f.vrps.len();
        f.status.last_update = Some(SystemTime::now());
        f.status.error = None;
    }

    /// Drops the data of every cache past its expire time (RFC 8210 §6).
    fn expire(&mut self, now: Instant, touched: &mut Vec<Vrp>) {
        for i in 0..self.caches.len() {
            if self.caches[i].expires_at.is_some_and(|t| t <= now) {
                if self.in_use == Some(i) {
                    self.switch(None, touched);
                }
                let c = &mut self.caches[i];
                c.vrps.clear();
                c.aspas.clear();
                c.expires_at = None;
                c.status.state = SourceState::Expired;
                c.status.vrps = 0;
            }
        }
    }

    /// Picks the cache to use: the most preferred that is up, else the most preferred with
    /// data that has not expired.
    fn reselect(&mut self, touched: &mut Vec<Vrp>) {
        let by_pref = |state: SourceState| {
            self.caches
                .iter()
                .enumerate()
                .filter(|(_, c)| c.status.state == state && c.expires_at.is_some())
                .min_by_key(|(i, c)| (c.status.preference, *i))
                .map(|(i, _)| i)
        };
        let best = by_pref(SourceState::Up).or_else(|| by_pref(SourceState::Down));
        if best != self.in_use {
            self.switch(best, touched);
        }
    }

    /// Makes `next` the cache in use; the VRPs of both are touched, and a VRP both hold
    /// stays in the effective set.
    fn switch(&mut self, next: Option<usize>, touched: &mut Vec<Vrp>) {
        for i in [next, self.in_use].into_iter().flatten() {
            touched.extend(self.caches[i].vrps.iter());
        }
        self.in_use = next;
    }

    /// Whether a file or the cache in use holds `vrp` (before SLURM).
    fn sourced(&self, vrp: &Vrp) -> bool {
        let cached = self
            .in_use
            .is_some_and(|i| self.caches[i].vrps.contains(vrp));
        cached || self.files.iter().any(|f| f.vrps.contains(vrp))
    }

    /// Whether `vrp` belongs to the effective set.
    fn effective(&self, vrp: &Vrp) -> bool {
        let asserted = || {
            self.slurms
                .iter()
                .any(|s| s.exceptions.assertions.contains(vrp))
        };
        let filtered = || {
            self.slurms
                .iter()
                .any(|s| s.exceptions.filters.iter().any(|f| f.drops(vrp)))
        };
        asserted() || (self.sourced(vrp) && !filtered())
    }

    fn every_vrp(&self, table: &VrpTable) -> Vec<Vrp> {
        let asserted = self.slurms.iter().flat_map(|s| &s.exceptions.assertions);
        let cached = self.in_use.map(|i| &self.caches[i].vrps);
        let files = self.files.iter().map(|f| &f.vrps);
        let sourced = cached.into_iter().chain(files).flat_map(VrpSet::iter);
        let mut all: Vec<Vrp> = sourced.chain(asserted.copied()).collect();
        all.extend(table.iter());
        all
    }

    /// Compares each touched VRP's effective membership with `table`. The VRPs added are
    /// kept in `touched`'s own buffer: after a cache's first reset that is the whole set,
    /// and a second copy of it would only raise the peak memory.
    fn delta(&self, mut touched: Vec<Vrp>, table: &VrpTable) -> VrpDelta {
        touched.sort_unstable();
        touched.dedup();
        let mut removed = Vec::new();
        touched.retain(|vrp| match (self.effective(vrp), table.contains(vrp)) {
            (true, in_table) => !in_table,
            (false, in_table) => {
                if in_table {
                    removed.push(*vrp);
                }
                false
            }
        });
        touched.shrink_to_fit();
        VrpDelta {
            added: touched,
            removed,
        }
    }
}

fn fail(status: &mut SourceStatus, error: String) {
    status.state = SourceState::Error;
    status.error = Some(error);
}

#[path = "sources_change.rs"]
mod change;
pub use change::SourceId;

#[cfg(test)]
#[path = "sources_tests.rs"]
mod tests;
