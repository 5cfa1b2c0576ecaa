//! Prometheus metrics: every name, its description, and the one place rovgate records it.
//!
//! Where it sits: the session tasks and the listener record what peers and strangers did
//! wrong themselves (`bgp::counters`; their names are described here). Everything else is
//! state the tasks already publish as snapshots (`RibView` with the RIB's
//! timings and verdict changes, `RpkiStatus`, `VrpSnapshot`), so the HTTP task sets those
//! gauges and renders those histograms from the snapshots when it serves `GET /metrics`
//! ([`render`]) and never waits on a writer. [`install`] sets up the recorder
//! once per process.

use std::fmt::Write;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use metrics::{counter, describe_counter, describe_gauge, gauge, Label};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing::warn;

use crate::bgp::counters::{
    CONNECTIONS_REFUSED_TOTAL, NOTIFICATIONS_RECEIVED_TOTAL, NOTIFICATIONS_SENT_TOTAL,
    SEND_HOLD_EXPIRED_TOTAL, UPDATES_MALFORMED_TOTAL,
};
use crate::policy::Check;
use crate::rib::{Histogram, RibView};
use crate::rpki::server::RtrServerView;
use crate::rpki::status::SourceState;
use crate::rpki::{RpkiStatus, VrpSnapshot};

/// Histogram: seconds the RIB task took to handle one UPDATE.
pub const UPDATE_PROCESSING_SECONDS: &str = "rovgate_update_processing_seconds";
/// Histogram: seconds one re-evaluation pass took.
pub const REEVALUATION_SECONDS: &str = "rovgate_reevaluation_seconds";
/// Counter: route verdicts changed by re-evaluation.
pub const ROV_CHANGES_TOTAL: &str = "rovgate_rov_changes_total";
/// Gauge `{peer}`: prefixes waiting to be sent to the peer.
pub const EXPORT_PENDING: &str = "rovgate_export_pending";
/// Gauge `{state="established"|"down"}`: peers by session state.
pub const SESSIONS: &str = "rovgate_sessions";
/// Gauge `{peer, state="valid"|"invalid"|"not_found"}`: stored routes by ROV state.
pub const ROUTES: &str = "rovgate_routes";
/// Gauge `{peer}`: invalid routes dropped.
pub const ROUTES_DROPPED: &str = "rovgate_routes_dropped";
/// Gauge `{peer}`: invalid routes that pass now and that `drop` would filter.
pub const WOULD_DROP: &str = "rovgate_would_drop";
/// Gauge `{peer, check, code}`: stored paths failing an import check, by check name and
/// Euro-IX code (`1101:N`).
pub const PEER_PATHS_FAILED: &str = "rovgate_peer_paths_failed";
/// Gauge `{peer}`: invalid routes a held mass invalidation keeps eligible.
pub const ROUTES_HELD: &str = "rovgate_routes_held";
/// Gauge `{peer}`: 1 while the session is established.
pub const PEER_UP: &str = "rovgate_peer_up";
/// Gauge `{source, kind}`: VRPs a source holds.
pub const SOURCE_VRPS: &str = "rovgate_source_vrps";
/// Gauge `{source, kind}`: an RTR cache's serial, once known.
pub const SOURCE_SERIAL: &str = "rovgate_source_serial";
/// Gauge `{source, kind}`: seconds since a source last delivered data, once it has.
pub const SOURCE_SECONDS_SINCE_UPDATE: &str = "rovgate_source_seconds_since_update";
/// Gauge `{source, kind}`: 1 while the source is up.
pub const SOURCE_UP: &str = "rovgate_source_up";
/// Gauge: effective VRPs in force.
pub const VRPS: &str = "rovgate_vrps";
/// Gauge: the published VRP snapshot's serial.
pub const VRP_SNAPSHOT_SERIAL: &str = "rovgate_vrp_snapshot_serial";
/// Gauge `{version}`: routers connected to the RTR server, by the RTR version they speak.
pub const RTR_SERVER_CLIENTS: &str = "rovgate_rtr_server_clients";
/// Gauge: routers connected to the RTR server that have the serial it serves.
pub const RTR_SERVER_CLIENTS_CURRENT: &str = "rovgate_rtr_server_clients_current";
/// Gauge: the serial the RTR server serves.
pub const RTR_SERVER_SERIAL: &str = "rovgate_rtr_server_serial";
/// Gauge: connections the RTR server refused (address not in `allow`) since the start.
pub const RTR_SERVER_REFUSED: &str = "rovgate_rtr_server_refused";
/// Gauge: 1 when every RTR cache is past expire and routes fail open to not-found.
pub const RPKI_STALE: &str = "rovgate_rpki_stale";
/// Gauge: 1 while routes are validated (VRPs in force, not stale).
pub const VALIDATION_ACTIVE: &str = "rovgate_validation_active";
/// Gauge: 1 once the first complete VRP set is in (drop peers' routes wait until then).
pub const VRPS_COMPLETE: &str = "rovgate_vrps_complete";
/// Gauge: 1 while a VRP update is held as a mass invalidation.
pub const MASS_INVALIDATION_HELD: &str = "rovgate_mass_invalidation_held";
/// Gauge: routes the held VRP update would newly drop (0: none held).
pub const MASS_INVALIDATION_ROUTES: &str = "rovgate_mass_invalidation_routes";

