//! Immutable VRP snapshots behind `ArcSwap`.
//!
//! Where it sits: the rpki task (`rpki/mod.rs`) is the only writer; it builds the next
//! [`VrpSnapshot`] from the previous one plus a [`VrpDelta`] and swaps it in. Everyone else
//! (RIB, HTTP, CLI) calls [`VrpStore::load`] and never waits: readers do not lock.

use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use ipnet::IpNet;

use super::sources::{Aspa, LocalExceptions};
use super::status::RpkiStatus;
use super::vrp::{Vrp, VrpTable};

/// What one publish changed: VRPs added and removed relative to the previous snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VrpDelta {
    /// VRPs new in this snapshot.
    pub added: Vec<Vrp>,
    /// VRPs gone from this snapshot.
    pub removed: Vec<Vrp>,
}

impl VrpDelta {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }

    /// The VRP prefixes whose routes (the prefix and its more-specifics) need re-validation,
    /// sorted and without duplicates.
    pub fn changed_prefixes(&self) -> Vec<IpNet> {
        let mut prefixes: Vec<IpNet> = self
            .added
            .iter()
            .chain(&self.removed)
            .map(|v| v.prefix)
            .collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        prefixes
    }
}

/// One immutable view of the effective VRP set and where it came from.
#[derive(Debug, Default)]
pub struct VrpSnapshot {
    /// The effective VRPs: sources unioned, SLURM applied.
    pub table: VrpTable,
    /// Increases by one with every published snapshot (0: nothing published yet).
    pub serial: u64,
    /// When this snapshot was published.
    pub updated: Option<SystemTime>,
    /// ASPA objects from the RTR cache in use (RTR v2).
    pub aspas: Vec<Aspa>,
    /// SLURM filters and assertions in force, shown apart from the sources.
    pub exceptions: LocalExceptions,
}

impl VrpSnapshot {
    /// The next snapshot: this one's table with `delta` applied, the given ASPAs and SLURM
    /// exceptions, and the next serial.
    pub fn next(&self, delta: &VrpDelta, aspas: Vec<Aspa>, exceptions: LocalExceptions) -> Self {
        let mut table = self.table.clone();
        for vrp in &delta.removed {
            table.remove(vrp);
        }
        for vrp in &delta.added {
            table.insert(*vrp);
        }
        VrpSnapshot {
            table,
            serial: self.serial + 1,
            updated: Some(SystemTime::now()),
            aspas,
            exceptions,
        }
    }
}

/// The published VRP snapshot. Cheap to clone; readers never block.
#[derive(Clone, Debug, Default)]
pub struct VrpStore {
    current: Arc<ArcSwap<VrpSnapshot>>,
    status: Arc<ArcSwap<RpkiStatus>>,
}

impl VrpStore {
    /// A store holding an empty snapshot with serial 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current snapshot.
    pub fn load(&self) -> Arc<VrpSnapshot> {
        self.current.load_full()
    }

    /// The current state of the sources.
    pub fn status(&self) -> Arc<RpkiStatus> {
        self.status.load_full()
    }

    /// Swaps in the next snapshot. Only the rpki task calls this.
    pub(crate) fn publish(&self, snapshot: VrpSnapshot) {
        self.current.store(Arc::new(snapshot));
    }

    /// Swaps in the sources' new state. Only the rpki task calls this.
    pub(crate) fn publish_status(&self, status: RpkiStatus) {
        self.status.store(Arc::new(status));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpki::vrp::{Asn, RovState};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    /// Readers validate continuously while the writer swaps in 100 snapshots; no reader ever
    /// waits for the writer and each sees a consistent table (the route is valid exactly
    /// when the snapshot serial is even).
    #[test]
    fn readers_never_block_while_snapshots_swap() {
        let store = VrpStore::new();
        let route: IpNet = "192.0.2.0/24".parse().unwrap();
        let vrp = Vrp::new(route, 24, Asn(64496)).unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let reads = Arc::new(AtomicU64::new(0));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (store, done, reads) = (store.clone(), done.clone(), reads.clone());
                std::thread::spawn(move || {
                    while !done.load(Ordering::Relaxed) {
                        let snap = store.load();
                        let state = snap.table.state(&route, Some(Asn(64496)));
                        let expected = if snap.serial % 2 == 0 && snap.serial > 0 {
                            RovState::Valid
                        } else {
                            RovState::NotFound
                        };
                        assert_eq!(state, expected, "serial {}", snap.serial);
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for serial in 1..=100u64 {
            let mut table = VrpTable::new();
            if serial % 2 == 0 {
                table.insert(vrp);
            }
            let before = reads.load(Ordering::Relaxed);
            store.publish(VrpSnapshot {
                table,
                serial,
                ..Default::default()
            });
            // Readers keep making progress between swaps.
            while reads.load(Ordering::Relaxed) == before {
                std::thread::yield_now();
            }
        }
        done.store(true, Ordering::Relaxed);
        for r in readers {
            r.join().unwrap();
        }
        assert_eq!(store.load().serial, 100);
    }
}
