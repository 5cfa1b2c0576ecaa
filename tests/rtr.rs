//! The RTR client against real caches: stayrtr serving JSON VRP files, which the tests
//! rewrite, stop and restart mid-run (`rtr_corrupt` has the caches that send corrupt PDUs).
//!
//! Each test drives the library as the daemon does: `rpki::spawn` with RTR caches only,
//! then polls the published store and status until a deadline.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use flate2::read::GzDecoder;
use ipnet::{IpNet, Ipv4Net};
use rovgate::route::{Asn, RovState};
use rovgate::rpki::status::SourceState;
use rovgate::rpki::{self, Verdict, Vrp, VrpStore};
use serde_json::Value;
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
pub(crate) const SYNC: u64 = 30;

/// The effective VRPs of the current snapshot, sorted.
pub(crate) fn vrps(store: &VrpStore) -> BTreeSet<Vrp> {
    store.load().table.iter().collect()
}

pub(crate) fn set(vrps: &[Vrp]) -> BTreeSet<Vrp> {
    vrps.iter().copied().collect()
}

/// Whether stayrtr is installed (see `support::tools_present`); also shows rovgate's logs in the
/// test output.
pub(crate) fn stayrtr_present() -> bool {
    support::init_logs();
    support::tools_present(&["stayrtr"])
}

/// Starts the rpki task with these caches as (address, preference).
pub(crate) fn spawn(caches: &[(String, u32)]) -> (VrpStore, watch::Sender<bool>) {
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
