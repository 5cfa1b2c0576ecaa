//! What-if reports: what switching invalid-drop on would do, per peer — which routes would be
//! dropped, why each is RPKI-invalid, what the peer can fix, and which destinations would
//! become unreachable — and the same per reason for every import check (`reasons.rs`: each
//! route carries its Euro-IX reason codes, each peer a summary per reason).
//!
//! Where it sits: a reader at the end of the data flow; it never touches routing state. Its
//! input is per-peer counts and the routes that are RPKI-invalid or fail an import check
//! ([`PeerInput`], [`InvalidInput`]), taken
//! from a RIB view (`GET /api/v1/report`) or from an MRT file (`offline.rs`, `rovgate report
//! --mrt`), and a VRP table (a snapshot's, or a file's). [`build`] explains each invalid route
//! with [`VrpTable::validate`] (`explain.rs`) into a [`Report`]; [`render`] prints it as a
//! table, JSON or CSV (`render.rs`); the HTTP API hands it out in pages and `client.rs`
//! fetches a running rovgate's report page by page and puts it together again
//! (`paging.rs`); `cli.rs` is `rovgate report`.

mod cli;
mod client;
mod explain;
mod offline;
mod paging;
mod reasons;
mod render;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::feed::MrtError;
use crate::policy::{Check, Failed};
use crate::route::{Asn, RovState};
use crate::rpki::file::FileError;
use crate::rpki::{Vrp, VrpTable};

pub use cli::{run_cli, ReportArgs};
pub use client::fetch;
pub use explain::Reason;
pub use offline::{from_mrt, inputs, peer_name};
pub use paging::{ReportPage, DEFAULT_PAGE, MAX_PAGE};
pub use reasons::{ReasonCode, ReasonSummary, RPKI_INVALID};
pub use render::{render, Format, CSV_HEADER};

/// Why a report could not be made or fetched.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The MRT file cannot be read.
    #[error(transparent)]
    Mrt(#[from] MrtError),
    /// The VRP file cannot be used.
    #[error(transparent)]
    Vrps(#[from] FileError),
    /// Neither `--url` nor `--mrt` with `--vrps` was given.
    #[error("give --url http://HOST:PORT, or --mrt FILE and --vrps FILE")]
    NoSource,
    /// `--peer` names no peer.
    #[error("no peer named {name:?}{}", known_list(known))]
    UnknownPeer {
        /// The name asked for.
        name: String,
        /// The peers there are, where known.
        known: Vec<String>,
    },
    /// The HTTP request failed (connection, or an error status).
    #[error("GET {error}")]
    Fetch {
        /// The endpoint.
        url: String,
        /// Why (ureq's message names the URL).
        error: Box<ureq::Error>,
    },
    /// The answer could not be read.
    #[error("reading the answer of {url}: {error}")]
    Read {
        /// The endpoint.
        url: String,
        /// Why.
        error: std::io::Error,
    },
    /// The answer is not a report.
    #[error("the answer of {url} is not a report: {error}")]
    Json {
        /// The endpoint.
        url: String,
        /// Why.
        error: serde_json::Error,
    },
    /// rovgate built a newer report while the pages of one were read, every attempt.
    #[error(
        "{url} built a newer report while its pages were read, {} times in a row; try again",
        client::ATTEMPTS
    )]
    Replaced {
        /// The endpoint.
        url: String,
    },
    /// The pages do not fit together: other peers, or no routes where more were due.
    #[error("the pages of {url} do not fit together")]
    Pages {
        /// The endpoint.
        url: String,
    },
}

impl ReportError {
    /// Whether the user's input is at fault: an MRT or VRP file that cannot be used
    /// (`rovgate report` exits 2, as for a bad config).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Self::Mrt(_) | Self::Vrps(_))
    }
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!("; the peers are: {}", known.join(", "))
    }
}

/// Route counts of one peer, as the RIB (or an MRT file) has them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInput {
    /// The peer's name (the config's `name`; for an MRT file see [`peer_name`]).
    pub name: String,
    /// RPKI-valid routes.
    pub valid: u64,
    /// RPKI-invalid routes, dropped or not.
    pub invalid: u64,
    /// RPKI-not-found routes.
    pub not_found: u64,
    /// Invalid routes filtered now (the peer is at `rov = drop`).
    pub dropped: u64,
}

