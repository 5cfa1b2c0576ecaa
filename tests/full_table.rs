//! The whole shared full table through rovgate, from a replay feeder to a replay sink.
//!
//! Expected: of the 1,158,189 routes sent, the sink receives 1,158,188 — all but
//! 2001:7f8:66::/64, whose AS_PATH ends in AS 0 and which rovgate treats as withdrawn
//! (RFC 7607) — and a sample of them carries the MRT's AS_PATH, communities and large
//! communities unchanged. Meanwhile the web page and the what-if report are requested ten
//! times a second: each is answered, and the load still completes (queries are served off
//! the UPDATE queue).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::daemon::Rovgate;
use crate::support::table::{check_sample, data, FULL_TABLE};
use rovgate::replay::{self, ReplayOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rovgate_passes_the_whole_full_table_unchanged() {
    let net = 51;
    let peer = |n: u8, asn: u32| {
        format!("[[peer]]\nname = \"p{n}\"\naddress = \"127.0.{net}.{n}\"\nasn = {asn}\nrole = \"upstream\"\npassive = true\n\n")
    };
    let rovgate = Rovgate::start("fulltable", &(peer(2, 64496) + &peer(3, 64497)));
    let mut opts = ReplayOptions::new(data(FULL_TABLE), format!("127.0.0.1:{}", rovgate.bgp_port));
    opts.feeder_address = format!("127.0.{net}.2").parse().expect("address");
    opts.sink_address = format!("127.0.{net}.3").parse().expect("address");
    opts.timeout = Duration::from_secs(300);
    opts.keep_routes = true;
    let (done, answered) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let hammer = std::thread::spawn({
        let (done, answered, url) = (done.clone(), answered.clone(), rovgate.url());
        move || {
            let mut failed = Vec::new();
            while !done.load(Ordering::Relaxed) {
                for path in ["/", "/api/v1/report"] {
                    match ureq::get(&format!("{url}{path}")).call() {
                        Ok(_) => answered.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            failed.push(format!("{path}: {e}"));
                            0
                        }
                    };
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            failed
        }
    });
    let result = replay::replay(&opts)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", rovgate.log()));
    done.store(true, Ordering::Relaxed);
    let failed = hammer.join().expect("the page requests");
    assert_eq!(failed, Vec::<String>::new(), "every page view is answered");
    assert!(
        answered.load(Ordering::Relaxed) > 0,
        "pages were served during the load"
    );
    let run = &result.runs[0];
    eprintln!("rovgate, full table, both families: {:?}", run.convergence);
    assert_eq!(
        (result.sent, result.expected, run.received),
        (1_158_189, 1_158_188, 1_158_188)
    );
    assert!(
        run.malformed.is_empty(),
        "rovgate does not pass the AS 0 route on"
    );
    check_sample(run.routes.as_ref().expect("routes kept"));
}
