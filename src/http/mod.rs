//! The HTTP API: views of published snapshots, and the few operator actions.
//!
//! Where it sits: beside the daemon's tasks; reads the `VrpStore`, the RIB's published
//! `RibView` and the ROV history, and never waits on a writer's lock. The report and the
//! looking glass ask the RIB task for an owned snapshot through its event queue; the only
//! writes are operator actions, sent the same way:
//! - `GET /api/v1/status`: VRP count and serial, staleness, every source and its state,
//!   every peer with its routes by ROV state and what it did wrong (malformed UPDATEs,
//!   NOTIFICATIONs), connections refused, a held mass invalidation, re-evaluation progress;
//! - `GET /api/v1/report[?peer=NAME&offset=N&limit=M&id=I]`: the what-if report in pages
//!   (`report.rs` here; built once per state and shared, `reports.rs`);
//! - `GET /api/v1/routes?prefix=P`: every path of a prefix with its verdict (looking glass);
//! - `GET /api/v1/history[?peer=NAME&limit=N]`: recent ROV changes and counts over time;
//! - `GET /metrics`: Prometheus text;
//! - `GET /birdwatcher/...`: the same, as birdwatcher shows BIRD, for Alice-LG
//!   (`birdwatcher.rs`);
//! - `POST /api/v1/peers/{name}/rov` with `{"rov": "drop"}`: change a peer's ROV policy;
//! - `POST /api/v1/vrps/accept` with `{}`: apply a VRP update held as a mass invalidation;
//! - `POST /api/v1/reload` with `{}`: reload the config file, as SIGHUP does.
//!
//! `server.rs` accepts and serves connections within the `[http]` limits; every request
//! passes `guard.rs` (Host check, security headers; writes need the token).

pub mod birdwatcher;
pub mod guard;
mod page;
mod report;
mod reports;
mod server;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::info;

pub use reports::Reports;

use crate::config::HttpConfig;
use crate::daemon::reload::{Applied, ReloadError};
use crate::history::SharedHistory;
use crate::policy::RovMode;
use crate::rib::ReevaluationView;
use crate::rib::{HoldView, PeerView, RibEvent, RibQuery, SharedView};
use crate::route::abuse::Refusals;
use crate::rpki::server::RtrServerView;
use crate::rpki::slurm::LocalExceptions;
use crate::rpki::status::{unix_seconds, SourceStatus, Validation};
use crate::rpki::VrpStore;

/// What the API reads and whom it tells.
#[derive(Clone)]
pub struct Api {
    /// The VRP snapshots and source status.
    pub vrps: VrpStore,
    /// The RIB's published view.
    pub rib: SharedView,
    /// The RIB task's inbound queue, for operator actions.
    pub events: mpsc::Sender<RibEvent>,
    /// The RIB's query channel (report, looking glass): off the UPDATE queue.
    pub queries: mpsc::Sender<RibQuery>,
    /// Recent ROV changes and per-peer counts over time.
    pub history: SharedHistory,
    /// Renders the Prometheus metrics.
    pub metrics: PrometheusHandle,
    /// Who may read and write.
    pub guard: guard::Guard,
    /// The last what-if report built, shared by its readers.
    pub reports: Arc<Reports>,
    /// Connections the BGP listener and sessions refused.
    pub refusals: Arc<Refusals>,
    /// Where config reloads are asked for.
    pub reload: mpsc::Sender<crate::daemon::reload::Request>,
    /// The RTR server (no listeners: none configured).
    pub rtr_server: crate::rpki::server::RtrServer,
    /// What the birdwatcher API says about the route server.
    pub identity: birdwatcher::Identity,
    /// The birdwatcher API's last walk of the table, shared by its route lists.
    pub birdwatcher_table: Arc<birdwatcher::TableCache>,
}

/// The body of `GET /api/v1/status`.
#[derive(Serialize)]
pub struct Status {
    /// rovgate's version.
    pub version: &'static str,
    /// The effective VRP set.
    pub vrps: VrpSummary,
    /// Every RTR cache, VRP file and SLURM file with its state.
    pub sources: Vec<SourceStatus>,
    /// SLURM filters and assertions in force.
    pub exceptions: LocalExceptions,
    /// Every peer: session, ROV policy, routes by state, would-drop count, what it did
    /// wrong.
    pub peers: Vec<PeerView>,
    /// TCP connections refused since the start, by reason.
    pub connections_refused: Arc<Refusals>,
    /// A VRP update held as a mass invalidation (`null`: none).
    pub held_update: Option<HoldView>,
    /// Re-evaluation of stored routes after VRP changes.
    pub reevaluation: ReevaluationView,
    /// While the update delay lasts (no routes sent yet): how many configured peers have
    /// not sent their whole table (`null`: no delay in force).
    pub update_delay: Option<usize>,
    /// Routes of peers in `drop` are not exported until the first complete VRP set is in.
    pub waiting_for_vrps: bool,
    /// The RTR server: the serial it serves and every connected router (`null`: none
    /// configured).
    pub rtr_server: Option<RtrServerView>,
}

