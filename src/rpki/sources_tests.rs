//! Tests for `sources.rs`: how VRP files, SLURM files and RTR caches merge.
//!
//! Each test drives [`VrpSources`] with events and applies every returned delta to a table,
//! as the rpki task does, then checks the effective set.

use tokio::time::Instant;

use super::*;
use crate::rpki::slurm::PrefixFilter;

fn vrp(prefix: &str, max_length: u8, asn: u32) -> Vrp {
    Vrp::new(prefix.parse().expect("test prefix"), max_length, Asn(asn)).expect("test VRP")
}

/// `VrpSources` plus the table the rpki task would hold.
struct Harness {
    sources: VrpSources,
    table: VrpTable,
}

impl Harness {
    fn new(caches: &[(&str, u32)], files: usize, slurms: usize) -> Self {
        let caches = caches.iter().map(|&(a, p)| (a.to_string(), p)).collect();
        let names = |kind: &str, n: usize| (0..n).map(|i| format!("{kind}{i}")).collect();
        Harness {
            sources: VrpSources::new(caches, names("file", files), names("slurm", slurms)),
            table: VrpTable::new(),
        }
    }

    /// Hands `event` to the sources and applies the delta, as the rpki task does.
    fn handle(&mut self, event: SourceEvent) -> VrpDelta {
        let delta = self.sources.handle(event, Instant::now(), &self.table);
        self.apply(delta)
    }

    /// Removes sources and sets preferences, then applies the delta, as a reload does.
    fn change(&mut self, removed: &[SourceId], preferences: &[(SourceId, u32)]) -> VrpDelta {
        let delta = self.sources.change(removed, preferences, &self.table);
        self.apply(delta)
    }

    fn apply(&mut self, delta: VrpDelta) -> VrpDelta {
        for vrp in &delta.removed {
            assert!(self.table.remove(vrp), "removed {vrp} was in the table");
        }
        for vrp in &delta.added {
            assert!(self.table.insert(*vrp), "added {vrp} was not in the table");
        }
        delta
    }

    fn file(&mut self, file: usize, vrps: &[Vrp]) -> VrpDelta {
        self.handle(SourceEvent::FileLoaded {
            file,
            vrps: vrps.to_vec(),
            aspas: Vec::new(),
        })
    }

    fn slurm(&mut self, file: usize, filters: Vec<PrefixFilter>, assertions: &[Vrp]) -> VrpDelta {
        let exceptions = LocalExceptions {
            filters,
            assertions: assertions.to_vec(),
        };
        self.handle(SourceEvent::SlurmLoaded { file, exceptions })
    }

    /// The effective set, sorted.
    fn vrps(&self) -> Vec<Vrp> {
        let mut all: Vec<Vrp> = self.table.iter().collect();
        all.sort_unstable();
        all
    }
}

fn filter(prefix: Option<&str>, asn: Option<u32>) -> PrefixFilter {
    PrefixFilter {
        prefix: prefix.map(|p| p.parse().expect("test prefix")),
        asn: asn.map(Asn),
        comment: None,
    }
}

fn delta(added: &[Vrp], removed: &[Vrp]) -> VrpDelta {
    VrpDelta {
        added: added.to_vec(),
        removed: removed.to_vec(),
    }
}

// ---- VRP files and SLURM ----------------------------------------------------------------

#[test]
fn file_reload_applies_the_difference() {
    let (a, b, c) = (
        vrp("10.0.0.0/24", 24, 65000),
        vrp("10.1.0.0/16", 24, 65001),
        vrp("2001:db8::/32", 48, 65002),
    );
    let mut h = Harness::new(&[], 1, 0);
    assert_eq!(h.file(0, &[a, b]), delta(&[a, b], &[]));
    assert_eq!(h.file(0, &[b, c]), delta(&[c], &[a]));
    assert_eq!(
        h.file(0, &[b, c]),
        delta(&[], &[]),
        "an unchanged reload changes nothing"
    );
    assert_eq!(h.vrps(), [b, c]);
}

