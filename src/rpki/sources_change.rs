//! Sources added and removed while rovgate runs, and the ids their events carry.
//!
//! Where it sits: the rpki task's source tasks (`source_tasks.rs`) add a source here when
//! they start its task, at startup and on a config reload, and remove it when a reload drops
//! it from the config. A source's events name it by the id it was added with, never by its
//! position: positions shift when a source is removed, and an event still queued from a
//! removed source must find nothing rather than another source.

use std::collections::BTreeMap;

use super::{Cache, FileSource, SlurmSource, SourceEvent, VrpSources};
use crate::rpki::slurm::LocalExceptions;
use crate::rpki::status::SourceStatus;
use crate::rpki::store::VrpDelta;
use crate::rpki::vrp::VrpTable;
use crate::rpki::vrp_set::VrpSet;

/// A source as [`VrpSources`] knows it: its kind and the id its events carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceId {
    /// An RTR cache (`SourceEvent::Cache*`'s `cache`).
    Cache(usize),
    /// A VRP file (`FileLoaded`/`FileFailed`'s `file`).
    File(usize),
    /// A SLURM file (`SlurmLoaded`/`SlurmFailed`'s `file`).
    Slurm(usize),
}

impl VrpSources {
    /// Sources as configured: caches as (address, preference), VRP files, SLURM files; each
    /// kind's ids are their positions here (0, 1, ...).
    pub fn new(caches: Vec<(String, u32)>, files: Vec<String>, slurms: Vec<String>) -> Self {
        let mut sources = VrpSources::default();
        for (name, preference) in caches {
            sources.add_cache(name, preference);
        }
        sources.next_id = 0;
        for name in files {
            sources.add_file(name);
        }
        sources.next_id = 0;
        for name in slurms {
            sources.add_slurm(name);
        }
        sources.next_id = sources.caches.len().max(sources.files.len());
        sources.next_id = sources.next_id.max(sources.slurms.len());
        sources
    }

    /// Adds an RTR cache that has not answered yet; its events carry the id returned.
    pub fn add_cache(&mut self, address: String, preference: u32) -> usize {
        let id = self.take_id();
        self.caches.push(Cache {
            id,
            status: SourceStatus::new("rtr", address, Some(preference)),
            vrps: VrpSet::default(),
            aspas: BTreeMap::new(),
            expires_at: None,
        });
        id
    }

    /// Adds a VRP file not read yet; its events carry the id returned.
    pub fn add_file(&mut self, path: String) -> usize {
        let id = self.take_id();
        self.files.push(FileSource {
            id,
            status: SourceStatus::new("file", path, None),
            vrps: VrpSet::default(),
            aspas: Vec::new(),
        });
        id
    }

    /// Adds a SLURM file not read yet; its events carry the id returned.
    pub fn add_slurm(&mut self, path: String) -> usize {
        let id = self.take_id();
        self.slurms.push(SlurmSource {
            id,
            status: SourceStatus::new("slurm", path, None),
            exceptions: LocalExceptions::default(),
        });
        id
    }

    /// Removes the sources `removed` (their VRPs, ASPAs and exceptions leave the effective
    /// set; a removed cache in use hands over to the next by preference) and gives the caches
    /// in `preferences` their new preference; returns how the effective set differs from
    /// `table`. Ids not (or no longer) known are passed over.
    pub fn change(
        &mut self,
        removed: &[SourceId],
        preferences: &[(SourceId, u32)],
        table: &VrpTable,
    ) -> VrpDelta {
        let mut touched = Vec::new();
        for &id in removed {
            match (id, self.position(id)) {
                (SourceId::Cache(_), Some(i)) => self.remove_cache(i, &mut touched),
                (SourceId::File(_), Some(i)) => touched.extend(self.files.remove(i).vrps.iter()),
                (SourceId::Slurm(_), Some(i)) => {
                    self.slurms.remove(i);
                    touched.extend(self.every_vrp(table));
                }
                (_, None) => {}
            }
        }
        for &(id, preference) in preferences {
            if let (SourceId::Cache(_), Some(i)) = (id, self.position(id)) {
                self.caches[i].status.preference = Some(preference);
            }
        }
        self.reselect(&mut touched);
        self.delta(touched, table)
    }

    /// `event` with its source's id turned into the source's position; none when the source
    /// was removed.
    pub(super) fn by_position(&self, mut event: SourceEvent) -> Option<SourceEvent> {
        let (id, at) = match &mut event {
            SourceEvent::CacheConnected { cache }
            | SourceEvent::CacheSynced { cache, .. }
            | SourceEvent::CacheDown { cache, .. } => (SourceId::Cache(*cache), cache),
            SourceEvent::FileLoaded { file, .. } | SourceEvent::FileFailed { file, .. } => {
                (SourceId::File(*file), file)
            }
            SourceEvent::SlurmLoaded { file, .. } | SourceEvent::SlurmFailed { file, .. } => {
                (SourceId::Slurm(*file), file)
            }
        };
        *at = self.position(id)?;
        Some(event)
    }

    fn position(&self, id: SourceId) -> Option<usize> {
        match id {
            SourceId::Cache(id) => self.caches.iter().position(|c| c.id == id),
            SourceId::File(id) => self.files.iter().position(|f| f.id == id),
            SourceId::Slurm(id) => self.slurms.iter().position(|s| s.id == id),
        }
    }

    fn take_id(&mut self) -> usize {
        self.next_id += 1;
        self.next_id - 1
    }

    fn remove_cache(&mut self, i: usize, touched: &mut Vec<super::Vrp>) {
        if self.in_use == Some(i) {
            self.switch(None, touched);
        }
        self.caches.remove(i);
        self.in_use = self.in_use.map(|u| if u > i { u - 1 } else { u });
    }
}
