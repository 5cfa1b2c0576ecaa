//! VRP churn during a replay: a built-in RTR cache that the device under test uses, and that
//! publishes a new serial at a given rate while each run lasts.
//!
//! ```text
//!  --churn-vrps FILE ──load──► ChurnServer (RTR v0/v1/v2, server.rs) ──TCP/RTR──► device
//!                                  ▲ publish + Serial Notify every 1/N s     (its RPKI cache)
//!                     churn task ──┘ from the feeders' start to the run's end
//! ```
//!
//! Where it sits: `run.rs` starts the [`ChurnServer`] before it loads the MRT file, waits in
//! [`ChurnServer::settle`] before each run until a client has loaded the set (a completed
//! reset query, which the server sees) and is at the current serial, starts
//! [`ChurnServer::run`] together with the feeders and stops it with them. The rest of the
//! replay does not change: convergence is still measured at the sink.
//!
//! Methodology: draft-lg-bmwg-benchmarking-methodology-for-rov-02. §5.1 "General
//! Considerations" asks for a completely synchronized VRP set before measuring
//! ([`ChurnServer::settle`]). §4.3 "RTR Data Source Emulation" and §6.5 "VRP Churn and
//! Stress Tests" ask for controlled churn of 100 to 10,000 VRP changes per second, additions
//! and withdrawals together, and for reporting missed updates: each serial here withdraws
//! K VRPs and re-announces the K withdrawn by the serial before, so N serials per second
//! are 2·K·N VRP changes per second (the default 10 × 2 × 50 = 1,000), and each run reports
//! what was published next to what the device fetched. Not done: modified VRPs (§6.5's
//! "mixed churn" changes), and churn for a fixed 5-10 minutes (it lasts as long as a run).

mod server;
mod walk;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use rpki::rtr::server::Server;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};
use tracing::{info, warn};

use super::{ReplayError, RunResult};
use crate::route::{Asn, RovState};
use crate::rpki::VrpTable;
use server::{Counters, Shared, Source};

/// The highest `--churn-rate`: one serial per millisecond.
const MAX_RATE: f64 = 1000.0;

/// The churn options of `rovgate replay`.
#[derive(Clone, Debug, clap::Args)]
pub struct ChurnArgs {
    /// Serve VRPs from a built-in RTR server (RTR versions 0, 1 and 2, as the client asks)
    /// listening on this IP:PORT, which the device must use as its RPKI cache. Each run
    /// starts once a client has loaded the whole set (completed a reset query) and is at
    /// the current serial. Needs --churn-vrps.
    #[arg(long, value_name = "IP:PORT", requires = "churn_vrps")]
    pub rtr_listen: Option<SocketAddr>,
    /// The VRP file (rpki-client JSON or CSV) the RTR server serves and churns.
    #[arg(long, value_name = "VRPFILE", requires = "rtr_listen")]
    pub churn_vrps: Option<PathBuf>,
    /// New serials per second while a run lasts (0: serve the file unchanged).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10.0,
        requires = "rtr_listen"
    )]
    pub churn_rate: f64,
    /// VRPs each serial withdraws; it re-announces the ones the serial before withdrew, so
    /// a serial changes 2·K VRPs (the first only withdraws K) and the set stays at n − K.
    #[arg(long, value_name = "K", default_value_t = 50, requires = "rtr_listen")]
    pub churn_size: usize,
}

impl ChurnArgs {
    /// The churn these arguments ask for, if any.
    pub fn options(&self) -> Option<ChurnOptions> {
        Some(ChurnOptions {
            listen: self.rtr_listen?,
            vrps: self.churn_vrps.clone()?,
            rate: self.churn_rate,
            size: self.churn_size,
        })
    }
}

/// The built-in RTR server and its churn.
#[derive(Clone, Debug)]
pub struct ChurnOptions {
    /// Where the RTR server listens.
    pub listen: SocketAddr,
    /// The VRP file it serves.
    pub vrps: PathBuf,
    /// Serials per second during a run; 0: none.
    pub rate: f64,
    /// VRPs withdrawn (and re-announced) per serial.
    pub size: usize,
}

/// The churn of one run.
#[derive(Clone, Debug, Default)]
pub struct ChurnRun {
    /// Serials published.
    pub serials: u32,
    /// The serial when the run started, and when it ended.
    pub first_serial: u32,
    /// The serial when the run ended.
    pub last_serial: u32,
    /// VRPs re-announced.
    pub announced: u64,
    /// VRPs withdrawn.
    pub withdrawn: u64,
    /// How long the churn ran.
    pub duration: Duration,
    /// Serial Notify broadcasts.
    pub notifies: u64,
    /// Serial query (delta) responses clients fetched during the run.
    pub deltas: u64,
    /// Reset responses clients fetched during the run (a client that lost its session).
    pub resets: u64,
    /// The lowest serial among connected clients when the run ended.
    pub device_serial: Option<u32>,
}