#[test]
fn failed_file_keeps_its_previous_vrps() {
    let a = vrp("10.0.0.0/24", 24, 65000);
    let mut h = Harness::new(&[], 1, 0);
    h.file(0, &[a]);
    let error = "vrps.json:3: bad prefix".to_string();
    assert!(h
        .handle(SourceEvent::FileFailed { file: 0, error })
        .is_empty());
    assert_eq!(h.vrps(), [a]);
    let status = &h.sources.statuses()[0];
    assert_eq!((status.state, status.vrps), (SourceState::Error, 1));
    assert_eq!(status.error.as_deref(), Some("vrps.json:3: bad prefix"));
}

#[test]
fn a_vrp_in_two_files_stays_until_both_drop_it() {
    let (a, b) = (vrp("10.0.0.0/24", 24, 65000), vrp("10.1.0.0/16", 24, 65001));
    let mut h = Harness::new(&[], 2, 0);
    h.file(0, &[a, b]);
    assert_eq!(h.file(1, &[a]), delta(&[], &[]), "a is already in");
    assert_eq!(h.file(0, &[b]), delta(&[], &[]), "file 1 still holds a");
    assert_eq!(h.vrps(), [a, b]);
    assert_eq!(h.file(1, &[]), delta(&[], &[a]));
    assert_eq!(h.vrps(), [b]);
}

#[test]
fn slurm_filter_removes_and_keeps_removing_after_reloads() {
    let a = vrp("10.0.0.0/24", 24, 65000);
    let b = vrp("10.0.1.0/24", 24, 65001);
    let c = vrp("192.0.2.0/24", 24, 65000);
    let mut h = Harness::new(&[], 1, 1);
    h.file(0, &[a, b, c]);
    // Within 10.0.0.0/16 and of AS65000: only a.
    assert_eq!(
        h.slurm(0, vec![filter(Some("10.0.0.0/16"), Some(65000))], &[]),
        delta(&[], &[a])
    );
    let d = vrp("10.0.128.0/24", 24, 65000);
    assert_eq!(
        h.file(0, &[a, b, c, d]),
        delta(&[], &[]),
        "d is filtered as it arrives"
    );
    // Any prefix of AS65000: c too.
    assert_eq!(
        h.slurm(0, vec![filter(None, Some(65000))], &[]),
        delta(&[], &[c])
    );
    assert_eq!(h.vrps(), [b]);
    // Without filters everything comes back.
    assert_eq!(h.slurm(0, vec![], &[]), delta(&[a, d, c], &[]));
}

#[test]
fn slurm_assertion_adds_even_over_a_filter() {
    let a = vrp("10.0.0.0/24", 24, 65000);
    let asserted = vrp("198.51.100.0/24", 24, 64496);
    let mut h = Harness::new(&[], 1, 2);
    h.file(0, &[a]);
    assert_eq!(h.slurm(0, vec![], &[asserted]), delta(&[asserted], &[]));
    let everything = filter(Some("0.0.0.0/0"), None);
    assert_eq!(h.slurm(1, vec![everything], &[]), delta(&[], &[a]));
    assert_eq!(h.vrps(), [asserted], "an assertion is not filtered");
    assert_eq!(h.sources.exceptions().assertions, [asserted]);
    assert_eq!(h.slurm(0, vec![], &[]), delta(&[], &[asserted]));
}

#[test]
fn real_slurm_file_over_a_vrp_file() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/vrps/");
    let exceptions =
        super::super::slurm::load(std::path::Path::new(&format!("{data}test.slurm.json")))
            .expect("test.slurm.json loads");
    let filtered = vrp("10.0.0.0/24", 24, 65000);
    let kept = vrp("10.0.0.0/24", 24, 65001);
    let mut h = Harness::new(&[], 1, 1);
    h.file(0, &[filtered, kept]);
    let d = h.handle(SourceEvent::SlurmLoaded {
        file: 0,
        exceptions,
    });
    assert_eq!(d, delta(&[vrp("10.2.0.0/25", 26, 65002)], &[filtered]));
}

// ---- RTR caches ----------------------------------------------------------------------------

