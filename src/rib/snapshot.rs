//! What the RIB hands out on request: its paths that are RPKI-invalid or fail an import
//! check, with their reachability (the what-if report's input), and every path of one
//! prefix with its RPKI state and failed checks (the looking glass).
//!
//! Where it sits: HTTP sends a [`RibQuery`] with a reply channel on the RIB's query
//! channel (not the UPDATE queue); the RIB task answers with an owned snapshot between
//! batches, so HTTP never holds anything of the RIB and the RIB does this work only when
//! someone asks. While UPDATEs are waiting, the invalid paths are collected at most once a
//! second (a page reloaded ten times a second during a full-table load costs one walk of
//! the table a second); when the RIB is idle, every report is fresh. Paths collected at the
//! table's current generation are handed out again without a walk.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use serde::Serialize;

use super::table::Top2;
use super::{Path, Rib, RibQuery};
use crate::policy::{verify, Check, Failed};
use crate::route::{Asn, Attrs, Family, PeerId, RovState};
use crate::rpki::AspaTable;

/// One path that is RPKI-invalid or fails an import check, for the what-if report.
#[derive(Clone, Debug)]
pub struct InvalidPath {
    /// The peer it came from.
    pub peer: PeerId,
    /// Its prefix.
    pub prefix: IpNet,
    /// Its attributes as received.
    pub attrs: Attrs,
    /// RPKI-invalid, as the RIB last validated it.
    pub rpki_invalid: bool,
    /// The import checks it fails that count (of those its peer runs; a valid ROA stands
    /// in for a missing route object where the peer's filters say so).
    pub failed: Failed,
    /// Filtered now (by ROV or by a check in `drop`).
    pub dropped: bool,
    /// Why ASPA verification finds it Invalid, when it fails that check.
    pub aspa: Option<String>,
    /// Were it dropped, the destination would stay reachable: another peer has a path for
    /// the prefix that would not be dropped (neither invalid nor failing a check), or a
    /// covering less-specific prefix has one.
    pub reachable: bool,
}

/// Every path the report lists, prefix order, as collected at one table generation.
#[derive(Clone, Debug)]
pub struct InvalidPaths {
    /// The table's generation when they were collected (`RibView::generation`).
    pub generation: u64,
    /// The paths, shared by every report built from them.
    pub paths: Arc<Vec<InvalidPath>>,
}

/// One path of a prefix, as the looking glass shows it.
#[derive(Clone, Debug, Serialize)]
pub struct PathView {
    /// The peer's name.
    pub peer: String,
    /// The AS path.
    pub as_path: String,
    /// The origin AS (`None`: the path ends in an AS_SET).
    pub origin: Option<Asn>,
    /// The next hop.
    pub next_hop: IpAddr,
    /// MULTI_EXIT_DISC.
    pub med: Option<u32>,
    /// The RPKI state it was last validated to.
    #[serde(rename = "rov")]
    pub state: RovState,
    /// May be selected and exported (false: dropped as invalid).
    pub eligible: bool,
    /// The best path, exported to every other peer.
    pub best: bool,
    /// Kept from a restarting peer.
    pub stale: bool,
    /// Kept eligible by a held mass invalidation.
    pub held: bool,
    /// The import checks it fails that count, by code (empty: none, or none run).
    pub failed_checks: Vec<FailedCheck>,
    /// Why ASPA verification finds it Invalid ("AS X has an ASPA that does not list AS Y
    /// as a provider"), when it fails that check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aspa: Option<String>,
    /// Large communities rovgate added (tag, filtered reason).
    pub added_large_communities: Vec<String>,
    /// The attributes as stored, rovgate's tags included (for the birdwatcher API's
    /// communities; not in this JSON).
    #[serde(skip)]
    pub attrs: Attrs,
}

/// One import check a path fails: its Euro-IX filtered-reason code (`rs_asn:1101:code`)
/// and its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FailedCheck {
    /// The code N of `rs_asn:1101:N`.
    pub code: u32,
    /// The check's name, e.g. `bogon_prefix`.
    pub name: &'static str,
}

/// How old the invalid paths handed to a report may be.
const REPORT_MAX_AGE: Duration = Duration::from_secs(1);

