//! The read-only ROV views over HTTP: the what-if report, the looking glass and the
//! history of ROV changes.
//!
//! Where it sits: inside the HTTP task. Report and looking glass ask the RIB task for an
//! owned snapshot (a reply channel, no lock) and explain it with the current VRP snapshot
//! (the report is built once per state and handed out in pages, `reports.rs`); the history
//! is copied out of the history task's buffer.

use std::collections::HashMap;
use std::time::SystemTime;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::{unavailable, Api, Reply};
use crate::history::{self, RpkiHistory, Sample};
use crate::report::{ReportPage, DEFAULT_PAGE, MAX_PAGE};
use crate::rib::{PathView, RibQuery, RovChange};
use crate::rpki::Verdict;

/// `?peer=NAME&limit=N`.
#[derive(Deserialize)]
pub struct PeerQuery {
    pub(super) peer: Option<String>,
    pub(super) limit: Option<usize>,
}

/// Asks the RIB task something on its query channel and waits for its answer.
pub(super) async fn ask<T>(
    api: &Api,
    query: impl FnOnce(oneshot::Sender<T>) -> RibQuery,
) -> Result<T, (StatusCode, String)> {
    let (reply, answer) = oneshot::channel();
    api.queries
        .send(query(reply))
        .await
        .map_err(|_| unavailable())?;
    answer.await.map_err(|_| unavailable())
}

fn known_peer(api: &Api, name: Option<&str>) -> Result<(), (StatusCode, String)> {
    match name {
        Some(n) if !api.rib.load().peers.iter().any(|p| p.name == n) => {
            Err((StatusCode::NOT_FOUND, format!("no peer named {n:?}")))
        }
        _ => Ok(()),
    }
}

/// `?peer=NAME&offset=N&limit=M&id=I`: which page of which report.
#[derive(Deserialize)]
pub struct ReportQuery {
    peer: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
    id: Option<u64>,
}

/// `GET /api/v1/report[?peer=NAME][&offset=N][&limit=M][&id=I]`: a page of the what-if
/// report of the running RIB: every reported peer's counts, and of their invalid routes
/// in report order those from `offset` (default 0) on, at most `limit` (default
/// [`DEFAULT_PAGE`], at most [`MAX_PAGE`]). With `id`, a page of that build, which stays
/// until a newer one replaces it (then 409: read again from offset 0).
pub async fn report(State(api): State<Api>, Query(q): Query<ReportQuery>) -> Response {
    match page(&api, q).await {
        Ok(page) | Err(page) => page,
    }
}

async fn page(api: &Api, q: ReportQuery) -> Result<Response, Response> {
    known_peer(api, q.peer.as_deref()).map_err(IntoResponse::into_response)?;
    let built = match q.id {
        None => (api.reports.current(api).await).map_err(IntoResponse::into_response)?,
        Some(id) => api.reports.by_id(id).await.ok_or_else(|| {
            let why = format!("report {id} was replaced by a newer one: read again from offset 0");
            (StatusCode::CONFLICT, why).into_response()
        })?,
    };
    let _permit = api.reports.permit().await?;
    let offset = q.offset.unwrap_or(0);
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).min(MAX_PAGE);
    let (report, total) = built.report.page(q.peer.as_deref(), offset, limit);
    let since_epoch = built.time.duration_since(SystemTime::UNIX_EPOCH);
    let page = ReportPage {
        report,
        total: total as u64,
        offset: offset as u64,
        limit: limit as u64,
        id: built.id,
        built: since_epoch.map_or(0, |d| d.as_secs()),
    };
    // Serialized here, while the permit is held.
    Ok(Json(page).into_response())
}

/// `?prefix=P` (an address means its host route).
#[derive(Deserialize)]
pub struct PrefixQuery {
    pub(super) prefix: String,
}

/// The answer of the looking glass.
#[derive(Serialize)]
pub struct Routes {
    /// What was asked.
    pub query: IpNet,
    /// The prefix whose paths these are: the query, or the longest prefix covering it
    /// (`null`: no route covers it).
    pub prefix: Option<IpNet>,
    /// Its paths, best first, each with its verdict under the current VRPs.
    pub paths: Vec<PathVerdict>,
}

