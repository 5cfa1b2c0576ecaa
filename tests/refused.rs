//! Connections from addresses that are no configured peer's, through the whole daemon:
//! refused with Cease / Connection Rejected, counted in the status and `/metrics`, and
//! logged a bounded number of times however many arrive.

use std::net::SocketAddr;
use std::time::Instant;

use crate::support;
use crate::support::daemon::Rovgate;
use crate::support::raw_peer::{connect_from, RawPeer};

/// How many connections the flood opens.
const FLOOD: u64 = 500;
/// rovgate's limit: lines of one kind per minute (`src/bgp/log_limit.rs`).
const LINES_PER_MINUTE: usize = 10;

/// Expected: a stranger at 127.0.0.3 gets NOTIFICATION 6/5; after a flood of connections
/// from it every one is counted (`connections_refused.unknown_address` in the status,
/// `rovgate_connections_refused_total{reason="unknown_address"}`), but the log holds at
/// most 10 lines about them per minute the flood took, plus the line saying the rest are
/// suppressed.
#[tokio::test]
async fn a_flood_from_an_unknown_address_is_counted_and_logged_bounded() {
    let peers = "[[peer]]\nname = \"member\"\naddress = \"127.0.0.64\"\nasn = 64496\nrole = \"rs-client\"\npassive = true\n";
    let rovgate = Rovgate::start("refused", peers);
    let target: SocketAddr = format!("127.0.0.1:{}", rovgate.bgp_port).parse().unwrap();
    let started = Instant::now();
    let mut stranger = RawPeer::connect("127.0.0.3", 64510, target, None);
    assert_eq!(stranger.notification(), Some((6, 5)));
    for _ in 1..FLOOD {
        drop(connect_from("127.0.0.3", target, None));
    }
    let refused = || {
        let status = rovgate.status()?;
        status["connections_refused"]["unknown_address"].as_u64()
    };
    support::wait_for("every connection counted", 60, || refused() == Some(FLOOD)).await;
    let minutes = started.elapsed().as_secs() as usize / 60 + 1;

    let status = rovgate.status().unwrap();
    let by_reason = &status["connections_refused"];
    assert_eq!(by_reason["already_established"], 0, "{status}");
    let metrics = rovgate.metrics();
    let line = format!("rovgate_connections_refused_total{{reason=\"unknown_address\"}} {FLOOD}");
    assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    let log = rovgate.log();
    let lines = log.matches("not a configured peer").count();
    assert!(
        (1..=LINES_PER_MINUTE * minutes).contains(&lines),
        "{lines} lines about {FLOOD} refused connections in {minutes} min:\n{log}"
    );
    assert!(log.contains("suppressing the rest"), "{log}");
}