impl ChurnRun {
    /// VRPs announced and withdrawn.
    pub fn changes(&self) -> u64 {
        self.announced + self.withdrawn
    }

    /// `n` per second of the churn's duration.
    fn per_second(&self, n: f64) -> f64 {
        let secs = self.duration.as_secs_f64();
        if secs > 0.0 {
            n / secs
        } else {
            0.0
        }
    }
}

/// The RTR server of a replay.
#[derive(Clone, Debug)]
pub struct ChurnReport {
    /// Where it listened.
    pub listen: SocketAddr,
    /// Its session ID.
    pub session: u16,
    /// VRPs in the file, deduplicated.
    pub vrps: usize,
    /// VRPs withdrawn per serial.
    pub size: usize,
    /// Serials per second asked for.
    pub rate: f64,
    /// RTR versions the clients spoke.
    pub versions: Vec<u8>,
    /// Prefixes not waited for under `--drop-invalid`: every route of theirs is valid under
    /// the file but also covered by a VRP that does not match it, so churn can make it
    /// invalid.
    pub volatile: usize,
}

/// The running RTR server. Dropping it stops accepting connections; open ones are served
/// the last serial until the client closes them (or the process ends).
pub(super) struct ChurnServer {
    shared: Arc<Shared>,
    options: ChurnOptions,
    task: JoinHandle<()>,
}

impl Drop for ChurnServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ChurnServer {
    /// Loads the VRP file and starts listening.
    pub(super) async fn start(o: &ChurnOptions) -> Result<ChurnServer, ReplayError> {
        if !(0.0..=MAX_RATE).contains(&o.rate) {
            let what = format!("--churn-rate must be between 0 and {MAX_RATE} serials per second");
            return Err(ReplayError::Options { what });
        }
        let path = o.vrps.clone();
        let vrps = tokio::task::spawn_blocking(move || crate::rpki::file::load(&path))
            .await
            .map_err(|_| ReplayError::Internal {
                what: "VRP loader task failed",
            })??;
        let shared = Arc::new(Shared::new(vrps, o.size));
        let n = shared.len();
        if o.rate > 0.0 && (o.size == 0 || 2 * o.size > n) {
            let what = format!("--churn-size must be between 1 and half the {n} VRPs served");
            return Err(ReplayError::Options { what });
        }
        let listener = TcpListener::bind(o.listen)
            .await
            .map_err(|error| ReplayError::Connect {
                who: "RTR server".into(),
                target: o.listen.to_string(),
                error,
            })?;
        let connections = Box::pin(server::accept(listener, shared.clone()));
        let rtr = Server::new(connections, shared.notify_sender(), Source(shared.clone()));
        let task = tokio::spawn(async move {
            if let Err(error) = rtr.run().await {
                warn!(%error, "RTR server stopped");
            }
        });
        info!(listen = %o.listen, vrps = n, session = shared.session(), "RTR server listening");
        Ok(ChurnServer {
            shared,
            options: o.clone(),
            task,
        })
    }

    /// Waits until a client has loaded the set and every client that did is at the current
    /// serial (sending the Serial Notify a client still needs), or fails after `limit`.
    pub(super) async fn settle(&self, limit: Duration) -> Result<(), ReplayError> {
        let mut changed = self.shared.subscribe();
        let deadline = Instant::now() + limit;
        loop {
            self.shared.maybe_notify();
            if self.shared.settled() {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                let what = format!(
                    "no RTR client of {} at serial {} within {limit:?} (is it the device's RPKI cache?)",
                    self.options.listen,
                    self.shared.serial()
                );
                return Err(ReplayError::Timeout { what });
            }
            // Wake on a change, or after a second for a quiet client's grace to run out.
            let wait = (deadline - now).min(Duration::from_secs(1));
            let _ = tokio::time::timeout(wait, changed.changed()).await;
        }
    }

    /// Starts churning until `stop` turns true; the task ends with what it did.
    pub(super) fn run(&self, stop: watch::Receiver<bool>) -> JoinHandle<ChurnRun> {
        let since = (Instant::now(), self.shared.counters());
        tokio::spawn(churn(self.shared.clone(), self.options.rate, since, stop))
    }

    /// The server's report, with the `volatile` prefixes the replay did not wait for.
    pub(super) fn report(&self, volatile: usize) -> ChurnReport {
        ChurnReport {
            listen: self.options.listen,
            session: self.shared.session(),
            vrps: self.shared.len(),
            size: self.options.size,
            rate: self.options.rate,
            versions: self.shared.counters().versions.into_iter().collect(),
            volatile,
        }
    }
}

