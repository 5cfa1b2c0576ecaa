//! A birdwatcher-compatible read-only API, so that an IXP's Alice-LG shows rovgate as it
//! shows a BIRD route server (`type = "single_table"`).
//!
//! Where it sits: inside the HTTP task, under `/birdwatcher`, behind the same guard as the
//! other reads. It answers from what the rest of the API already reads, and asks the RIB
//! nothing the JSON API does not: the published `RibView` (status, protocols), the
//! invalid-path snapshot the what-if report uses (built at most once per table state, or
//! once a second while UPDATEs arrive: per-peer filtered counts and `/routes/filtered`),
//! and the looking glass's one-prefix lookup (`/routes/prefix`).
//! - `GET /status`: router id, server time, start time;
//! - `GET /protocols/bgp`, `/protocols/short`: every peer as a BGP protocol, by protocol id
//!   (its name as BIRD would accept it), with its route counts;
//! - `GET /routes/filtered/{id}`: the peer's paths rovgate does not use (RPKI invalid in
//!   `drop`, an import check in `drop`), with the Euro-IX large communities rovgate marks
//!   them with: `rs_asn:1101:N` (filtered reason) and `rs_asn:1000:y` (RPKI state);
//! - `GET /routes/table/{table}/filtered`: the same, of every peer;
//! - `GET /routes/prefix?prefix=P`: every path of a prefix (or the longest covering one);
//! - `GET /routes/noexport/{id}`: of each prefix of a family the peer's session carries,
//!   the path the peer would be sent (the best of another peer) when its action
//!   communities keep it from the peer, from the same shared walk (`received.rs`);
//! - `GET /routes/protocol/{id}`, `/routes/table/{table}`: the paths rovgate uses, of one
//!   peer or of all, from a walk of the table shared for a few seconds (`received.rs`).
//!
//! The JSON is what Alice-LG's birdwatcher source decodes (alice-lg/alice-lg
//! `pkg/sources/birdwatcher/parsers.go`, `stream_decoder.go`, `source.go` and
//! `pkg/decoders/types.go`: which fields, and that `as_path`, `local_pref` and `med` are
//! strings and the counts and communities numbers). Times are RFC 3339 in UTC: Alice-LG's
//! `servertime`, `servertime_short` and `servertime_ext` must all be
//! `2006-01-02T15:04:05Z07:00` (README, "Alice-LG").

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::time::SystemTime;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::report::{ask, lookup, PrefixQuery};
use super::{Api, Reply};
use crate::config::Config;
use crate::policy::{decide_all, Tagging};
use crate::rib::{InvalidPath, PeerView, RibQuery, RibView};
use crate::route::{PeerId, RovState};

mod json;
mod received;

use json::route;
pub use json::{answer, bgp, rfc3339, Answer, Bgp, Route, RoutesBody};
pub use received::TableCache;
use received::{kept_paths, used_paths};

/// What the birdwatcher API tells about the route server itself.
#[derive(Clone, Copy, Debug)]
pub struct Identity {
    /// The BGP identifier.
    pub router_id: Ipv4Addr,
    /// The communities rovgate marks paths with, as configured at start.
    pub tagging: Tagging,
    /// When rovgate started (`last_reboot`, `last_reconfig`).
    pub started: SystemTime,
}

impl Identity {
    /// The identity of a route server started now with `config`.
    pub fn of(config: &Config) -> Self {
        Identity {
            router_id: config.server.router_id,
            tagging: config.rov.tagging(config.server.asn.0),
            started: SystemTime::now(),
        }
    }
}

/// The routes, to be nested under `/birdwatcher`.
pub fn router() -> Router<Api> {
    Router::new()
        .route("/status", get(status))
        .route("/protocols/bgp", get(protocols))
        .route("/protocols/short", get(protocols_short))
        .route("/routes/filtered/{id}", get(filtered))
        .route("/routes/noexport/{id}", get(noexport))
        .route("/routes/protocol/{id}", get(received))
        .route("/routes/prefix", get(prefix))
        .route("/routes/table/{table}", get(table))
        .route("/routes/table/{table}/filtered", get(table_filtered))
}

/// The body of `/status`.
#[derive(Serialize)]
pub struct StatusBody {
    /// The route server.
    pub status: RouterStatus,
}

/// The route server as `/status` shows it.
#[derive(Serialize)]
pub struct RouterStatus {
    /// The BGP identifier.
    pub router_id: Ipv4Addr,
    /// Now.
    pub current_server: String,
    /// When rovgate started.
    pub last_reboot: String,
    /// When rovgate started (a reload is not tracked here).
    pub last_reconfig: String,
    /// What the daemon is.
    pub message: String,
    /// Its version.
    pub version: String,
}