/// One route that is RPKI-invalid or fails an import check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidInput {
    /// The peer it came from: an index into the peers slice given to [`build`].
    pub peer: usize,
    /// The route's prefix.
    pub prefix: IpNet,
    /// Its origin AS; `None`: the AS path ends in an AS_SET.
    pub origin: Option<Asn>,
    /// The AS path as `route::AsPath` displays it, e.g. `64496 65001 {1 2}`.
    pub as_path: String,
    /// RPKI-invalid (as the RIB, or the MRT file's check, found it).
    pub rpki_invalid: bool,
    /// The import checks it fails (none for an MRT file).
    pub failed: Failed,
    /// Filtered now (by ROV at `rov = drop`, or by a check in `drop`).
    pub dropped: bool,
    /// Why ASPA verification finds it Invalid, when it fails that check.
    pub aspa: Option<String>,
    /// The destination stays reachable if this route is dropped: some peer has a route that
    /// would not be dropped (not invalid, no failed check) for the prefix or for a
    /// less-specific prefix covering it.
    pub reachable: bool,
}

/// The counts of one peer, or of every reported peer (in [`Report::totals`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Routes: valid + invalid + not-found.
    pub routes: u64,
    /// RPKI-valid routes.
    pub valid: u64,
    /// RPKI-invalid routes, dropped now or not.
    pub invalid: u64,
    /// RPKI-not-found routes.
    pub not_found: u64,
    /// Invalid routes that switching drop on would drop: invalid − dropped.
    pub would_drop: u64,
    /// Invalid routes dropped now.
    pub dropped: u64,
    /// Destinations (distinct prefixes) that switching drop on would make unreachable: those
    /// of the invalid routes not dropped yet whose destination is not reachable otherwise.
    pub unreachable: u64,
}

/// A what-if report. The same input gives the same report, in the same order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// How many VRPs the routes were explained with.
    pub vrps: u64,
    /// The peer the report was limited to (`--peer`, `?peer=`), if any.
    pub peer: Option<String>,
    /// The counts summed over the reported peers (`unreachable`: distinct prefixes).
    pub totals: Totals,
    /// The reported peers, sorted by name.
    pub peers: Vec<PeerReport>,
}

/// The counts over every reported peer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// The counts.
    #[serde(flatten)]
    pub counts: Counts,
    /// "N routes would be dropped, M destinations would become unreachable".
    pub summary: String,
    /// Per reason, over the reported peers (`unreachable`: distinct prefixes), by code.
    #[serde(default)]
    pub reasons: Vec<ReasonSummary>,
}

/// One peer's part of a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerReport {
    /// The peer's name.
    pub name: String,
    /// Its counts.
    #[serde(flatten)]
    pub counts: Counts,
    /// "N routes would be dropped, M destinations would become unreachable".
    pub summary: String,
    /// Per reason (RPKI invalid and each import check), what switching it to `drop` would
    /// do and what the member can do, by code.
    #[serde(default)]
    pub reasons: Vec<ReasonSummary>,
    /// Its routes that are RPKI-invalid or fail an import check, sorted by prefix, then
    /// origin (an AS_SET first), then AS path.
    pub invalid_routes: Vec<InvalidRoute>,
}

/// One listed route, explained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidRoute {
    /// The route's prefix.
    pub prefix: IpNet,
    /// Its origin AS; `null`: the AS path ends in an AS_SET.
    pub origin: Option<Asn>,
    /// The AS path, e.g. `64496 65001 {1 2}`.
    pub as_path: String,
    /// Its RFC 6811 state under the report's VRPs: `invalid` for a route listed as RPKI
    /// invalid (anything else means the RIB has not re-evaluated the route yet, and
    /// `reason` is `not-invalid`); a route listed for its import checks alone is what it is.
    pub state: RovState,
    /// Why it is RPKI-invalid (`not-invalid`: it is not).
    pub reason: Reason,
    /// Why it is listed: RPKI invalid (13) and each import check it fails, by code.
    #[serde(default)]
    pub reasons: Vec<ReasonCode>,
    /// The VRPs covering the prefix, sorted.
    pub vrps: Vec<Vrp>,
    /// The destination stays reachable if this route is dropped.
    pub reachable: bool,
    /// Dropped now.
    pub dropped: bool,
    /// Why ASPA verification finds it Invalid ("AS X has an ASPA that does not list AS Y
    /// as a provider"), when it fails that check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aspa: Option<String>,
    /// A fix the peer can act on, in words: the RPKI fix, then each failed check's.
    pub suggestion: String,
    /// The ROA that would make the route valid: its prefix, its length as maxLength, its
    /// origin (none for an AS_SET or AS0 origin).
    pub suggested_roa: Option<Vrp>,
    /// For `max-length`: the ROA whose maxLength, raised to the route's length, would make
    /// the route valid (the most specific covering ROA of the origin AS).
    pub raise_roa: Option<Vrp>,
}

