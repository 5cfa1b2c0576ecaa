//! The RTR client against real caches: stayrtr serving JSON VRP files, which the tests
//! rewrite, stop and restart mid-run, plus one fake cache that sends corrupt PDUs.
//!
//! Each test drives the library as the daemon does: `rpki::spawn` with RTR caches only,
//! then polls the published store and status until a deadline.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flate2::read::GzDecoder;
use ipnet::{IpNet, Ipv4Net};
use rovgate::route::{Asn, RovState};
use rovgate::rpki::status::SourceState;
use rovgate::rpki::{self, Verdict, Vrp, VrpStore};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::support;
use crate::support::{rtr_config, vrp, wait_for, RtrTiming, Stayrtr};

const FULL_VRPS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/vrps/rpki-client-2023-05-04-ripe-prepdev.json.gz"
);
const PFX2AS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/tables/routeviews-rv2-20240406.pfx2as.gz"
);

/// How long (seconds) a small VRP set may take to reach the store.
const SYNC: u64 = 30;

/// The effective VRPs of the current snapshot, sorted.
fn vrps(store: &VrpStore) -> BTreeSet<Vrp> {
    store.load().table.iter().collect()
}

fn set(vrps: &[Vrp]) -> BTreeSet<Vrp> {
    vrps.iter().copied().collect()
}

/// Whether stayrtr is installed (see `support::tools_present`); also shows rovgate's logs in the
/// test output.
fn stayrtr_present() -> bool {
    support::init_logs();
    support::tools_present(&["stayrtr"])
}

/// Starts the rpki task with these caches as (address, preference).
fn spawn(caches: &[(String, u32)]) -> (VrpStore, watch::Sender<bool>) {
    let (tx, rx) = watch::channel(false);
    (rpki::spawn(&rtr_config(caches), rx).0, tx)
}

/// The full 2023 VRP set through a real cache: the store holds all 424,223 VRPs, and
/// 10,000 real routes (every 99th of the 2024 table; MOAS rows with their first AS, AS-set
/// rows with no origin) validate exactly as a plain linear scan of RFC 6811 over the same
/// VRPs says: same state, same matched, wrong-AS and too-long VRPs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_set_reaches_the_store_and_validates_like_a_linear_scan() {
    if !stayrtr_present() {
        return;
    }
    let (json, all) = full_set();
    assert_eq!(all.len(), 424_223);
    let timing = RtrTiming {
        refresh: 60,
        ..RtrTiming::default()
    };
    let cache = Stayrtr::start_json(&json, timing);
    drop(json);
    let (store, _shutdown) = spawn(&[(cache.address(), 1)]);
    wait_for("424,223 VRPs in the store", 120, || {
        store.load().table.len() == 424_223
    })
    .await;
    assert_eq!(
        vrps(&store),
        set(&all),
        "the store holds exactly the served VRPs"
    );

    let routes = sample_routes(99, 10_000);
    let snapshot = store.load();
    let got: Vec<Verdict> = routes
        .iter()
        .map(|(p, origin)| sorted(snapshot.table.validate(&IpNet::V4(*p), *origin)))
        .collect();
    let expected = linear_scan(&all, &routes);
    let mut states = [0usize; 3];
    for ((route, got), expected) in routes.iter().zip(&got).zip(&expected) {
        assert_eq!(got, expected, "route {route:?}");
        states[got.state as usize] += 1;
    }
    eprintln!("valid, invalid, not-found: {states:?}");
    assert!(
        states.iter().all(|&n| n > 100),
        "the sample covers every state: {states:?}"
    );
}