async fn status(State(api): State<Api>) -> Json<Answer<StatusBody>> {
    let id = api.identity;
    let started = rfc3339(id.started);
    answer(StatusBody {
        status: RouterStatus {
            router_id: id.router_id,
            current_server: rfc3339(SystemTime::now()),
            last_reboot: started.clone(),
            last_reconfig: started,
            message: "rovgate is up and running".to_string(),
            version: format!("rovgate {}", env!("CARGO_PKG_VERSION")),
        },
    })
}

/// The protocol id of each of `peers`: its name with every character BIRD does not take in
/// a protocol name made `_`, led by `p_` when it does not start with a letter, and `_N`
/// (its position) added when an earlier peer has the same id.
pub fn protocol_ids(peers: &[PeerView]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::with_capacity(peers.len());
    for (i, peer) in peers.iter().enumerate() {
        let clean: String = (peer.name.chars())
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let mut id = match clean.chars().next() {
            Some(c) if c.is_ascii_alphabetic() => clean,
            _ => format!("p_{clean}"),
        };
        if ids.contains(&id) {
            id = format!("{id}_{i}");
        }
        ids.push(id);
    }
    ids
}

/// The body of `/protocols/bgp`.
#[derive(Serialize)]
pub struct ProtocolsBody {
    /// Every peer by protocol id.
    pub protocols: BTreeMap<String, Protocol>,
}

/// One peer as a BIRD BGP protocol.
#[derive(Serialize)]
pub struct Protocol {
    /// Its protocol id.
    pub protocol: String,
    /// Always `BGP`.
    pub bird_protocol: &'static str,
    /// `up` or `down`.
    pub state: &'static str,
    /// `Established` or `Idle`.
    pub bgp_state: &'static str,
    /// The peer's address.
    pub neighbor_address: IpAddr,
    /// The peer's AS.
    pub neighbor_as: u32,
    /// The peer's configured name.
    pub description: String,
    /// Why its last session ended, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Its routes by outcome.
    pub routes: RouteCounts,
}

/// A protocol's route counts.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct RouteCounts {
    /// Paths it sent that rovgate uses.
    pub imported: u64,
    /// Paths it sent that rovgate does not use (RPKI invalid or an import check in
    /// `drop`).
    pub filtered: u64,
}

fn protocol(id: &str, peer: &PeerView, filtered: u64) -> Protocol {
    let up = peer.up;
    Protocol {
        protocol: id.to_string(),
        bird_protocol: "BGP",
        state: if up { "up" } else { "down" },
        bgp_state: if up { "Established" } else { "Idle" },
        neighbor_address: peer.address,
        neighbor_as: peer.asn.0,
        description: peer.name.clone(),
        last_error: peer.last_down.clone(),
        routes: RouteCounts {
            imported: peer.counts.routes.saturating_sub(filtered),
            filtered,
        },
    }
}

async fn protocols(State(api): State<Api>) -> Reply<Answer<ProtocolsBody>> {
    let view = api.rib.load_full();
    let invalid = ask(&api, |reply| RibQuery::Report { reply }).await?;
    let position = positions(&view);
    let mut filtered = vec![0u64; view.peers.len()];
    for path in invalid.paths.iter().filter(|p| p.dropped) {
        if let Some(&i) = position.get(&path.peer) {
            filtered[i] += 1;
        }
    }
    let ids = protocol_ids(&view.peers);
    let protocols = (ids.iter().zip(&view.peers).zip(filtered))
        .map(|((id, peer), n)| (id.clone(), protocol(id, peer, n)))
        .collect();
    Ok(answer(ProtocolsBody { protocols }))
}

/// One peer as `/protocols/short` shows it.
#[derive(Serialize)]
pub struct ShortProtocol {
    /// Always `BGP`.
    pub proto: &'static str,
    /// `up` or `down`.
    pub state: &'static str,
    /// `Established` or `Idle`.
    pub info: &'static str,
}

/// The body of `/protocols/short`.
#[derive(Serialize)]
pub struct ShortBody {
    /// Every peer by protocol id.
    pub protocols: BTreeMap<String, ShortProtocol>,
}

async fn protocols_short(State(api): State<Api>) -> Json<Answer<ShortBody>> {
    let view = api.rib.load();
    let ids = protocol_ids(&view.peers);
    let protocols = (ids.into_iter().zip(&view.peers))
        .map(|(id, peer)| {
            let short = ShortProtocol {
                proto: "BGP",
                state: if peer.up { "up" } else { "down" },
                info: if peer.up { "Established" } else { "Idle" },
            };
            (id, short)
        })
        .collect();
    answer(ShortBody { protocols })
}

