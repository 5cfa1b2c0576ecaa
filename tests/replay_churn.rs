//! VRP churn during a replay through rovgate: the replay's built-in RTR server is rovgate's
//! only RPKI cache and publishes new serials while each run lasts.
//!
//! Expectations, for a small real RIB (the first peer of a 2014 RouteViews dump) and the
//! real 2023 rpki-client VRP set, 2 runs at 1,000 serials/s of 5 VRPs (10,000 VRP changes
//! per second, the top of draft-lg-bmwg-benchmarking-methodology-for-rov's range), the
//! feeder's routes under `rov = "drop"` and the replay told so (`drop_invalid`, the same
//! VRP file):
//! - Every run converges: the sink gets every expected prefix although VRPs change under
//!   it (prefixes churn could make invalid are not waited for, and are reported).
//! - The replay reports the churn it applied: serials published in every run, continuing
//!   from one run to the next, 5 VRPs withdrawn per serial and 5 re-announced from the
//!   second serial on, and deltas fetched; rovgate spoke RTR version 2.
//! - rovgate's status shows the cache up at the replay's last serial (> 1), reached by
//!   deltas (`serial_updates` > 0) after a single reset, holding n − 5 VRPs, and the RTR
//!   session never went down (no Serial Notify crossed a query).
//!
//! rovgate holds a peer that reconnects idle for 5 s, so the second run costs 5 s.

use std::net::SocketAddr;
use std::time::Duration;

use crate::support;
use crate::support::daemon::Rovgate;
use crate::support::table::{data, SMALL_RIB};
use rovgate::replay::{self, ChurnOptions, ReplayOptions};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};

const VRPS: &str = "vrps/rpki-client-2023-05-04-ripe-prepdev.json.gz";
const SIZE: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_reaches_rovgate_during_the_replay() {
    support::init_logs();
    let net = 80;
    let host = format!("127.0.{net}.1");
    // rovgate picks its own BGP port, which the replay needs as its target, and connects
    // to its cache at once (retrying only after 30 s): so its cache is a listener of this
    // test, spliced to the replay's RTR server once that listens.
    let front = TcpListener::bind((host.as_str(), 0)).await.expect("bind");
    let cache = front.local_addr().expect("address");
    let peer = |n: u8, asn: u32, rov: &str| {
        format!(
            "[[peer]]\nname = \"p{n}\"\naddress = \"127.0.{net}.{n}\"\nasn = {asn}\n\
             role = \"rs-client\"\nrov = \"{rov}\"\npassive = true\n\n"
        )
    };
    let config = format!("[rpki]\n[[rpki.cache]]\naddress = \"{cache}\"\n\n")
        + &peer(2, 64496, "drop")
        + &peer(3, 64497, "accept");
    let rovgate = Rovgate::start("churn", &config);
    let rtr: SocketAddr = format!("{host}:{}", support::free_port())
        .parse()
        .expect("address");
    tokio::spawn(splice(front, rtr));

    let mut opts = ReplayOptions::new(data(SMALL_RIB), format!("127.0.0.1:{}", rovgate.bgp_port));
    opts.truncated = rovgate::feed::Truncated::Read;
    opts.peers = Some(1);
    opts.local_as = Some(64496);
    opts.feeder_address = format!("127.0.{net}.2").parse().expect("address");
    opts.sink_address = format!("127.0.{net}.3").parse().expect("address");
    opts.runs = 2;
    opts.timeout = Duration::from_secs(60);
    opts.drop_invalid = Some(data(VRPS));
    opts.churn = Some(ChurnOptions {
        listen: rtr,
        vrps: data(VRPS),
        rate: 1000.0,
        size: SIZE,
    });
    let result = replay::replay(&opts)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", rovgate.log()));

    let report = result.churn.as_ref().expect("churn report");
    eprintln!("{report:?}, expected {}", result.expected);
    assert_eq!(report.versions, vec![2], "rovgate speaks RTR v2");
    // Some valid routes of the RIB are covered by other ASes' VRPs too: not waited for.
    assert!(report.volatile > 0, "{report:?}");
    let mut last = 0;
    for (i, run) in result.runs.iter().enumerate() {
        let churn = run.churn.as_ref().expect("churn of the run");
        eprintln!("run {}: {:?}, {churn:?}", i + 1, run.convergence);
        // `replay` fails with a timeout unless the sink held every expected prefix at once.
        assert!(run.convergence > Duration::ZERO, "run {} converged", i + 1);
        assert!(churn.serials > 0, "run {}: {churn:?}", i + 1);
        assert_eq!(churn.first_serial, last, "runs continue the serials");
        assert_eq!(churn.last_serial, churn.first_serial + churn.serials);
        let announcing = churn.serials - u32::from(churn.first_serial == 0);
        let k = SIZE as u64;
        assert_eq!(churn.withdrawn, k * u64::from(churn.serials));
        assert_eq!(churn.announced, k * u64::from(announcing));
        last = churn.last_serial;
    }
    let churns = result.runs.iter().filter_map(|r| r.churn.as_ref());
    let deltas: u64 = churns.map(|c| c.deltas).sum();
    assert!(deltas > 0, "rovgate fetched deltas");
    assert!(last > 1);

    // The connection outlives the replay; rovgate catches up with the last serial.
    let cache = cache.to_string();
    let source = |s: &serde_json::Value| {
        let sources = s["sources"].as_array().cloned().unwrap_or_default();
        sources.into_iter().find(|src| src["name"] == json!(cache))
    };
    let mut seen = None;
    let caught_up = support::eventually(10, || {
        seen = rovgate
            .status()
            .and_then(|s| Some((source(&s)?, s["vrps"]["count"].clone())));
        seen.as_ref()
            .is_some_and(|(src, _)| src["serial"] == json!(last))
    })
    .await;
    assert!(caught_up, "rovgate at serial {last}: {seen:?}");
    let (src, count) = seen.expect("status");
    assert_eq!(src["state"], json!("up"), "{src}");
    assert_eq!(src["resets"], json!(1), "{src}");
    assert!(src["serial_updates"].as_u64() > Some(0), "{src}");
    assert_eq!(count, json!(report.vrps - SIZE), "the set stays at n − K");
    let log = rovgate.log();
    assert!(
        !log.contains("RTR cache down"),
        "the RTR session held:\n{log}"
    );
}

/// Accepts rovgate's connections on `front` and splices each to the RTR server at `rtr`,
/// once that accepts connections.
async fn splice(front: TcpListener, rtr: SocketAddr) {
    while let Ok((mut rovgate, _)) = front.accept().await {
        let mut server = None;
        support::wait_for("the replay's RTR server", 30, || {
            server = std::net::TcpStream::connect(rtr).ok();
            server.is_some()
        })
        .await;
        let Some(server) = server else { return };
        let _ = server.set_nonblocking(true);
        let Ok(mut server) = TcpStream::from_std(server) else {
            return;
        };
        tokio::spawn(async move {
            let _ = tokio::io::copy_bidirectional(&mut rovgate, &mut server).await;
        });
    }
}
