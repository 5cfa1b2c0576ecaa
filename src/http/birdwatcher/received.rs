//! `/routes/protocol/{id}` and `/routes/table/{table}`: the paths rovgate uses, of one peer
//! or of every peer, as Alice-LG's neighbour page and routes store read them; and
//! `/routes/noexport/{id}`: the paths a peer's export leaves out because their action
//! communities keep them from it, of the families its session carries.
//!
//! Where it sits: listing them takes every member path of the table, which only the RIB
//! can read (`RibQuery::Table`, the walk BMP export starts from). So that Alice-LG asking
//! for each neighbour in turn does not make the RIB walk the table each time, the walk is
//! kept and shared for [`MAX_AGE`]; a route is at most that old in these lists.

use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::json::{bgp, route, Route};
use super::{positions, protocol_ids};
use crate::http::report::ask;
use crate::http::Api;
use crate::rib::{Path, PeerView, RibQuery, RibView, TableChanges};
use crate::route::{Family, PeerId};

/// How long one walk of the table answers these lists.
pub const MAX_AGE: Duration = Duration::from_secs(5);

/// The last walk of the table and when it was taken.
#[derive(Debug, Default)]
pub struct TableCache(Mutex<Option<(Instant, Arc<TableChanges>)>>);

impl TableCache {
    /// Every member path, at most [`MAX_AGE`] old (one walk for the readers in that time).
    async fn get(&self, api: &Api) -> Result<Arc<TableChanges>, (axum::http::StatusCode, String)> {
        let mut last = self.0.lock().await;
        if let Some((_, table)) = last.as_ref().filter(|(at, _)| at.elapsed() < MAX_AGE) {
            return Ok(table.clone());
        }
        let table = Arc::new(ask(api, |reply| RibQuery::Table { reply }).await?);
        *last = Some((Instant::now(), table.clone()));
        Ok(table)
    }
}

/// The paths rovgate may select (eligible), of the peer `only` or of every peer; `primary`
/// for the best of each prefix.
pub async fn used_paths(
    api: &Api,
    view: &RibView,
    only: Option<PeerId>,
) -> Result<Vec<Route>, (axum::http::StatusCode, String)> {
    let pick = |_: &IpNet, paths: &[Path]| -> Vec<Path> {
        let used = paths.iter().filter(|p| p.eligible);
        used.filter(|p| only.is_none_or(|o| o == p.peer))
            .cloned()
            .collect()
    };
    listed(api, view, pick).await
}

/// BIRD's "noexport" for peer `to`: of each prefix, the path the RIB would send it (the
/// best eligible path of another peer) when the path's action communities keep it from
/// `to` (`rs:0:peer`, `rs:0:0` without `rs:1:peer`). The peer's own paths are not listed:
/// a route server never sends a path back to its peer, by design and not by a filter. What
/// `to` gets instead (a next-best path) is in the table as usual.
pub async fn kept_paths(
    api: &Api,
    view: &RibView,
    to: &PeerView,
) -> Result<Vec<Route>, (axum::http::StatusCode, String)> {
    let pick = |prefix: &IpNet, paths: &[Path]| kept_path(prefix, paths, to).into_iter().collect();
    listed(api, view, pick).await
}

/// Of `prefix`'s paths, the one the RIB would send `to` when its action communities keep
/// it from `to`; none when they do not, or when `to`'s session does not carry the prefix's
/// family (nothing of it would be sent, so nothing is kept).
pub(super) fn kept_path(prefix: &IpNet, paths: &[Path], to: &PeerView) -> Option<Path> {
    if !to.families.contains(&Family::of(prefix)) {
        return None;
    }
    let mut others = paths.iter().filter(|p| p.eligible && p.peer != to.id);
    let first = others.next().filter(|p| !p.attrs.announced_to(to.asn));
    first.cloned()
}

/// The paths `pick` takes of each prefix of the shared walk, as birdwatcher lists them;
/// `primary` for the best of each prefix.
async fn listed(
    api: &Api,
    view: &RibView,
    pick: impl Fn(&IpNet, &[Path]) -> Vec<Path>,
) -> Result<Vec<Route>, (axum::http::StatusCode, String)> {
    let table = api.birdwatcher_table.get(api).await?;
    let (views, ids, position) = (&view.peers, protocol_ids(&view.peers), positions(view));
    let mut routes = Vec::new();
    for (prefix, paths) in &table.prefixes {
        let best = paths.iter().find(|p| p.eligible).map(|p| p.peer);
        for p in pick(prefix, paths) {
            let Some(&i) = position.get(&p.peer) else {
                continue;
            };
            let tags = p.attrs.tags.as_deref();
            let added = tags.map_or(&[][..], |t| &t.large[..]);
            let bgp = bgp(p.attrs.received(), added);
            let primary = best == Some(p.peer);
            routes.push(route(
                prefix.to_string(),
                (&ids[i], &views[i]),
                primary,
                bgp,
            ));
        }
    }
    Ok(routes)
}
