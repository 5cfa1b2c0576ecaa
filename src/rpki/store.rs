//! Immutable VRP snapshots behind `ArcSwap`.
//!
//! Where it sits: the rpki task (`rpki/mod.rs`) is the only writer; it builds the next
//! [`VrpSnapshot`] from the previous one plus a [`VrpDelta`] and swaps it in. Everyone else
//! (RIB, HTTP, CLI) calls [`VrpStore::load`] and never waits: readers do not lock.

use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use ipnet::IpNet;
use tokio::sync::watch;

use super::aspa::AspaTable;
use super::slurm::LocalExceptions;
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

/// What the RIB is told after a snapshot is published: the VRP prefixes whose routes (each
/// prefix and its more-specifics) need re-validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VrpsChanged {
    /// The published snapshot's serial.
    pub serial: u64,
    /// [`VrpDelta::changed_prefixes`] of the delta it applied.
    pub prefixes: Vec<IpNet>,
    /// The snapshot before had no VRPs: this is the first data, not a change to judge.
    pub first: bool,
    /// The VRP set is complete (every source answered once, or `startup_wait` passed);
    /// sent once with no prefixes when that alone changed.
    pub complete: bool,
    /// The ASPA table changed: paths are verified again (ASPA verification).
    pub aspas: bool,
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
    /// ASPA objects from the RTR cache in use (RTR v2) and the VRP files, for lookups.
    pub aspas: AspaTable,
    /// SLURM filters and assertions in force, shown apart from the sources.
    pub exceptions: LocalExceptions,
}

impl VrpTable {
    /// Applies a delta in place.
    pub fn apply(&mut self, delta: &VrpDelta) {
        for vrp in &delta.removed {
            self.remove(vrp);
        }
        for vrp in &delta.added {
            self.insert(*vrp);
        }
    }
}

/// The rpki task's side of the store: builds and publishes the next snapshot.
///
/// Each publish clones the current table (11.5 MiB for 424k VRPs, a few milliseconds) and
/// applies the delta to the copy, which readers then share; the replaced table is freed
/// when its last reader lets go. Keeping it for reuse would save the copy but hold a second
/// table, and the deltas it missed, for good.
pub struct SnapshotWriter {
    store: VrpStore,
}

impl SnapshotWriter {
    /// The writer for `store`.
    pub fn new(store: VrpStore) -> Self {
        SnapshotWriter { store }
    }

    /// Publishes the current snapshot with `delta` applied, these ASPAs and exceptions, and
    /// the next serial; returns the new serial and VRP count.
    pub fn publish(
        &mut self,
        delta: VrpDelta,
        aspas: AspaTable,
        exceptions: LocalExceptions,
    ) -> (u64, usize) {
        let current = self.store.load();
        let mut table = current.table.clone();
        table.apply(&delta);
        let next = VrpSnapshot {
            table,
            serial: current.serial + 1,
            updated: Some(SystemTime::now()),
            aspas,
            exceptions,
        };
        let published = (next.serial, next.table.len());
        self.store.publish(next);
        published
    }
}

/// The published VRP snapshot. Cheap to clone; readers never block.
#[derive(Clone, Debug, Default)]
pub struct VrpStore {
    current: Arc<ArcSwap<VrpSnapshot>>,
    status: Arc<ArcSwap<RpkiStatus>>,
    /// The serial of the snapshot last published, for followers that wait for the next
    /// (the RTR server); sending never waits for them.
    published: Arc<watch::Sender<u64>>,
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

    /// A receiver that wakes whenever a snapshot is published (its value: the serial).
    pub fn follow(&self) -> watch::Receiver<u64> {
        self.published.subscribe()
    }

    /// Swaps in the next snapshot. Only the rpki task calls this.
    pub(crate) fn publish(&self, snapshot: VrpSnapshot) {
        let serial = snapshot.serial;
        self.current.store(Arc::new(snapshot));
        self.published.send_replace(serial);
    }

    /// Swaps in the sources' new state. Only the rpki task calls this.
    pub(crate) fn publish_status(&self, status: RpkiStatus) {
        self.status.store(Arc::new(status));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::{Asn, RovState};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    /// Every published table is exactly the sum of the deltas, and a snapshot a reader
    /// holds never changes.
    #[test]
    fn published_tables_sum_the_deltas() {
        let store = VrpStore::new();
        let mut writer = SnapshotWriter::new(store.clone());
        let v = |i: u32| Vrp::new(format!("10.{i}.0.0/16").parse().unwrap(), 24, Asn(i)).unwrap();
        let add = |i| VrpDelta {
            added: vec![v(i)],
            removed: vec![],
        };
        writer.publish(add(1), Default::default(), Default::default());
        let held = store.load(); // a reader keeps snapshot 1 across the next publishes
        writer.publish(add(2), Default::default(), Default::default());
        writer.publish(add(3), Default::default(), Default::default());
        writer.publish(add(4), Default::default(), Default::default());
        writer.publish(
            VrpDelta {
                added: vec![],
                removed: vec![v(2)],
            },
            Default::default(),
            Default::default(),
        );
        let snap = store.load();
        assert_eq!(snap.serial, 5);
        let mut got: Vec<Vrp> = snap.table.iter().collect();
        got.sort();
        assert_eq!(got, vec![v(1), v(3), v(4)]);
        assert_eq!(
            held.table.iter().collect::<Vec<_>>(),
            vec![v(1)],
            "a held snapshot never changes"
        );
    }

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