/// Publishes a serial every 1/`rate` seconds (the first one period after the start) until
/// `stop`, and sends Serial Notifies as clients allow; `since` is the start and the
/// counters then.
async fn churn(
    shared: Arc<Shared>,
    rate: f64,
    since: (Instant, Counters),
    mut stop: watch::Receiver<bool>,
) -> ChurnRun {
    let (start, before) = since;
    let mut run = ChurnRun {
        first_serial: shared.serial(),
        ..ChurnRun::default()
    };
    let mut ticks = (rate > 0.0).then(|| {
        let period = Duration::from_secs_f64(1.0 / rate);
        let mut ticks = interval_at(start + period, period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
        ticks
    });
    let mut changed = shared.subscribe();
    loop {
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => break,
            _ = tick(&mut ticks) => {
                let (announced, withdrawn) = shared.publish();
                run.serials += 1;
                run.announced += announced;
                run.withdrawn += withdrawn;
                shared.maybe_notify();
            }
            _ = changed.changed() => {
                shared.maybe_notify();
            }
        }
    }
    let after = shared.counters();
    ChurnRun {
        last_serial: shared.serial(),
        duration: start.elapsed(),
        notifies: after.notifies - before.notifies,
        deltas: after.deltas - before.deltas,
        resets: after.resets - before.resets,
        device_serial: after.client_serial,
        ..run
    }
}

/// The next tick, or never without a rate.
async fn tick(ticks: &mut Option<Interval>) {
    match ticks {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Whether churn can make a route that `vrps` finds valid invalid: a VRP covers it that does
/// not match it, so withdrawing the matching ones leaves it invalid.
pub(super) fn volatile(vrps: &VrpTable, prefix: &IpNet, origin: Option<Asn>) -> bool {
    let v = vrps.validate(prefix, origin);
    v.state == RovState::Valid && !(v.bad_asn.is_empty() && v.bad_length.is_empty())
}

/// The churn line of a run in the text output.
pub(super) fn text_run(c: &ChurnRun) -> String {
    let device = c.device_serial.map_or("-".into(), |s| s.to_string());
    format!(
        "  churn: {} serials ({} VRP changes) in {:.3} s = {:.1} serials/s, {:.0} VRP changes/s; \
         {} Serial Notifies, {} deltas fetched; device at serial {device} of {}\n",
        c.serials,
        c.changes(),
        c.duration.as_secs_f64(),
        c.per_second(c.serials.into()),
        c.per_second(c.changes() as f64),
        c.notifies,
        c.deltas,
        c.last_serial,
    )
}

/// The RTR server line of the text summary.
pub(super) fn text_report(r: &ChurnReport) -> String {
    let versions: Vec<String> = r.versions.iter().map(u8::to_string).collect();
    format!(
        "churn: RTR server {} (client versions {}), {} VRPs, {} per serial at {} serials/s \
         asked; {} prefixes not waited for (volatile under churn)\n",
        r.listen,
        versions.join(","),
        r.vrps,
        r.size,
        r.rate,
        r.volatile,
    )
}

/// The churn of a run in the JSON output.
pub(super) fn json_run(c: &ChurnRun) -> serde_json::Value {
    json!({
        "serials": c.serials,
        "first_serial": c.first_serial,
        "last_serial": c.last_serial,
        "vrps_announced": c.announced,
        "vrps_withdrawn": c.withdrawn,
        "vrp_changes": c.changes(),
        "seconds": c.duration.as_secs_f64(),
        "serials_per_second": c.per_second(c.serials.into()),
        "vrp_changes_per_second": c.per_second(c.changes() as f64),
        "serial_notifies": c.notifies,
        "deltas_fetched": c.deltas,
        "resets_fetched": c.resets,
        "device_serial": c.device_serial,
    })
}

/// The RTR server and the churn of all runs in the JSON output.
pub(super) fn json_report(r: &ChurnReport, runs: &[RunResult]) -> serde_json::Value {
    let runs: Vec<&ChurnRun> = runs.iter().filter_map(|run| run.churn.as_ref()).collect();
    json!({
        "rtr_listen": r.listen.to_string(),
        "rtr_versions_served": [0, 1, 2],
        "rtr_versions_seen": r.versions,
        "session_id": r.session,
        "vrps": r.vrps,
        "size": r.size,
        "rate_asked": r.rate,
        "vrp_changes_per_second_asked": 2.0 * r.size as f64 * r.rate,
        "volatile_prefixes": r.volatile,
        "serials_published": runs.iter().map(|c| u64::from(c.serials)).sum::<u64>(),
        "vrp_changes": runs.iter().map(|c| c.changes()).sum::<u64>(),
    })
}

#[cfg(test)]
mod tests;
