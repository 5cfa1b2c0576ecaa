//! ROV in the route path with the full table loaded (`../shared/data/tables/fulltable-2024`,
//! 1,158,189 routes) and the 424,223 VRPs of `../shared/data/vrps`:
//!
//! - `reevaluate/delta_1000`: a new snapshot with 1,000 VRPs removed (or added back), from
//!   the change notice to the last resulting UPDATE encoded for the receiving peer;
//! - `reevaluate/reset_full`: the same for a reset from no VRPs to all 424,223;
//! - `rib/full_table/{accept,drop}`: loading the whole table through the RIB to one
//!   receiving peer, UPDATEs encoded, with the sender's `rov` at accept or drop (the cost of
//!   ROV in the route path); `drop+checks`: drop, and every IXP import check run in
//!   `shadow` (nothing more filtered; the cost of the checks); `drop+checks+irr`: the same
//!   with an AS-SET holding every prefix of the table (the worst case of the IRR check);
//!   `drop+aspa`: drop, and ASPA verification in `drop` (downstream: the sender is a
//!   transit feed) against the shared file's 6,647 ASPAs plus 5,000 synthesized from the
//!   table's own paths (each AS with the ASes it follows on them as providers, so that
//!   most hops are attested and the whole path is walked); `ten_feeders`: ten senders in
//!   `drop` sending the table in turns, UPDATE by UPDATE, each with its AS before the path
//!   (the import of `benches/compare.sh 3 10`, without the sockets).
//! - `irr/covers_full_table`: that IRR prefix lookup alone, for every prefix of the table.
//!
//! `cargo bench --bench reevaluate`; `ONCE=NAME` (a `rib/full_table` case) loads the table
//! once for that case and exits, for counting instructions under callgrind (BENCHMARKS.md).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use tokio::sync::mpsc;

use rovgate::bgp::wire::{self, encode_updates, Caps};
use rovgate::feed::{load, FeedPeer};
use rovgate::policy::{AspaProcedure, CheckGroup, CheckModes, Filters, Irr, RovMode, Tagging};
use rovgate::rib::{MassInvalidation, Outgoing, PeerInfo, Rib, RibEvent};
use rovgate::route::{Asn, AttrSet, Family, PeerId, Segment, Update};
use rovgate::rpki::{file, Aspa, AspaTable, SnapshotWriter, Vrp, VrpDelta, VrpStore, VrpsChanged};

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
const CAPS: Caps = Caps {
    as4: true,
    max_len: wire::MAX_LEN,
    rov_ext_community: false,
    extended_next_hop: false,
};

/// A RIB with sender peers (`mode`) and a receiving peer whose exports are encoded.
struct Bench {
    rib: Rib,
    /// How many senders (peers 0 to N - 1; the receiver is N).
    senders: u32,
    sink: mpsc::Receiver<Outgoing>,
    writer: SnapshotWriter,
    store: VrpStore,
    /// UPDATEs encoded so far.
    updates: usize,
}

impl Bench {
    fn new(mode: RovMode, feed: &FeedPeer, vrps: &[Vrp]) -> Bench {
        Bench::with_checks(mode, None, None, feed, vrps)
    }

    /// As [`Bench::new`], with `checks` the sender's import checks run in `shadow`, against
    /// an AS-SET when one is given; with `aspas`, its ASPA verification in `drop`.
    fn with_checks(
        mode: RovMode,
        checks: Option<Option<&Irr>>,
        aspas: Option<&AspaTable>,
        feed: &FeedPeer,
        vrps: &[Vrp],
    ) -> Bench {
        let store = VrpStore::new();
        let mut writer = SnapshotWriter::new(store.clone());
        let added = vrps.to_vec();
        writer.publish(
            VrpDelta {
                added,
                removed: vec![],
            },
            aspas.cloned().unwrap_or_default(),
            Default::default(),
        );
        let peer = |i: u8, asn, rov| PeerInfo {
            enforce_first_as: false,
            ..PeerInfo::new(format!("p{i}"), IpAddr::from([127, 0, 0, i]), Asn(asn), rov)
        };
        let mut sender = peer(1, feed.asn, mode);
        if let Some(irr) = checks {
            sender.checks = CheckModes::all(RovMode::Shadow);
            let filters = Filters::ixp_defaults(Asn(feed.asn), IpAddr::from([127, 0, 0, 1]));
            sender.filters = Arc::new(Filters {
                irr: irr.cloned(),
                ..filters
            });
        }
        if aspas.is_some() {
            sender.checks.set(CheckGroup::Aspa, RovMode::Drop);
            let filters = Filters::ixp_defaults(Asn(feed.asn), IpAddr::from([127, 0, 0, 1]));
            sender.filters = Arc::new(Filters {
                aspa: AspaProcedure::Downstream,
                ..filters
            });
        }
        Bench::of(vec![sender], store, writer)
    }

