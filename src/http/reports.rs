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

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::http::header::RETRY_AFTER;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::{Mutex, OwnedMutexGuard, Semaphore, SemaphorePermit};
use tokio::time::Instant;

use super::report::ask;
use super::Api;
use crate::report::{self, InvalidInput, PeerInput, Report};
use crate::rib::RibQuery;
use crate::route::PeerId;

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
    slot: Arc<Mutex<Slot>>,
    permits: Semaphore,
}

/// What the lock guards: held while a report is built.
#[derive(Debug, Default)]
struct Slot {
    last: Option<Arc<Built>>,
    builds: u64,
}

impl Default for Reports {
    fn default() -> Self {
        Reports {
            slot: Default::default(),
            permits: Semaphore::new(PERMITS),
        }
    }
}

impl Reports {
    /// The report of the current state: the last one built when its state is still
    /// current or it was started after this request arrived, else a new one.
    pub async fn current(&self, api: &Api) -> Result<Arc<Built>, (StatusCode, String)> {
        let arrived = Instant::now();
        let slot = self.slot.clone().lock_owned().await;
        let now = Key {
            generation: api.rib.load().generation,
            serial: api.vrps.load().serial,
        };
        if let Some(built) = (slot.last.as_ref()).filter(|b| b.key == now || b.started >= arrived) {
            return Ok(built.clone());
        }
        // A task of its own: a request that goes away does not cancel the build the others
        // wait for, and the slot stays locked until it is done.
        let task = tokio::spawn(build(api.clone(), slot));
        task.await.map_err(|e| {
            let why = format!("building the report failed: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, why)
        })?
    }

    /// The report built as `id`, if it is still the last one; `None` once a newer one
    /// replaced it.
    pub async fn by_id(&self, id: u64) -> Option<Arc<Built>> {
        let slot = self.slot.lock().await;
        slot.last.as_ref().filter(|b| b.id == id).cloned()
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

/// Builds the report of the RIB's listed paths (RPKI-invalid or failing a check) and VRPs now into `slot` (unless the RIB
/// hands out the paths the last one was built from).
async fn build(
    api: Api,
    mut slot: OwnedMutexGuard<Slot>,
) -> Result<Arc<Built>, (StatusCode, String)> {
    let started = Instant::now();
    let invalid = ask(&api, |reply| RibQuery::Report { reply }).await?;
    let vrps = api.vrps.load();
    let key = Key {
        generation: invalid.generation,
        serial: vrps.serial,
    };
    // The RIB may hand out paths collected before the view moved on (while it is busy).
    if let Some(built) = slot.last.as_ref().filter(|b| b.key == key) {
        return Ok(built.clone());
    }
    // Readers of the old report keep it as long as they need it; the slot does not.
    slot.last = None;
    let (peers, index) = peer_inputs(&api);
    let explain = move || {
        // A path of a peer removed since it was collected is left out.
        let invalid: Vec<InvalidInput> = (invalid.paths.iter())
            .filter_map(|p| Some((index.get(&p.peer)?, p)))
            .map(|(&peer, p)| InvalidInput {
                peer,
                prefix: p.prefix,
                origin: p.attrs.as_path.origin(),
                as_path: p.attrs.as_path.to_string(),
                rpki_invalid: p.rpki_invalid,
                failed: p.failed,
                dropped: p.dropped,
                aspa: p.aspa.clone(),
                reachable: p.reachable,
            })
            .collect();
        report::build(&peers, &invalid, &vrps.table, None)
    };
    let report = tokio::task::spawn_blocking(explain).await.map_err(|e| {
        let why = format!("building the report failed: {e}");
        (StatusCode::INTERNAL_SERVER_ERROR, why)
    })?;
    slot.builds += 1;
    let built = Arc::new(Built {
        id: slot.builds,
        time: SystemTime::now(),
        report,
        key,
        started,
    });
    slot.last = Some(built.clone());
    Ok(built)
}

/// Every peer's counts from the RIB's published view, and where each peer's id is in them.
fn peer_inputs(api: &Api) -> (Vec<PeerInput>, HashMap<PeerId, usize>) {
    let view = api.rib.load();
    let index = (view.peers.iter().enumerate())
        .map(|(i, p)| (p.id, i))
        .collect();
    let inputs = (view.peers.iter())
        .map(|p| PeerInput {
            name: p.name.clone(),
            valid: p.counts.valid,
            invalid: p.counts.invalid,
            not_found: p.counts.not_found,
            dropped: p.counts.dropped,
        })
        .collect();
    (inputs, index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_reader_beyond_the_permits_waits_then_gets_503_with_retry_after() {
        let reports = Reports::default();
        let mut held = Vec::new();
        for _ in 0..PERMITS {
            held.push(reports.permit().await.expect("a permit"));
        }
        let waited = Instant::now();
        let busy = reports.permit().await.expect_err("no permit left");
        assert_eq!(waited.elapsed(), WAIT);
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()[RETRY_AFTER], RETRY_AFTER_SECONDS);
        drop(held.pop());
        assert!(reports.permit().await.is_ok(), "a returned permit is taken");
    }
}