/// Builds the report of `peers` (all, or only the one named `only_peer`), explaining each of
/// `invalid`'s routes with `vrps`. Routes whose `peer` is out of range are left out.
pub fn build(
    peers: &[PeerInput],
    invalid: &[InvalidInput],
    vrps: &VrpTable,
    only_peer: Option<&str>,
) -> Report {
    let wanted: Vec<bool> = (peers.iter())
        .map(|p| only_peer.is_none_or(|n| p.name == n))
        .collect();
    let mut routes: Vec<Vec<InvalidRoute>> = vec![Vec::new(); peers.len()];
    for input in invalid {
        if wanted.get(input.peer) == Some(&true) {
            routes[input.peer].push(explain_route(input, vrps));
        }
    }
    let mut reports: Vec<PeerReport> = (peers.iter().zip(routes))
        .zip(&wanted)
        .filter(|(_, &w)| w)
        .map(|((peer, routes), _)| peer_report(peer, routes))
        .collect();
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    Report {
        vrps: vrps.len() as u64,
        peer: only_peer.map(str::to_string),
        totals: totals(&reports),
        peers: reports,
    }
}

/// "N routes would be dropped, M destinations would become unreachable".
pub fn summary(counts: &Counts) -> String {
    sentence(counts.would_drop, counts.unreachable)
}

fn sentence(would_drop: u64, unreachable: u64) -> String {
    format!(
        "{would_drop} routes would be dropped, {unreachable} destinations would become unreachable"
    )
}

fn explain_route(input: &InvalidInput, vrps: &VrpTable) -> InvalidRoute {
    let verdict = vrps.validate(&input.prefix, input.origin);
    let explained = explain::explain(&input.prefix, input.origin, &verdict);
    let reasons = reasons::codes(input.rpki_invalid, input.failed);
    let rpki_fix = (input.rpki_invalid).then_some(explained.suggestion);
    let advice = |c: Check| match (c, &input.aspa) {
        (Check::Aspa, Some(why)) => format!("{why}: {}", c.advice()),
        _ => c.advice().to_string(),
    };
    let fixes: Vec<String> = (rpki_fix.into_iter())
        .chain(input.failed.iter().map(advice))
        .collect();
    let mut covering = verdict.matched;
    covering.extend(verdict.bad_asn);
    covering.extend(verdict.bad_length);
    covering.sort();
    InvalidRoute {
        prefix: input.prefix,
        origin: input.origin,
        as_path: input.as_path.clone(),
        state: verdict.state,
        reason: explained.reason,
        reasons,
        vrps: covering,
        reachable: input.reachable,
        dropped: input.dropped,
        aspa: input.aspa.clone(),
        suggestion: fixes.join("; "),
        suggested_roa: explained.suggested_roa,
        raise_roa: explained.raise_roa,
    }
}

fn peer_report(peer: &PeerInput, mut routes: Vec<InvalidRoute>) -> PeerReport {
    routes.sort_by(|a, b| {
        let key = |r: &InvalidRoute| (r.prefix, r.origin, r.dropped, r.reachable);
        key(a).cmp(&key(b)).then_with(|| a.as_path.cmp(&b.as_path))
    });
    let reasons = reasons::summaries(&routes);
    let counts = Counts {
        routes: peer.valid + peer.invalid + peer.not_found,
        valid: peer.valid,
        invalid: peer.invalid,
        not_found: peer.not_found,
        would_drop: peer.invalid.saturating_sub(peer.dropped),
        dropped: peer.dropped,
        unreachable: reasons::rpki_unreachable(&reasons),
    };
    PeerReport {
        name: peer.name.clone(),
        counts,
        summary: summary(&counts),
        reasons,
        invalid_routes: routes,
    }
}

fn totals<'a>(peers: impl IntoIterator<Item = &'a PeerReport> + Clone) -> Totals {
    let mut counts = Counts::default();
    for peer in peers.clone() {
        let c = &peer.counts;
        counts.routes += c.routes;
        counts.valid += c.valid;
        counts.invalid += c.invalid;
        counts.not_found += c.not_found;
        counts.would_drop += c.would_drop;
        counts.dropped += c.dropped;
    }
    let reasons = reasons::summaries(peers.into_iter().flat_map(|p| &p.invalid_routes));
    counts.unreachable = reasons::rpki_unreachable(&reasons);
    Totals {
        summary: summary(&counts),
        counts,
        reasons,
    }
}

#[cfg(test)]
mod paging_tests;
#[cfg(test)]
mod reasons_tests;
#[cfg(test)]
mod tests;