/// A cache's file changes (two VRPs removed, three added, one of them IPv6): the store
/// shows exactly the new set, reached by a delta: the cache's `resets` stays 1 while
/// `serial_updates` and its serial increase.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_change_arrives_as_a_serial_update() {
    if !stayrtr_present() {
        return;
    }
    let before = vec![
        vrp("192.0.2.0/24", 24, 64496),
        vrp("198.51.100.0/22", 24, 64497),
        vrp("203.0.113.0/24", 24, 64498),
        vrp("2001:db8::/32", 48, 64499),
    ];
    let mut after = before[1..3].to_vec();
    after.extend([
        vrp("192.0.2.0/24", 24, 64500),
        vrp("100.64.0.0/10", 24, 64501),
        vrp("2001:db8:1::/48", 48, 64502),
    ]);
    let mut cache = Stayrtr::start(&before);
    let (store, _shutdown) = spawn(&[(cache.address(), 1)]);
    wait_for("the first set", SYNC, || vrps(&store) == set(&before)).await;
    let first = store.status().sources[0].clone();
    assert_eq!(first.resets, 1, "{first:?}");

    cache.rewrite(&after);
    wait_for("the changed set", SYNC, || vrps(&store) == set(&after)).await;
    let now = store.status().sources[0].clone();
    assert_eq!(now.resets, 1, "a delta, not a reset: {now:?}");
    assert!(now.serial_updates > first.serial_updates, "{now:?}");
    assert!(now.serial > first.serial, "{first:?} -> {now:?}");
}

/// Two caches with different data, preference 1 and 2: the preferred one's data is used;
/// when it dies the other's data replaces it; when it comes back on the same port, its
/// data is used again (after a reset: the restarted cache has a new session).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_to_the_second_cache_and_back() {
    if !stayrtr_present() {
        return;
    }
    let shared = vrp("192.0.2.0/24", 24, 64496);
    let preferred = vec![shared, vrp("198.51.100.0/24", 24, 64497)];
    let backup = vec![shared, vrp("203.0.113.0/24", 24, 64498)];
    let mut first = Stayrtr::start(&preferred);
    let second = Stayrtr::start(&backup);
    let (store, _shutdown) = spawn(&[(first.address(), 1), (second.address(), 2)]);
    let in_use = |i: usize| store.status().sources[i].in_use;
    wait_for("the preferred cache's data", SYNC, || {
        vrps(&store) == set(&preferred) && in_use(0)
    })
    .await;

    first.stop();
    wait_for("the backup cache's data", SYNC, || {
        vrps(&store) == set(&backup) && in_use(1)
    })
    .await;
    assert_eq!(store.status().sources[0].state, SourceState::Down);

    first.restart();
    wait_for("the preferred cache's data again", SYNC, || {
        vrps(&store) == set(&preferred) && in_use(0)
    })
    .await;
    assert_eq!(store.status().sources[0].resets, 2);
}

/// A cache with expire 5 s (refresh 1 s) goes away for good: its data is kept while it is
/// down, then withdrawn between 4 and 5 s after its last answer (plus slack for the test
/// machine); the cache shows `expired` and status says stale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_of_a_vanished_cache_expires() {
    if !stayrtr_present() {
        return;
    }
    let served = vec![
        vrp("192.0.2.0/24", 24, 64496),
        vrp("2001:db8::/32", 32, 64496),
    ];
    let timing = RtrTiming {
        expire: 5,
        ..RtrTiming::default()
    };
    let mut cache = Stayrtr::start_json(&support::vrp_json(&served), timing);
    let (store, _shutdown) = spawn(&[(cache.address(), 1)]);
    wait_for("the served set", SYNC, || vrps(&store) == set(&served)).await;
    assert!(!store.status().stale);

    cache.stop();
    let stopped = Instant::now();
    let state = || store.status().sources[0].state;
    let noticed = || matches!(state(), SourceState::Down | SourceState::Expired);
    wait_for("the cache reported down", SYNC, noticed).await;
    assert_eq!(state(), SourceState::Down, "noticed before expire");
    assert_eq!(vrps(&store), set(&served), "data stays until expire");

    let gone = || store.status().stale && store.load().table.is_empty();
    wait_for("the data withdrawn and status stale", 10, gone).await;
    let after = stopped.elapsed();
    assert!(
        after >= Duration::from_secs(3),
        "withdrawn after {after:?}, before expire"
    );
    let status = store.status().sources[0].clone();
    assert_eq!(status.state, SourceState::Expired, "{status:?}");
    assert_eq!(status.vrps, 0);
}