/// How often histogram samples are folded into buckets when nobody scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The installed recorder's handle.
static INSTALLED: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder (once per process; a second call returns the handle of
/// the first) and describes every metric.
///
/// Also starts a thread that does the recorder's upkeep every few seconds, so nothing piles
/// up when nothing scrapes `/metrics`. Before `install`, the record functions do nothing.
pub fn install() -> PrometheusHandle {
    INSTALLED.get_or_init(install_once).clone()
}

fn install_once() -> PrometheusHandle {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    if let Err(e) = metrics::set_global_recorder(recorder) {
        warn!(error = %e, "another metrics recorder is installed: /metrics will miss its data");
    }
    describe();
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            upkeep.run_upkeep();
        });
    if let Err(e) = spawned {
        warn!(error = %e, "no metrics upkeep thread: upkeep happens on scrape only");
    }
    handle
}

// Help text for every histogram (all in seconds), counter and gauge; a table, one per line.
#[rustfmt::skip]
const HISTOGRAMS: [(&str, &str); 2] = [
    (UPDATE_PROCESSING_SECONDS, "Time the RIB took to handle one UPDATE."),
    (REEVALUATION_SECONDS, "Time a re-evaluation pass took, snapshot to last export."),
];
#[rustfmt::skip]
const COUNTERS: &[(&str, &str)] = &[
    (ROV_CHANGES_TOTAL, "Verdicts changed by re-evaluation."),
    (SEND_HOLD_EXPIRED_TOTAL, "Sessions closed because the peer took no data for the send hold time (RFC 9687)."),
    (UPDATES_MALFORMED_TOTAL, "Malformed UPDATEs by peer and RFC 7606 outcome."),
    (NOTIFICATIONS_SENT_TOTAL, "NOTIFICATIONs sent, by peer, code and subcode."),
    (NOTIFICATIONS_RECEIVED_TOTAL, "NOTIFICATIONs received, by peer, code and subcode (unassigned ones as other)."),
    (CONNECTIONS_REFUSED_TOTAL, "TCP connections refused, by reason."),
];
#[rustfmt::skip]
const GAUGES: &[(&str, &str)] = &[
    (SESSIONS, "Configured peers by session state."),
    (ROUTES, "Stored routes (Adj-RIB-In) by peer and ROV state."),
    (ROUTES_DROPPED, "Invalid routes dropped, by peer."),
    (WOULD_DROP, "Invalid routes that pass now and that rov = drop would filter."),
    (PEER_PATHS_FAILED, "Stored paths failing an import check, by peer, check and Euro-IX code 1101:N (0 for a check not run)."),
    (ROUTES_HELD, "Invalid routes a held mass invalidation keeps eligible."),
    (PEER_UP, "1 while the peer's session is established."),
    (EXPORT_PENDING, "Prefixes waiting to be sent to the peer (its Adj-RIB-Out pending state)."),
    (SOURCE_VRPS, "VRPs each RTR cache, VRP file or SLURM file holds."),
    (SOURCE_SERIAL, "Serial of each RTR cache's data."),
    (SOURCE_SECONDS_SINCE_UPDATE, "Seconds since each source last delivered data."),
    (SOURCE_UP, "1 while the source is up (synced or read, data current)."),
    (VRPS, "Effective VRPs in force (sources unioned, SLURM applied)."),
    (VRP_SNAPSHOT_SERIAL, "Serial of the published VRP snapshot."),
    (RPKI_STALE, "1 when every RTR cache is past expire: routes fail open to not-found."),
    (RTR_SERVER_CLIENTS, "Routers connected to the RTR server, by RTR version (unknown: no PDU yet)."),
    (RTR_SERVER_CLIENTS_CURRENT, "Routers connected to the RTR server that have its current serial."),
    (RTR_SERVER_SERIAL, "Serial the RTR server serves."),
    (RTR_SERVER_REFUSED, "Connections the RTR server refused since the start (address not in allow)."),
    (VALIDATION_ACTIVE, "1 while routes are validated; 0 while the VRP set is empty or stale (fail open)."),
    (VRPS_COMPLETE, "1 once every VRP source answered or startup_wait passed; until then drop peers export nothing."),
    (MASS_INVALIDATION_HELD, "1 while a VRP update is held as a mass invalidation."),
    (MASS_INVALIDATION_ROUTES, "Routes the held VRP update would newly drop (0: none held)."),
];

fn describe() {
    for &(name, help) in COUNTERS {
        describe_counter!(name, help);
    }
    for &(name, help) in GAUGES {
        describe_gauge!(name, help);
    }
}