    /// `n` senders in `drop` (AS 64501, 64502, ...) sending the same feed.
    fn feeders(n: u8, vrps: &[Vrp]) -> Bench {
        let store = VrpStore::new();
        let mut writer = SnapshotWriter::new(store.clone());
        let added = vrps.to_vec();
        let delta = VrpDelta {
            added,
            removed: vec![],
        };
        writer.publish(delta, Default::default(), Default::default());
        let sender = |i: u8| PeerInfo {
            enforce_first_as: false,
            ..PeerInfo::new(
                format!("p{i}"),
                IpAddr::from([127, 0, 0, i]),
                Asn(64500 + u32::from(i)),
                RovMode::Drop,
            )
        };
        Bench::of((1..=n).map(sender).collect(), store, writer)
    }

    /// A RIB with these senders and a receiver after them, up.
    fn of(mut peers: Vec<PeerInfo>, store: VrpStore, writer: SnapshotWriter) -> Bench {
        let senders = peers.len() as u32;
        let receiver = IpAddr::from([127, 0, 1, 1]);
        peers.push(PeerInfo::new(
            "receiver".into(),
            receiver,
            Asn(64499),
            RovMode::Accept,
        ));
        // Every pass applies in full: what is measured is re-evaluation, never a hold.
        let mass = MassInvalidation {
            min_routes: usize::MAX,
            ..MassInvalidation::default()
        };
        let rib = Rib::new(peers, store.clone(), Tagging::euro_ix(64500), mass);
        let (out, sink) = mpsc::channel(1 << 20);
        let mut bench = Bench {
            rib,
            senders,
            sink,
            writer,
            store,
            updates: 0,
        };
        bench.rib.handle(RibEvent::PeerUp {
            peer: PeerId(senders),
            families: Family::ALL.to_vec(),
            add_path: vec![],
            session: Default::default(),
            out,
        });
        bench
    }

    /// Sends the feed from every sender as UPDATEs of at most 256 prefixes, flushing every
    /// 256 UPDATEs as the RIB task does, and encodes what the receiving peer gets. Several
    /// senders take turns, UPDATE by UPDATE, the first one a different sender each time,
    /// and each puts its AS before the path.
    async fn load(&mut self, feed: &FeedPeer) {
        let mut n = 0;
        let chunks = (feed.batches.iter()).flat_map(|(a, p)| p.chunks(256).map(move |c| (a, c)));
        for (k, (attrs, chunk)) in chunks.enumerate() {
            for i in 0..self.senders {
                let peer = PeerId((k as u32 + i) % self.senders);
                let mut as_path = attrs.as_path.clone();
                if self.senders > 1 {
                    as_path.0.insert(0, Segment::Sequence(vec![64501 + peer.0]));
                }
                let (origin, next_hop, med) = (attrs.origin, attrs.next_hop, attrs.med);
                let set = AttrSet::new(origin, as_path, next_hop, med, attrs.other.clone());
                let update = Update {
                    announced: vec![(set, chunk.to_vec())],
                    ..Default::default()
                };
                self.rib.handle(RibEvent::Update { peer, update });
                n += 1;
                if n % 256 == 0 {
                    self.flush().await;
                }
            }
        }
        self.flush().await;
    }

    /// Publishes a VRP delta and re-evaluates until done, as the RIB task does.
    async fn change(&mut self, delta: VrpDelta) {
        let prefixes = delta.changed_prefixes();
        let first = self.store.load().table.is_empty();
        let (serial, _) = self
            .writer
            .publish(delta, Default::default(), Default::default());
        self.rib.vrps_changed(VrpsChanged {
            serial,
            prefixes,
            first,
            complete: true,
            aspas: false,
        });
        while self.rib.reevaluating() {
            self.rib.reevaluate_step();
            self.flush().await;
        }
    }

    async fn flush(&mut self) {
        self.rib.flush();
        let mut out = Vec::new();
        // The receiver pulls chunk after chunk, as a writer does, until nothing waits.
        while let Ok(batch) = self.sink.try_recv() {
            for export in &batch.into_exports() {
                encode_updates(export, &CAPS, &mut out);
            }
            self.rib.send_ready();
        }
        self.updates += out.len();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime")
}

fn data() -> (FeedPeer, Vec<Vrp>) {
    let feed = load(Path::new(TABLE)).expect("the shared full table");
    let feed = feed.into_iter().next().expect("one MRT peer");
    let vrps = file::load(Path::new(VRPS)).expect("the shared 424k VRP file");
    (feed, vrps)
}

fn reevaluate(c: &mut Criterion) {
    if std::env::var_os("ONCE").is_some() {
        return; // see `full_table`
    }
    let (feed, vrps) = data();
    let rt = runtime();
    let mut b = Bench::new(RovMode::Drop, &feed, &vrps);
    rt.block_on(b.load(&feed));
    // 1,000 VRPs spread over the whole set.
    let step = vrps.len() / 1000;
    let some: Vec<Vrp> = vrps.iter().step_by(step).take(1000).copied().collect();
    let mut g = c.benchmark_group("reevaluate");
    g.sample_size(20);
    g.bench_function("delta_1000", |bench| {
        bench.iter_custom(|iters| {
            let start = Instant::now();
            for i in 0..iters {
                let delta = if i % 2 == 0 {
                    VrpDelta {
                        added: vec![],
                        removed: some.clone(),
                    }
                } else {
                    VrpDelta {
                        added: some.clone(),
                        removed: vec![],
                    }
                };
                rt.block_on(b.change(delta));
            }
            if iters % 2 == 1 {
                // Leave the full set in place for the next sample (untimed).
                let delta = VrpDelta {
                    added: some.clone(),
                    removed: vec![],
                };
                let elapsed = start.elapsed();
                rt.block_on(b.change(delta));
                return elapsed;
            }
            start.elapsed()
        })
    });
    g.sample_size(10).measurement_time(Duration::from_secs(30));
    g.bench_function("reset_full", |bench| {
        bench.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let none = VrpDelta {
                    added: vec![],
                    removed: vrps.clone(),
                };
                rt.block_on(b.change(none));
                let start = Instant::now();
                let all = VrpDelta {
                    added: vrps.clone(),
                    removed: vec![],
                };
                rt.block_on(b.change(all));
                timed += start.elapsed();
            }
            timed
        })
    });
    g.finish();
}