impl Rib {
    /// Answers a query (`busy`: UPDATEs are waiting); a requester that went away (closed
    /// HTTP request) needs no answer.
    pub fn answer(&mut self, query: RibQuery, busy: bool) {
        match query {
            RibQuery::Report { reply } => drop(reply.send(self.report(busy))),
            RibQuery::Lookup { prefix, reply } => drop(reply.send(self.lookup(prefix))),
            RibQuery::Table { reply } => {
                // The subscriber follows the table from this snapshot on.
                self.note_changes();
                drop(reply.send(self.table_snapshot()));
            }
        }
    }

    /// The listed paths: the last collection when the table has not changed since, or
    /// while busy unless it is too old; else a new one.
    fn report(&mut self, busy: bool) -> InvalidPaths {
        let now = tokio::time::Instant::now();
        let generation = self.table.generation();
        match &self.report {
            Some((_, last)) if last.generation == generation => last.clone(),
            Some((at, last)) if busy && now.duration_since(*at) < REPORT_MAX_AGE => last.clone(),
            _ => {
                let paths = InvalidPaths {
                    generation,
                    paths: Arc::new(self.invalid_paths()),
                };
                self.report = Some((now, paths.clone()));
                paths
            }
        }
    }

    /// Every path in the table that is RPKI-invalid or fails an import check that counts,
    /// prefix order.
    pub(super) fn invalid_paths(&self) -> Vec<InvalidPath> {
        let aspas = &self.vrps.load().aspas;
        let mut out = Vec::new();
        for family in Family::ALL {
            for (prefix, paths) in self.table.iter(family) {
                for path in paths {
                    let (rpki_invalid, failed) = (path.state == RovState::Invalid, path.failed);
                    if !rpki_invalid && failed.is_empty() {
                        continue;
                    }
                    out.push(InvalidPath {
                        peer: path.peer,
                        prefix,
                        attrs: path.attrs.received().clone(),
                        rpki_invalid,
                        failed,
                        // A monitored neighbour's path is not selected, but not dropped.
                        dropped: !path.eligible && !self.peers.info(path.peer).monitored,
                        aspa: self.aspa_reason(aspas, path),
                        reachable: self.reachable_without(prefix, path.peer),
                    });
                }
            }
        }
        out
    }

    /// Why `path` fails ASPA verification against `aspas`, if it does.
    fn aspa_reason(&self, aspas: &AspaTable, path: &Path) -> Option<String> {
        if !path.failed.has(Check::Aspa) {
            return None;
        }
        let filters = &self.peers.info(path.peer).filters;
        let as_path = &path.attrs.received().as_path;
        let verdict = verify(aspas, as_path, filters.asn, filters.aspa);
        verdict.reason.map(|r| r.to_string())
    }

    fn reachable_without(&self, prefix: IpNet, peer: PeerId) -> bool {
        let usable = |p: &Path, same_prefix: bool| {
            p.state != RovState::Invalid && p.failed.is_empty() && !(same_prefix && p.peer == peer)
        };
        (self.table.cover(&prefix).into_iter())
            .any(|(p, paths)| paths.iter().any(|path| usable(path, p == prefix)))
    }

    /// The paths of `prefix`, or when it has none, of the longest prefix covering it (the
    /// prefix a router would forward by); best first.
    pub(super) fn lookup(&self, prefix: IpNet) -> (Option<IpNet>, Vec<PathView>) {
        let Some((found, paths)) = self.table.cover(&prefix).pop() else {
            return (None, Vec::new());
        };
        let top = Top2::of(paths);
        let aspas = &self.vrps.load().aspas;
        let views = paths
            .iter()
            .map(|p| PathView {
                peer: self.peers.name(p.peer).to_string(),
                as_path: p.attrs.as_path.to_string(),
                origin: p.attrs.as_path.origin(),
                next_hop: p.attrs.next_hop.addr(),
                med: p.attrs.med,
                state: p.state,
                eligible: p.eligible,
                best: top.best.as_ref().is_some_and(|b| b.peer == p.peer),
                stale: p.stale,
                held: p.held,
                failed_checks: (p.failed.iter())
                    .map(|c| FailedCheck {
                        code: c.code(),
                        name: c.name(),
                    })
                    .collect(),
                aspa: self.aspa_reason(aspas, p),
                added_large_communities: (p.attrs.tags.iter())
                    .flat_map(|m| m.large.iter().map(|[a, b, c]| format!("{a}:{b}:{c}")))
                    .collect(),
                attrs: p.attrs.clone(),
            })
            .collect();
        (Some(found), views)
    }
}
