//! The what-if report built once per state and shared, and the bound on readers of it.
//!
//! Where it sits: inside the HTTP task, under `GET /api/v1/report` and the page at `/`.
//! A report depends on the RIB's invalid paths (the table generation they were collected
//! at, `RibView::generation`) and on the VRP snapshot (its serial); [`Reports`] keeps the
//! last one built with that key. Requests for the same state get the same `Arc`; a request
//! that finds the state changed builds a new report while the others wait for it (one
//! build at a time, and a build that started after a request arrived answers it too), so
//! memory holds about one report however many read it. Pages are cut from it under one of
//! [`PERMITS`] permits: a request that waits longer than [`WAIT`] for one gets 503 with
//! `Retry-After`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::http::header::RETRY_AFTER;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::{Mutex, Semaphore, SemaphorePermit};
use tokio::time::Instant;

use super::report::ask;
use super::Api;
use crate::report::{self, InvalidInput, PeerInput, Report};
use crate::rib::RibQuery;

/// How many requests may cut pages from a report (or render the page) at once.
pub const PERMITS: usize = 4;
/// How long a request waits for a permit before it gets 503.
pub const WAIT: Duration = Duration::from_secs(10);
/// What a 503 tells the client to wait before it asks again (seconds).
const RETRY_AFTER_SECONDS: &str = "2";

/// What a report depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    /// The table generation of the invalid paths.
    generation: u64,
    /// The VRP snapshot serial.
    serial: u64,
}

/// One built report of every peer.
#[derive(Debug)]
pub struct Built {
    /// Counts builds since start: pages with the same id come from the same report.
    pub id: u64,
    /// When it was built.
    pub time: SystemTime,
    /// The report.
    pub report: Report,
    key: Key,
    /// When its build asked the RIB: it answers every request that arrived before.
    started: Instant,
}

/// The last report built, and the permits to read it.
#[derive(Debug)]
pub struct Reports {
    last: Mutex<Option<Arc<Built>>>,
    builds: AtomicU64,
    permits: Semaphore,
}

impl Default for Reports {
    fn default() -> Self {
        Reports {
            last: Mutex::new(None),
            builds: Default::default(),
            permits: Semaphore::new(PERMITS),
        }
    }
}

impl Reports {
    /// The report of the current state: the last one built when its state is still
    /// current or it was started after this request arrived, else a new one.
    pub async fn current(&self, api: &Api) -> Result<Arc<Built>, (StatusCode, String)> {
        let arrived = Instant::now();
        let mut last = self.last.lock().await;
        let now = Key {
            generation: api.rib.load().generation,
            serial: api.vrps.load().serial,
        };
        if let Some(built) = (last.as_ref()).filter(|b| b.key == now || b.started >= arrived) {
            return Ok(built.clone());
        }
        let started = Instant::now();
        let invalid = ask(api, |reply| RibQuery::Report { reply }).await?;
        let vrps = api.vrps.load();
        let key = Key {
            generation: invalid.generation,
            serial: vrps.serial,
        };
        // The RIB may hand out paths collected before the view moved on (while it is busy).
        if let Some(built) = last.as_ref().filter(|b| b.key == key) {
            return Ok(built.clone());
        }
        // Readers of the old report keep it as long as they need it; this does not.
        *last = None;
        let peers = peer_inputs(api);
        let build = move || {
            let invalid: Vec<InvalidInput> = (invalid.paths.iter())
                .map(|p| InvalidInput {
                    peer: p.peer.0 as usize,
                    prefix: p.prefix,
                    origin: p.attrs.as_path.origin(),
                    as_path: p.attrs.as_path.to_string(),
                    dropped: p.dropped,
                    reachable: p.reachable,
                })
                .collect();
            report::build(&peers, &invalid, &vrps.table, None)
        };
        let report = tokio::task::spawn_blocking(build).await.map_err(|e| {
            let why = format!("building the report failed: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, why)
        })?;
        let id = 1 + self.builds.fetch_add(1, Ordering::Relaxed);
        let built = Arc::new(Built {
            id,
            time: SystemTime::now(),
            report,
            key,
            started,
        });
        *last = Some(built.clone());
        Ok(built)
    }

    /// The report built as `id`, if it is still the last one; `None` once a newer one
    /// replaced it.
    pub async fn by_id(&self, id: u64) -> Option<Arc<Built>> {
        let last = self.last.lock().await;
        last.as_ref().filter(|b| b.id == id).cloned()
    }

    /// A permit to cut a page: waits up to [`WAIT`], then answers 503 with `Retry-After`.
    pub async fn permit(&self) -> Result<SemaphorePermit<'_>, Response> {
        let busy = || {
            let why = "too many report requests at once; try again shortly";
            let retry = [(RETRY_AFTER, RETRY_AFTER_SECONDS)];
            (StatusCode::SERVICE_UNAVAILABLE, retry, why).into_response()
        };
        match tokio::time::timeout(WAIT, self.permits.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; a closed one is as busy as can be.
            Ok(Err(_)) | Err(_) => Err(busy()),
        }
    }
}

/// Every peer's counts from the RIB's published view.
fn peer_inputs(api: &Api) -> Vec<PeerInput> {
    let view = api.rib.load();
    (view.peers.iter())
        .map(|p| PeerInput {
            name: p.name.clone(),
            valid: p.counts.valid,
            invalid: p.counts.invalid,
            not_found: p.counts.not_found,
            dropped: p.counts.dropped,
        })
        .collect()
}