/// Four fake caches, preferred over a real one, send corrupt PDUs (an unknown PDU type,
/// a max length shorter than its prefix, an impossible length, random bytes): nothing
/// panics, each fake is reported down with an error, the client answers the bad max
/// length with an Error Report, and the real cache's data stays in use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_cache_input_is_an_error_not_a_panic() {
    if !stayrtr_present() {
        return;
    }
    let panicked = record_panics();
    let served = vec![vrp("192.0.2.0/24", 24, 64496)];
    let real = Stayrtr::start(&served);
    let mut fakes = Vec::new();
    for garbage in Garbage::ALL {
        fakes.push(GarbageRtrServer::start(garbage).await);
    }
    let mut caches: Vec<(String, u32)> = fakes.iter().map(|f| (f.address.clone(), 1)).collect();
    caches.push((real.address(), 2));
    let (store, _shutdown) = spawn(&caches);
    let real_index = fakes.len();

    let fakes_down = || {
        let status = store.status();
        status.sources[..real_index]
            .iter()
            .all(|s| s.state == SourceState::Down && s.error.is_some())
    };
    wait_for("every fake cache reported down", SYNC, fakes_down).await;
    let in_use = || store.status().sources[real_index].in_use;
    wait_for("the real cache's data in use", SYNC, || {
        vrps(&store) == set(&served) && in_use()
    })
    .await;
    for (fake, status) in fakes.iter().zip(&store.status().sources) {
        eprintln!("{:?}: {:?}", fake.garbage, status.error);
    }
    let bad_max = fakes
        .iter()
        .find(|f| f.garbage == Garbage::BadMaxLength)
        .unwrap();
    let report = || bad_max.received().get(8..10) == Some(&[1, 10][..]);
    wait_for(
        "an Error Report (type 10) after the bad max length",
        SYNC,
        report,
    )
    .await;
    assert!(!panicked.load(Ordering::SeqCst), "a task panicked");
}

/// Records any panic in any thread (tokio swallows panics of spawned tasks).
fn record_panics() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let seen = flag.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        seen.store(true, Ordering::SeqCst);
        previous(info);
    }));
    flag
}

/// The kinds of corrupt input a [`GarbageRtrServer`] sends after the client's query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Garbage {
    /// Cache Response, then a PDU of type 42.
    UnknownPduType,
    /// Cache Response, then an IPv4 prefix 192.0.2.0/24 with max length 8.
    BadMaxLength,
    /// Cache Response, then an IPv4 prefix header claiming 4 GiB.
    BadLength,
    /// 64 pseudo-random bytes.
    Noise,
}

impl Garbage {
    const ALL: [Garbage; 4] = [
        Garbage::UnknownPduType,
        Garbage::BadMaxLength,
        Garbage::BadLength,
        Garbage::Noise,
    ];

    fn bytes(self) -> Vec<u8> {
        // Cache Response (type 3), version 1, session 7, length 8.
        let mut out = vec![1, 3, 0, 7, 0, 0, 0, 8];
        match self {
            Garbage::UnknownPduType => out.extend([1, 42, 0, 0, 0, 0, 0, 8]),
            Garbage::BadMaxLength => {
                out.extend([1, 4, 0, 0, 0, 0, 0, 20, 1, 24, 8, 0, 192, 0, 2, 0]);
                out.extend(64496u32.to_be_bytes());
            }
            Garbage::BadLength => out.extend([1, 4, 0, 0, 0xff, 0xff, 0xff, 0xff]),
            Garbage::Noise => {
                let mut x: u32 = 0x9e37_79b9;
                out = (0..64)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        x as u8
                    })
                    .collect();
            }
        }
        out
    }
}

/// A fake RTR cache standing in for what no real cache does: it answers every query with
/// corrupt PDUs, then keeps the connection open and records what the client sends.
struct GarbageRtrServer {
    address: String,
    garbage: Garbage,
    received: Arc<Mutex<Vec<u8>>>,
}

impl GarbageRtrServer {
    async fn start(garbage: Garbage) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    let mut answered = false;
                    while let Ok(n @ 1..) = sock.read(&mut buf).await {
                        log.lock().unwrap().extend_from_slice(&buf[..n]);
                        if !answered && sock.write_all(&garbage.bytes()).await.is_err() {
                            return;
                        }
                        answered = true;
                    }
                });
            }
        });
        GarbageRtrServer {
            address,
            garbage,
            received,
        }
    }

    /// Everything the client sent so far (its query first).
    fn received(&self) -> Vec<u8> {
        self.received.lock().unwrap().clone()
    }
}

