//! Hot paths of the RPKI side on real data: validating a full table against 424,223 VRPs,
//! building a snapshot from the full set, applying a 1,000-VRP RTR delta.
//!
//! `cargo bench --bench validate`

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tokio::time::Instant;

use rovgate::mrt::{self, MrtRoute};
use rovgate::rpki::sources::{CacheUpdate, SourceEvent, VrpSources};
use rovgate::rpki::{file, SnapshotWriter, Vrp, VrpStore, VrpTable};

/// The allocator the `rovgate` binary uses, so the numbers are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const VRPS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/vrps/rpki-client-2023-05-04-ripe-prepdev.json.gz"
);
const TABLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/tables/fulltable-2024.mrt.gz"
);

fn vrps() -> Vec<Vrp> {
    file::load(Path::new(VRPS)).expect("the shared 424k VRP file")
}

/// A store filled the way the rpki task fills it: one cache's reset, published by the
/// snapshot writer.
fn snapshot_from_cache(vrps: &[Vrp]) -> (VrpSources, VrpStore, SnapshotWriter) {
    let mut sources = VrpSources::new(vec![("cache".into(), 1)], vec![], vec![]);
    let update = CacheUpdate {
        reset: true,
        announced: vrps.to_vec(),
        timing: (3600, 600, 7200),
        ..Default::default()
    };
    let event = SourceEvent::CacheSynced {
        cache: 0,
        update: Box::new(update),
    };
    let store = VrpStore::new();
    let mut writer = SnapshotWriter::new(store.clone());
    let delta = sources.handle(event, Instant::now(), &store.load().table);
    writer.publish(delta, Default::default(), Default::default());
    (sources, store, writer)
}

fn validate(c: &mut Criterion) {
    let vrps = vrps();
    let mut table = VrpTable::new();
    vrps.iter().for_each(|v| {
        table.insert(*v);
    });
    let routes: Vec<MrtRoute> = mrt::routes(Path::new(TABLE))
        .expect("the shared full table")
        .collect();
    let mut g = c.benchmark_group("validate");
    g.throughput(Throughput::Elements(routes.len() as u64));
    g.sample_size(10);
    g.bench_function("full_table", |b| {
        b.iter(|| {
            routes
                .iter()
                .filter(|r| table.state(&r.prefix, r.origin) == rovgate::route::RovState::Invalid)
                .count()
        })
    });
    g.bench_function("full_table_with_reasons", |b| {
        b.iter(|| {
            routes
                .iter()
                .map(|r| table.validate(&r.prefix, r.origin).bad_asn.len())
                .sum::<usize>()
        })
    });
    g.finish();
}

fn snapshot(c: &mut Criterion) {
    let vrps = vrps();
    let mut g = c.benchmark_group("snapshot");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("reset_full_424k", |b| {
        b.iter(|| snapshot_from_cache(&vrps).1.load().table.len())
    });
    let (mut sources, store, mut writer) = snapshot_from_cache(&vrps);
    let changed: Vec<Vrp> = vrps
        .iter()
        .step_by(vrps.len() / 1000)
        .take(1000)
        .copied()
        .collect();
    let mut withdraw = true;
    // One 1,000-VRP RTR delta (alternately withdrawing and re-announcing the same VRPs),
    // merged and published as the rpki task does it.
    g.bench_function("delta_1000", |b| {
        b.iter(|| {
            let mut update = CacheUpdate {
                timing: (3600, 600, 7200),
                ..Default::default()
            };
            if withdraw {
                update.withdrawn = changed.clone();
            } else {
                update.announced = changed.clone();
            }
            withdraw = !withdraw;
            let event = SourceEvent::CacheSynced {
                cache: 0,
                update: Box::new(update),
            };
            let delta = sources.handle(event, Instant::now(), &store.load().table);
            assert_eq!(delta.added.len() + delta.removed.len(), 1000);
            writer.publish(delta, Default::default(), Default::default());
        })
    });
    g.finish();
}

criterion_group!(benches, validate, snapshot);
criterion_main!(benches);