/// An AS-SET registering every prefix of the feed, as bgpq4 would write it.
fn irr_of(feed: &FeedPeer) -> Irr {
    let entries: Vec<String> = (feed.batches.iter())
        .flat_map(|(_, prefixes)| prefixes)
        .map(|p| format!("{{\"prefix\": \"{p}\", \"exact\": true}}"))
        .collect();
    let mut irr = Irr::default();
    irr.add_prefixes(&format!("{{\"AS-FEED\": [{}]}}", entries.join(",")))
        .expect("bgpq4 JSON");
    irr
}

/// The shared file's ASPAs and 5,000 more from the feed's paths: the first 5,000 customer
/// ASes met, each with every AS it follows on a path (towards the peer) as a provider.
fn aspas_of(feed: &FeedPeer) -> AspaTable {
    let file = file::load_payload(Path::new(VRPS)).expect("the shared VRP file");
    let mut providers: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
    for (attrs, _) in &feed.batches {
        let asns: Vec<u32> = attrs.as_path.asns().collect();
        for w in asns.windows(2).filter(|w| w[0] != w[1]) {
            if providers.len() < 5000 || providers.contains_key(&w[1]) {
                providers.entry(w[1]).or_default().push(w[0]);
            }
        }
    }
    let made = providers.into_iter().map(|(c, p)| Aspa {
        customer: Asn(c),
        providers: p.into_iter().map(Asn).collect(),
    });
    AspaTable::new(file.aspas.into_iter().chain(made))
}

fn full_table(c: &mut Criterion) {
    let (feed, vrps) = data();
    let irr = irr_of(&feed);
    let aspas = aspas_of(&feed);
    let rt = runtime();
    let mut g = c.benchmark_group("rib/full_table");
    g.sample_size(10).measurement_time(Duration::from_secs(40));
    let cases = [
        ("accept", RovMode::Accept, None, None),
        ("drop", RovMode::Drop, None, None),
        ("drop+checks", RovMode::Drop, Some(None), None),
        ("drop+checks+irr", RovMode::Drop, Some(Some(&irr)), None),
        ("drop+aspa", RovMode::Drop, None, Some(&aspas)),
    ];
    // `ONCE=NAME`: load the table once for that case and exit, to count its instructions
    // under callgrind (BENCHMARKS.md), where this VM's timing noise hides a few per cent.
    let bench = |name| match cases.iter().find(|c| c.0 == name) {
        Some(&(_, mode, checks, aspas)) => Bench::with_checks(mode, checks, aspas, &feed, &vrps),
        None => Bench::feeders(10, &vrps),
    };
    if let Ok(once) = std::env::var("ONCE") {
        rt.block_on(bench(once.as_str()).load(&feed));
        std::process::exit(0);
    }
    let names = cases.iter().map(|c| c.0).chain(["ten_feeders"]);
    for name in names {
        g.bench_function(name, |bencher| {
            bencher.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    let mut b = bench(name);
                    let start = Instant::now();
                    rt.block_on(b.load(&feed));
                    timed += start.elapsed();
                    assert!(b.updates > 0);
                }
                timed
            })
        });
    }
    g.finish();
}

fn irr_lookup(c: &mut Criterion) {
    let (feed, _) = data();
    let irr = irr_of(&feed);
    let prefixes: Vec<_> = (feed.batches.iter())
        .flat_map(|(_, prefixes)| prefixes)
        .collect();
    let mut g = c.benchmark_group("irr");
    g.sample_size(20);
    g.bench_function("covers_full_table", |b| {
        b.iter(|| prefixes.iter().filter(|p| irr.covers(p)).count())
    });
    g.finish();
}

criterion_group!(benches, reevaluate, full_table, irr_lookup);
criterion_main!(benches);