/// The 2023 VRP file without `expires` (as JSON for stayrtr) and its VRPs.
fn full_set() -> (String, Vec<Vrp>) {
    let file = std::fs::File::open(FULL_VRPS).expect("shared VRP data");
    let mut json: Value = serde_json::from_reader(BufReader::new(GzDecoder::new(file))).unwrap();
    strip_expires(&mut json);
    let vrps = json["roas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|roa| {
            let asn = match &roa["asn"] {
                Value::String(s) => s.parse::<Asn>().unwrap(),
                n => Asn(n.as_u64().unwrap() as u32),
            };
            let prefix = roa["prefix"].as_str().unwrap().parse().unwrap();
            Vrp::new(prefix, roa["maxLength"].as_u64().unwrap() as u8, asn).unwrap()
        })
        .collect();
    (json.to_string(), vrps)
}

fn strip_expires(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("expires");
            map.values_mut().for_each(strip_expires);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_expires),
        _ => {}
    }
}

/// Every `stride`th row of the 2024 prefix2as table, up to `count` routes. A MOAS row
/// (`a_b`) gives its first AS; an AS-set row (`a,b`) no origin.
fn sample_routes(stride: usize, count: usize) -> Vec<(Ipv4Net, Option<Asn>)> {
    let file = std::fs::File::open(PFX2AS).expect("shared table data");
    BufReader::new(GzDecoder::new(file))
        .lines()
        .step_by(stride)
        .take(count)
        .map(|line| {
            let line = line.unwrap();
            let mut fields = line.split('\t');
            let (addr, len, asn) = (fields.next(), fields.next(), fields.next());
            let prefix = format!("{}/{}", addr.unwrap(), len.unwrap());
            let asn = asn.unwrap();
            let origin = match asn.contains(',') {
                true => None,
                false => Some(asn.split('_').next().unwrap().parse().unwrap()),
            };
            (prefix.parse().unwrap(), origin)
        })
        .collect()
}

/// RFC 6811 by the letter, one VRP at a time, on both cores.
fn linear_scan(vrps: &[Vrp], routes: &[(Ipv4Net, Option<Asn>)]) -> Vec<Verdict> {
    let v4: Vec<(Ipv4Net, Vrp)> = vrps
        .iter()
        .filter_map(|v| match v.prefix {
            IpNet::V4(p) => Some((p, *v)),
            IpNet::V6(_) => None,
        })
        .collect();
    let half = routes.len() / 2;
    std::thread::scope(|s| {
        let a = s.spawn(|| {
            routes[..half]
                .iter()
                .map(|r| scan(&v4, r))
                .collect::<Vec<_>>()
        });
        let b = s.spawn(|| {
            routes[half..]
                .iter()
                .map(|r| scan(&v4, r))
                .collect::<Vec<_>>()
        });
        let mut all = a.join().unwrap();
        all.extend(b.join().unwrap());
        all
    })
}

fn scan(vrps: &[(Ipv4Net, Vrp)], (route, origin): &(Ipv4Net, Option<Asn>)) -> Verdict {
    let mut verdict = Verdict {
        state: RovState::NotFound,
        matched: Vec::new(),
        bad_asn: Vec::new(),
        bad_length: Vec::new(),
    };
    for (prefix, vrp) in vrps {
        if !prefix.contains(route) {
            continue;
        }
        let right_as = vrp.asn.0 != 0 && Some(vrp.asn) == *origin;
        match (right_as, route.prefix_len() <= vrp.max_length) {
            (true, true) => verdict.matched.push(*vrp),
            (true, false) => verdict.bad_length.push(*vrp),
            (false, _) => verdict.bad_asn.push(*vrp),
        }
    }
    verdict.state = match (
        verdict.matched.len(),
        verdict.bad_asn.len() + verdict.bad_length.len(),
    ) {
        (1.., _) => RovState::Valid,
        (0, 1..) => RovState::Invalid,
        (0, 0) => RovState::NotFound,
    };
    sorted(verdict)
}

fn sorted(mut v: Verdict) -> Verdict {
    v.matched.sort();
    v.bad_asn.sort();
    v.bad_length.sort();
    v
}