fn sync(h: &mut Harness, cache: usize, vrps: &[Vrp]) -> VrpDelta {
    let update = CacheUpdate {
        reset: true,
        announced: vrps.to_vec(),
        timing: (3600, 600, 7200),
        ..Default::default()
    };
    h.handle(SourceEvent::CacheSynced {
        cache,
        update: Box::new(update),
    })
}

#[test]
fn the_preferred_cache_is_used_and_a_cache_that_goes_down_keeps_its_data() {
    let (a, b) = (vrp("10.0.0.0/24", 24, 65000), vrp("10.1.0.0/16", 24, 65001));
    let mut h = Harness::new(&[("c0", 2), ("c1", 1)], 0, 0);
    assert_eq!(sync(&mut h, 0, &[a]), delta(&[a], &[]));
    assert_eq!(sync(&mut h, 1, &[b]), delta(&[b], &[a]), "c1 is preferred");
    let error = "connection closed by the cache".to_string();
    let down = h.handle(SourceEvent::CacheDown { cache: 1, error });
    assert_eq!(down, delta(&[a], &[b]), "c0 is up, c1 only within expire");
}

// ---- sources added and removed (a config reload) -----------------------------------------

#[test]
fn a_removed_file_takes_only_its_own_vrps_along() {
    let (a, b) = (vrp("10.0.0.0/24", 24, 65000), vrp("10.1.0.0/16", 24, 65001));
    let mut h = Harness::new(&[], 2, 0);
    h.file(0, &[a, b]);
    h.file(1, &[a]);
    let removed = [SourceId::File(0)];
    assert_eq!(h.change(&removed, &[]), delta(&[], &[b]));
    assert_eq!(h.sources.statuses().len(), 1);
    assert!(
        h.file(0, &[b]).is_empty(),
        "a late event of the removed file"
    );
}

#[test]
fn removing_the_cache_in_use_hands_over_and_a_new_cache_joins_when_it_answers() {
    let (a, b, c) = (
        vrp("10.0.0.0/24", 24, 65000),
        vrp("10.1.0.0/16", 24, 65001),
        vrp("2001:db8::/32", 48, 65002),
    );
    let mut h = Harness::new(&[("c0", 1), ("c1", 2)], 0, 0);
    sync(&mut h, 0, &[a]);
    sync(&mut h, 1, &[b]);
    assert_eq!(h.vrps(), [a]);
    let d = h.change(&[SourceId::Cache(0)], &[]);
    assert_eq!(d, delta(&[b], &[a]), "c1 takes over");
    let added = h.sources.add_cache("c2".into(), 0);
    assert_ne!(added, 0, "an id is never used twice");
    assert!(sync(&mut h, 0, &[a]).is_empty(), "c0 is gone");
    assert_eq!(
        sync(&mut h, added, &[c]),
        delta(&[c], &[b]),
        "c2 is preferred"
    );
    let statuses = h.sources.statuses();
    let names: Vec<(&str, bool)> = (statuses.iter())
        .map(|s| (s.name.as_str(), s.in_use))
        .collect();
    assert_eq!(names, [("c1", false), ("c2", true)]);
    let back = h.change(&[], &[(SourceId::Cache(1), 0)]);
    assert_eq!(
        back,
        delta(&[b], &[c]),
        "c1, now preferred, wins the tie by position"
    );
}

#[test]
fn a_removed_slurm_file_gives_back_what_it_filtered_and_takes_its_assertions() {
    let (a, asserted) = (
        vrp("10.0.0.0/24", 24, 65000),
        vrp("198.51.100.0/24", 24, 64496),
    );
    let mut h = Harness::new(&[], 1, 1);
    h.file(0, &[a]);
    h.slurm(0, vec![filter(None, Some(65000))], &[asserted]);
    assert_eq!(h.vrps(), [asserted]);
    let d = h.change(&[SourceId::Slurm(0)], &[]);
    assert_eq!(d, delta(&[a], &[asserted]));
    assert!(h.sources.exceptions().assertions.is_empty());
}