/// One path and why it is what it is.
#[derive(Serialize)]
pub struct PathVerdict {
    /// The path.
    #[serde(flatten)]
    pub path: PathView,
    /// Its RFC 6811 verdict with reasons (matched VRPs, covering VRPs with another AS,
    /// covering VRPs with a too short maxLength).
    pub verdict: Verdict,
}

/// A looking-glass query: a prefix (made canonical) or an address (its host route).
fn parse_query(text: &str) -> Result<IpNet, (StatusCode, String)> {
    match text.parse::<IpNet>() {
        Ok(p) => Ok(p.trunc()),
        Err(_) => match text.parse::<std::net::IpAddr>() {
            Ok(a) => Ok(IpNet::from(a)),
            Err(_) => {
                let why = format!("expected a prefix or an address, got {text:?}");
                Err((StatusCode::BAD_REQUEST, why))
            }
        },
    }
}

/// Asks the RIB for the paths of looking-glass query `text` ([`parse_query`]): the query,
/// the prefix found (`None`: nothing covers it) and its paths, best first.
pub(super) async fn lookup(
    api: &Api,
    text: &str,
) -> Result<(IpNet, Option<IpNet>, Vec<PathView>), (StatusCode, String)> {
    let query = parse_query(text)?;
    let (found, paths) = ask(api, |reply| RibQuery::Lookup {
        prefix: query,
        reply,
    })
    .await?;
    Ok((query, found, paths))
}

/// `GET /api/v1/routes?prefix=P`: every path of a prefix (a looking glass).
pub async fn routes(State(api): State<Api>, Query(q): Query<PrefixQuery>) -> Reply<Routes> {
    let (query, found, paths) = lookup(&api, &q.prefix).await?;
    let vrps = api.vrps.load();
    let paths = (paths.into_iter())
        .map(|path| {
            let prefix = found.unwrap_or(query);
            let verdict = vrps.table.validate(&prefix, path.origin);
            PathVerdict { path, verdict }
        })
        .collect();
    Ok(Json(Routes {
        query,
        prefix: found,
        paths,
    }))
}

/// One ROV change as the history API shows it: the peer by name.
#[derive(Serialize)]
pub struct NamedChange {
    /// The peer's name.
    pub peer_name: String,
    /// The change.
    #[serde(flatten)]
    pub change: RovChange,
}

/// The answer of the history API.
#[derive(Serialize)]
pub struct HistoryView {
    /// Recent changes, newest first.
    pub changes: Vec<NamedChange>,
    /// Per-peer counts once a minute, oldest first.
    pub samples: Vec<Sample>,
    /// The RPKI sources' changes of state and serial, and validation on and off, oldest
    /// first.
    pub rpki: RpkiHistory,
    /// Changes the history missed because it fell behind.
    pub missed: u64,
}

/// `GET /api/v1/history[?peer=NAME&limit=N]` (limit default 100).
pub async fn history(State(api): State<Api>, Query(q): Query<PeerQuery>) -> Reply<HistoryView> {
    known_peer(&api, q.peer.as_deref())?;
    let view = api.rib.load();
    let names: HashMap<u32, &str> = (view.peers.iter())
        .map(|p| (p.id.0, p.name.as_str()))
        .collect();
    let peer = (q.peer.as_deref()).and_then(|n| view.peers.iter().find(|p| p.name == n));
    let limit = q.limit.unwrap_or(100);
    let (changes, samples, rpki, missed) = history::read(&api.history, |h| {
        (
            h.recent(peer.map(|p| p.id.0), limit),
            h.samples(),
            h.rpki(),
            h.missed(),
        )
    });
    let changes = (changes.into_iter())
        .map(|change| NamedChange {
            peer_name: names.get(&change.peer.0).unwrap_or(&"?").to_string(),
            change,
        })
        .collect();
    Ok(Json(HistoryView {
        changes,
        samples,
        rpki,
        missed,
    }))
}