/// The position of the peer named by protocol id `id` (404 when none is).
fn peer_by_id(peers: &[PeerView], id: &str) -> Result<usize, (StatusCode, String)> {
    (protocol_ids(peers).iter().position(|p| p == id))
        .ok_or_else(|| (StatusCode::NOT_FOUND, format!("no protocol {id:?}")))
}

/// A path rovgate does not use, as `/routes/filtered` lists it: its communities include
/// the ones rovgate marks it with under its peer's modes (`state`: its RPKI state now).
pub fn filtered_route(
    path: &InvalidPath,
    (id, peer): (&str, &PeerView),
    state: RovState,
    tagging: &Tagging,
) -> Route {
    let marks = decide_all(
        peer.rov,
        &peer.checks,
        (state, path.failed, false),
        tagging,
        None,
    );
    let bgp = bgp(&path.attrs, &marks.large);
    route(path.prefix.to_string(), (id, peer), false, bgp)
}

async fn filtered(State(api): State<Api>, Path(id): Path<String>) -> Reply<Answer<RoutesBody>> {
    let view = api.rib.load_full();
    let i = peer_by_id(&view.peers, &id)?;
    filtered_of(&api, &view, Some(i)).await
}

/// `/routes/table/{table}/filtered`: every peer's paths rovgate does not use (whatever the
/// table's name: rovgate has one).
async fn table_filtered(State(api): State<Api>) -> Reply<Answer<RoutesBody>> {
    let view = api.rib.load_full();
    filtered_of(&api, &view, None).await
}

/// Each peer's position in the view (a removed peer leaves no hole there, so the position
/// is not its id).
fn positions(view: &RibView) -> HashMap<PeerId, usize> {
    (view.peers.iter().enumerate())
        .map(|(i, p)| (p.id, i))
        .collect()
}

/// The paths rovgate does not use, of the peer at position `only` or of every peer.
async fn filtered_of(api: &Api, view: &RibView, only: Option<usize>) -> Reply<Answer<RoutesBody>> {
    let invalid = ask(api, |reply| RibQuery::Report { reply }).await?;
    let vrps = api.vrps.load();
    let (ids, position) = (protocol_ids(&view.peers), positions(view));
    let routes = (invalid.paths.iter())
        .filter(|p| p.dropped)
        .filter_map(|p| {
            let i = *position.get(&p.peer)?;
            let peer = view.peers.get(i).filter(|_| only.is_none_or(|o| o == i))?;
            let state = match p.rpki_invalid {
                true => RovState::Invalid,
                false => (vrps.table.validate(&p.prefix, p.attrs.as_path.origin())).state,
            };
            let tagging = &api.identity.tagging;
            Some(filtered_route(p, (&ids[i], peer), state, tagging))
        })
        .collect();
    Ok(answer(RoutesBody { routes }))
}

async fn noexport(State(api): State<Api>, Path(id): Path<String>) -> Reply<Answer<RoutesBody>> {
    let view = api.rib.load_full();
    let i = peer_by_id(&view.peers, &id)?;
    let routes = kept_paths(&api, &view, &view.peers[i]).await?;
    Ok(answer(RoutesBody { routes }))
}

async fn received(State(api): State<Api>, Path(id): Path<String>) -> Reply<Answer<RoutesBody>> {
    let view = api.rib.load_full();
    let i = peer_by_id(&view.peers, &id)?;
    let routes = used_paths(&api, &view, Some(view.peers[i].id)).await?;
    Ok(answer(RoutesBody { routes }))
}

/// `/routes/table/{table}`: every peer's paths rovgate uses (whatever the table's name).
async fn table(State(api): State<Api>) -> Reply<Answer<RoutesBody>> {
    let view = api.rib.load_full();
    let routes = used_paths(&api, &view, None).await?;
    Ok(answer(RoutesBody { routes }))
}

async fn prefix(State(api): State<Api>, Query(q): Query<PrefixQuery>) -> Reply<Answer<RoutesBody>> {
    let (query, found, paths) = lookup(&api, &q.prefix).await?;
    let view = api.rib.load_full();
    let ids = protocol_ids(&view.peers);
    let network = found.unwrap_or(query).to_string();
    let routes = (paths.iter())
        .filter_map(|p| {
            let i = view.peers.iter().position(|v| v.name == p.peer)?;
            let tags = p.attrs.tags.as_deref();
            let added = tags.map_or(&[][..], |t| &t.large[..]);
            let bgp = bgp(p.attrs.received(), added);
            Some(route(
                network.clone(),
                (&ids[i], &view.peers[i]),
                p.best,
                bgp,
            ))
        })
        .collect();
    Ok(answer(RoutesBody { routes }))
}

#[cfg(test)]
#[path = "birdwatcher_tests.rs"]
mod tests;
