//! Pages of a report: the HTTP API hands a report's invalid routes out in pages, and
//! `rovgate report --url` puts the pages together again.
//!
//! Where it sits: between a built [`Report`] and the wire. A page keeps every reported
//! peer with its counts and summary, and holds a slice of the invalid routes taken in
//! report order (peers by name, each peer's routes in order), so pages of one build
//! concatenate, peer by peer, to the whole report.

use serde::{Deserialize, Serialize};

use super::{totals, PeerReport, Report};

/// Invalid routes in a page when the request names no `limit`.
pub const DEFAULT_PAGE: usize = 1_000;
/// Most invalid routes in one page: a larger `limit` is cut to this.
pub const MAX_PAGE: usize = 10_000;

/// One page of a report, as `GET /api/v1/report` answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportPage {
    /// The report, its peers' `invalid_routes` holding only this page's routes.
    #[serde(flatten)]
    pub report: Report,
    /// Invalid routes of the reported peers on all pages together.
    pub total: u64,
    /// Invalid routes before this page, in report order.
    pub offset: u64,
    /// Most invalid routes this page holds (the asked limit, cut to [`MAX_PAGE`]).
    pub limit: u64,
    /// The build the page was taken from: pages with the same id fit together.
    pub id: u64,
    /// When that build was made (Unix seconds).
    pub built: u64,
}

impl Report {
    /// The page of `only_peer` (or of every peer) holding of their invalid routes, in
    /// report order, those from `offset` on, at most `limit`; with how many there are in all.
    pub fn page(&self, only_peer: Option<&str>, offset: usize, limit: usize) -> (Report, usize) {
        let wanted = || (self.peers.iter()).filter(|p| only_peer.is_none_or(|n| p.name == n));
        let (mut skip, mut room, mut total) = (offset, limit, 0);
        let mut peers = Vec::new();
        for peer in wanted() {
            let routes = &peer.invalid_routes;
            total += routes.len();
            let from = skip.min(routes.len());
            let take = room.min(routes.len() - from);
            (skip, room) = (skip - from, room - take);
            peers.push(PeerReport {
                name: peer.name.clone(),
                counts: peer.counts,
                summary: peer.summary.clone(),
                reasons: peer.reasons.clone(),
                invalid_routes: routes[from..from + take].to_vec(),
            });
        }
        let page = Report {
            vrps: self.vrps,
            peer: only_peer.map(str::to_string).or_else(|| self.peer.clone()),
            totals: match only_peer {
                Some(_) => totals(wanted()),
                None => self.totals.clone(),
            },
            peers,
        };
        (page, total)
    }

    /// Adds the next page's invalid routes to this report's, peer by peer; false (and
    /// nothing added) when the page does not list the same peers.
    pub fn append(&mut self, page: Report) -> bool {
        let same = |(a, b): (&PeerReport, &PeerReport)| a.name == b.name;
        if self.peers.len() != page.peers.len() || !self.peers.iter().zip(&page.peers).all(same) {
            return false;
        }
        for (peer, more) in self.peers.iter_mut().zip(page.peers) {
            peer.invalid_routes.extend(more.invalid_routes);
        }
        true
    }
}