/// Sets every gauge from the published snapshots, then renders the Prometheus text. Called
/// by `GET /metrics`.
pub fn render(
    handle: &PrometheusHandle,
    rib: &RibView,
    rpki: &RpkiStatus,
    vrps: &VrpSnapshot,
    rtr_server: Option<&RtrServerView>,
) -> String {
    set_rib(rib);
    set_rpki(rpki, vrps, SystemTime::now());
    if let Some(server) = rtr_server {
        set_rtr_server(server);
    }
    let mut text = handle.render();
    let [(update, update_help), (reevaluation, reevaluation_help)] = HISTOGRAMS;
    write_histogram(&mut text, update, update_help, &rib.timings.update);
    write_histogram(
        &mut text,
        reevaluation,
        reevaluation_help,
        &rib.timings.reevaluation,
    );
    text
}

/// Appends a histogram the RIB published, in the exposition format the recorder uses for
/// its own (cumulative `_bucket`s by `le`, then `_sum` and `_count`); nothing before its
/// first sample.
fn write_histogram(text: &mut String, name: &str, help: &str, h: &Histogram) {
    if h.count == 0 {
        return;
    }
    let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} histogram");
    let mut below = 0;
    for (le, n) in h.bounds.iter().zip(h.counts) {
        below += n;
        let _ = writeln!(text, "{name}_bucket{{le=\"{le}\"}} {below}");
    }
    let _ = writeln!(text, "{name}_bucket{{le=\"+Inf\"}} {}", h.count);
    let _ = writeln!(text, "{name}_sum {}\n{name}_count {}\n", h.sum, h.count);
}

fn flag(on: bool) -> f64 {
    f64::from(u8::from(on))
}

fn set_rib(rib: &RibView) {
    counter!(ROV_CHANGES_TOTAL).absolute(rib.reevaluation.changes);
    let up = rib.peers.iter().filter(|p| p.up).count();
    gauge!(SESSIONS, "state" => "established").set(up as f64);
    gauge!(SESSIONS, "state" => "down").set((rib.peers.len() - up) as f64);
    for p in &rib.peers {
        let c = &p.counts;
        let states = [
            ("valid", c.valid),
            ("invalid", c.invalid),
            ("not_found", c.not_found),
        ];
        for (state, n) in states {
            gauge!(ROUTES, "peer" => p.name.clone(), "state" => state).set(n as f64);
        }
        gauge!(ROUTES_DROPPED, "peer" => p.name.clone()).set(c.dropped as f64);
        gauge!(WOULD_DROP, "peer" => p.name.clone()).set(p.would_drop as f64);
        gauge!(ROUTES_HELD, "peer" => p.name.clone()).set(c.held as f64);
        for check in Check::ALL {
            let labels = [
                Label::new("peer", p.name.clone()),
                Label::new("check", check.name()),
                Label::new("code", format!("1101:{}", check.code())),
            ];
            gauge!(PEER_PATHS_FAILED, labels.iter()).set(c.failed.get(check) as f64);
        }
        gauge!(PEER_UP, "peer" => p.name.clone()).set(flag(p.up));
        gauge!(EXPORT_PENDING, "peer" => p.name.clone()).set(p.pending as f64);
    }
    let held = rib.held_update.as_ref();
    gauge!(MASS_INVALIDATION_HELD).set(flag(held.is_some()));
    gauge!(MASS_INVALIDATION_ROUTES).set(held.map_or(0, |h| h.routes) as f64);
}

fn set_rpki(rpki: &RpkiStatus, vrps: &VrpSnapshot, now: SystemTime) {
    for s in &rpki.sources {
        let labels = [
            Label::new("source", s.name.clone()),
            Label::new("kind", s.kind),
        ];
        gauge!(SOURCE_VRPS, labels.iter()).set(s.vrps as f64);
        gauge!(SOURCE_UP, labels.iter()).set(flag(s.state == SourceState::Up));
        if let Some(serial) = s.serial {
            gauge!(SOURCE_SERIAL, labels.iter()).set(serial);
        }
        if let Some(last) = s.last_update {
            // A clock stepped back reads as "just now".
            let since = now.duration_since(last).unwrap_or_default();
            gauge!(SOURCE_SECONDS_SINCE_UPDATE, labels.iter()).set(since);
        }
    }
    gauge!(VRPS).set(vrps.table.len() as f64);
    gauge!(VRP_SNAPSHOT_SERIAL).set(vrps.serial as f64);
    gauge!(RPKI_STALE).set(flag(rpki.stale));
    gauge!(VALIDATION_ACTIVE).set(flag(rpki.validation.active));
    gauge!(VRPS_COMPLETE).set(flag(rpki.complete));
}

fn set_rtr_server(server: &RtrServerView) {
    for version in ["0", "1", "2", "unknown"] {
        let n = (server.clients.iter())
            .filter(|c| c.version.map_or("unknown".into(), |v| v.to_string()) == version)
            .count();
        gauge!(RTR_SERVER_CLIENTS, "version" => version).set(n as f64);
    }
    let current = (server.clients.iter())
        .filter(|c| c.serial == Some(server.serial))
        .count();
    gauge!(RTR_SERVER_CLIENTS_CURRENT).set(current as f64);
    gauge!(RTR_SERVER_SERIAL).set(server.serial);
    gauge!(RTR_SERVER_REFUSED).set(server.refused as f64);
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