/// The effective VRP set at a glance.
#[derive(Serialize)]
pub struct VrpSummary {
    /// How many VRPs are in force.
    pub count: usize,
    /// The snapshot serial (increases with every change).
    pub serial: u64,
    /// When the snapshot was published (Unix seconds).
    #[serde(serialize_with = "unix_seconds")]
    pub updated: Option<std::time::SystemTime>,
    /// ASPA objects in force.
    pub aspas: usize,
    /// True when every RTR cache is past expire and its VRPs are withdrawn: routes they
    /// covered fail open to not-found.
    pub stale: bool,
    /// True once every source answered once or `[rpki] startup_wait` passed.
    pub complete: bool,
    /// Whether routes are validated: `active` false (with `reason` and `since`) while the
    /// VRP set is empty or stale.
    pub validation: Validation,
}

/// The body of `POST /api/v1/peers/{name}/rov`, and its answer.
#[derive(Deserialize, Serialize)]
pub struct SetRov {
    /// `accept`, `tag`, `shadow` or `drop`.
    pub rov: RovMode,
}

/// Serves the API on `listener` within `limits` until shutdown.
pub async fn serve(
    listener: TcpListener,
    api: Api,
    limits: HttpConfig,
    shutdown: watch::Receiver<bool>,
) {
    let reads = Router::new()
        .route("/", get(page::index))
        .route("/api/v1/status", get(status))
        .route("/api/v1/report", get(report::report))
        .route("/api/v1/routes", get(report::routes))
        .route("/api/v1/history", get(report::history))
        .route("/metrics", get(metrics))
        .nest("/birdwatcher", birdwatcher::router());
    let writes = Router::new()
        .route("/api/v1/peers/{name}/rov", post(set_rov))
        .route("/api/v1/vrps/accept", post(accept_vrps))
        .route("/api/v1/reload", post(reload));
    let app = guard::protect(reads, writes, api.guard.clone()).with_state(api);
    server::run(listener, app, limits, shutdown).await;
}

async fn status(State(api): State<Api>) -> Json<Status> {
    let snapshot = api.vrps.load();
    let status = api.vrps.status();
    let rib = api.rib.load_full();
    Json(Status {
        version: env!("CARGO_PKG_VERSION"),
        vrps: VrpSummary {
            count: snapshot.table.len(),
            serial: snapshot.serial,
            updated: snapshot.updated,
            aspas: snapshot.aspas.len(),
            stale: status.stale,
            complete: status.complete,
            validation: status.validation.clone(),
        },
        sources: status.sources.clone(),
        exceptions: snapshot.exceptions.clone(),
        peers: rib.peers.clone(),
        connections_refused: api.refusals.clone(),
        held_update: rib.held_update.clone(),
        reevaluation: rib.reevaluation.clone(),
        update_delay: rib.update_delay,
        waiting_for_vrps: rib.waiting_for_vrps,
        rtr_server: api.rtr_server.configured().then(|| api.rtr_server.view()),
    })
}

async fn metrics(State(api): State<Api>) -> String {
    let (rib, rpki, vrps) = (api.rib.load(), api.vrps.status(), api.vrps.load());
    let rtr = api.rtr_server.configured().then(|| api.rtr_server.view());
    crate::metrics::render(&api.metrics, &rib, &rpki, &vrps, rtr.as_ref())
}

pub(crate) type Reply<T> = Result<Json<T>, (StatusCode, String)>;

pub(crate) fn unavailable() -> (StatusCode, String) {
    let why = "the RIB task is gone (shutting down)".to_string();
    (StatusCode::SERVICE_UNAVAILABLE, why)
}

async fn set_rov(
    State(api): State<Api>,
    Path(name): Path<String>,
    Json(body): Json<SetRov>,
) -> Reply<SetRov> {
    let view = api.rib.load();
    let Some(peer) = view.peers.iter().find(|p| p.name == name).map(|p| p.id) else {
        return Err((StatusCode::NOT_FOUND, format!("no peer named {name:?}")));
    };
    info!(peer = %name, rov = %body.rov, "ROV policy change requested over HTTP");
    let event = RibEvent::SetPolicy {
        peer,
        rov: body.rov,
    };
    api.events.send(event).await.map_err(|_| unavailable())?;
    Ok(Json(body))
}

/// The answer of `POST /api/v1/vrps/accept`.
#[derive(Serialize)]
pub struct Accepted {
    /// Whether a held update was applied (false: nothing was held).
    pub accepted: bool,
}

/// The body of `POST /api/v1/vrps/accept` and `POST /api/v1/reload`: an empty JSON
/// object, `{}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

async fn accept_vrps(State(api): State<Api>, Json(_): Json<Empty>) -> Reply<Accepted> {
    let (reply, answer) = oneshot::channel();
    let event = RibEvent::AcceptVrps { reply };
    api.events.send(event).await.map_err(|_| unavailable())?;
    let accepted = answer.await.map_err(|_| unavailable())?;
    Ok(Json(Accepted { accepted }))
}

/// `POST /api/v1/reload`: re-reads the config file and applies it (as SIGHUP does); the
/// answer says what changed, or (400) why the config does not load and nothing changed.
async fn reload(State(api): State<Api>, Json(_): Json<Empty>) -> Reply<Applied> {
    info!("config reload requested over HTTP");
    let (reply, answer) = oneshot::channel();
    let request = crate::daemon::reload::Request { reply };
    api.reload.send(request).await.map_err(|_| unavailable())?;
    match answer.await.map_err(|_| unavailable())? {
        Ok(applied) => Ok(Json(applied)),
        Err(ReloadError::Stopping) => Err(unavailable()),
        Err(e @ ReloadError::NoFile) => Err((StatusCode::CONFLICT, e.to_string())),
        Err(e) => Err((StatusCode::BAD_REQUEST, e.to_string())),
    }
}
