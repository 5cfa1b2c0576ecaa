//! What the RIB shows outside: per-peer ROV counts, the mass-invalidation hold, and
//! [`RovChange`] events.
//!
//! Where it sits: the RIB task keeps [`Counts`] up to date with every path it stores,
//! removes or re-evaluates, and publishes a [`RibView`] through an `ArcSwap` after each batch
//! it changed; HTTP reads it without waiting on the RIB. Every verdict change is sent as a
//! [`RovChange`] on a broadcast channel, a batch's changes together as [`RovChanges`]
//! (reports and metrics subscribe).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use ipnet::IpNet;
use serde::Serialize;

use super::best::Path;
use super::timings::Timings;
use crate::policy::{Check, CheckModes, RovMode};
use crate::route::abuse::PeerAbuse;
use crate::route::{Asn, Family, PeerId, RovState, SessionUp};
use crate::rpki::status::unix_seconds;
use crate::rpki::Vrp;

/// The verdict changes of one RIB batch, as the RIB broadcasts them.
#[derive(Clone, Debug)]
pub struct RovChanges {
    /// The number of the first of them: the RIB numbers every change it broadcasts from
    /// 0, so a subscriber that fell behind knows how many it missed.
    pub first: u64,
    /// The changes, in order.
    pub changes: Arc<[RovChange]>,
}

/// One route's verdict changed on re-evaluation (RFC 9324).
#[derive(Clone, Debug, Serialize)]
pub struct RovChange {
    /// When it changed (Unix seconds in JSON).
    #[serde(serialize_with = "unix_seconds")]
    pub time: Option<SystemTime>,
    /// The peer the route came from.
    pub peer: PeerId,
    /// The route's prefix.
    pub prefix: IpNet,
    /// Its origin AS (`None`: the path ends in an AS_SET).
    pub origin: Option<Asn>,
    /// The state before.
    pub before: RovState,
    /// The state now.
    pub after: RovState,
    /// The VRPs covering the prefix now (why it is what it is).
    pub vrps: Vec<Vrp>,
}

/// Per-peer counts of stored paths by ROV state and outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RovCounts {
    /// Paths stored (Adj-RIB-In), whatever policy did with them.
    pub routes: u64,
    /// RPKI valid.
    pub valid: u64,
    /// RPKI invalid.
    pub invalid: u64,
    /// RPKI not-found.
    pub not_found: u64,
    /// Invalid paths dropped (kept, not eligible).
    pub dropped: u64,
    /// Invalid paths a held mass invalidation keeps eligible.
    pub held: u64,
    /// Paths kept as stale (graceful restart, route refresh) until the peer re-sends them.
    pub stale: u64,
    /// Paths by import check failed (of the checks the peer's modes run).
    pub failed: ReasonCounts,
}

/// Path counts by the import check they fail, indexed by the check's Euro-IX code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReasonCounts([u64; Check::Aspa as usize + 1]);

impl ReasonCounts {
    /// How many paths fail `check`.
    pub fn get(&self, check: Check) -> u64 {
        self.0[check.code() as usize]
    }
}

impl Serialize for ReasonCounts {
    /// As a map from check name to count, every check listed.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(Check::ALL.into_iter().map(|c| (c.name(), self.get(c))))
    }
}

impl RovCounts {
    /// Adds (`sign` 1) or removes (`sign` -1) one path.
    pub fn count(&mut self, path: &Path, sign: i64) {
        let add = |n: &mut u64| *n = n.saturating_add_signed(sign);
        add(&mut self.routes);
        add(match path.state {
            RovState::Valid => &mut self.valid,
            RovState::Invalid => &mut self.invalid,
            RovState::NotFound => &mut self.not_found,
        });
        if !path.eligible && path.state == RovState::Invalid {
            add(&mut self.dropped);
        }
        if path.held {
            add(&mut self.held);
        }
        if path.stale {
            add(&mut self.stale);
        }
        for check in path.failed.iter() {
            add(&mut self.failed.0[check.code() as usize]);
        }
    }
}

/// One peer as the view shows it.
#[derive(Clone, Debug, Serialize)]
pub struct PeerView {
    /// Its id in the RIB (never given to another peer, even after it is removed).
    #[serde(skip)]
    pub id: PeerId,
    /// The configured name.
    pub name: String,
    /// The peer's address.
    pub address: IpAddr,
    /// The peer's AS.
    pub asn: Asn,
    /// A BMP-monitored router's neighbour, not a member.
    #[serde(skip)]
    pub monitored: bool,
    /// The ROV mode in force for its routes.
    pub rov: RovMode,
    /// The mode of each import check in force for its routes.
    pub checks: CheckModes,
    /// Whether its session is established.
    pub up: bool,
    /// The families its established session carries (none while it is down).
    #[serde(skip)]
    pub families: Arc<[Family]>,
    /// Prefixes still to be sent to it (its writer pulls them as its socket takes them).
    pub pending: usize,
    /// Why its last session ended (`None`: none has yet).
    pub last_down: Option<String>,
    /// Its last established session's OPENs and ends (`None`: none has been).
    #[serde(skip)]
    pub session: Option<Arc<SessionUp>>,
    /// Its paths by state.
    #[serde(flatten)]
    pub counts: RovCounts,
    /// Invalid paths that pass now and that `drop` would filter (the what-if number).
    pub would_drop: u64,
    /// Malformed UPDATEs by RFC 7606 outcome and NOTIFICATIONs each way, since the start.
    pub abuse: Arc<PeerAbuse>,
}

/// A VRP update held back as a mass invalidation.
#[derive(Clone, Debug, Serialize)]
pub struct HoldView {
    /// When it was held (Unix seconds).
    #[serde(serialize_with = "unix_seconds")]
    pub since: Option<SystemTime>,
    /// The VRP snapshot serial that caused it.
    pub serial: u64,
    /// Routes it would newly drop.
    pub routes: usize,
    /// Peers whose routes it would newly drop.
    pub peers: usize,
    /// When it is applied without an operator (Unix seconds); `None`: only on accept.
    #[serde(serialize_with = "unix_seconds")]
    pub until: Option<SystemTime>,
}

/// Re-evaluation progress.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReevaluationView {
    /// VRP snapshot serial the routes were last fully re-evaluated against.
    pub serial: u64,
    /// Changed VRP prefixes still waiting to be walked.
    pub pending: usize,
    /// Passes completed.
    pub passes: u64,
    /// How long the last pass took, from the snapshot to its last export queued (ms).
    pub last_ms: Option<f64>,
    /// Verdict changes so far (RovChange events).
    pub changes: u64,
}

/// What the RIB publishes after each batch that changed something.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RibView {
    /// Every configured peer, in config order (peers added at run time last).
    pub peers: Vec<PeerView>,
    /// A VRP update held as a mass invalidation, waiting for accept or its hold time.
    pub held_update: Option<HoldView>,
    /// Re-evaluation on VRP change.
    pub reevaluation: ReevaluationView,
    /// While the update delay lasts: how many configured peers it still waits for.
    pub update_delay: Option<usize>,
    /// Routes of peers in `drop` are not exported until the first complete VRP set is in.
    pub waiting_for_vrps: bool,
    /// The route table's generation: it moves whenever a stored path changes, so a report
    /// built at the same generation (and VRP serial) is still current.
    pub generation: u64,
    /// How long UPDATEs and re-evaluation passes took (for `/metrics`, not the JSON API).
    #[serde(skip)]
    pub timings: Timings,
}

/// The published [`RibView`]; cheap to clone, readers never block.
pub type SharedView = Arc<ArcSwap<RibView>>;
