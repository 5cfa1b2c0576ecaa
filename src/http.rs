//! The HTTP API: read-only views of published snapshots; it never waits on a writer.
//!
//! Where it sits: beside the daemon's tasks; reads `VrpStore` snapshots only.
//! `GET /api/v1/status`: VRP count and serial, staleness, every source and its state.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::error;

use crate::rpki::sources::LocalExceptions;
use crate::rpki::status::{unix_seconds, SourceStatus};
use crate::rpki::VrpStore;

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
    /// True when every RTR cache is past expire and its VRPs are withdrawn.
    pub stale: bool,
}

/// Serves the API on `listener` until shutdown.
pub async fn serve(listener: TcpListener, store: VrpStore, mut shutdown: watch::Receiver<bool>) {
    let app = Router::new()
        .route("/api/v1/status", get(status))
        .with_state(store);
    let stop = async move {
        // Either a shutdown or a dropped sender ends the server.
        let _ = shutdown.changed().await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
    {
        error!(error = %e, "HTTP server failed");
    }
}

async fn status(State(store): State<VrpStore>) -> Json<Status> {
    let snapshot = store.load();
    let status = store.status();
    Json(Status {
        version: env!("CARGO_PKG_VERSION"),
        vrps: VrpSummary {
            count: snapshot.table.len(),
            serial: snapshot.serial,
            updated: snapshot.updated,
            aspas: snapshot.aspas.len(),
            stale: status.stale,
        },
        sources: status.sources.clone(),
        exceptions: snapshot.exceptions.clone(),
    })
}
