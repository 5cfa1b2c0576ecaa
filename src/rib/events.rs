//! What the RIB task reads: events from sessions and operators, queries from readers.
//!
//! Where it sits: sessions, the HTTP API and the daemon send these; `rib/mod.rs` runs the
//! task that takes them.

use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use tokio::sync::{mpsc, oneshot};

use super::export::Outgoing;
use super::monitor::TableChanges;
use super::snapshot::{InvalidPaths, PathView};
use crate::policy::{CheckModes, Filters, RovMode, Tagging};
use crate::rib::{MassInvalidation, PeerInfo, RovStates};
use crate::route::{Family, PathNlri, PeerId, SessionUp, Update};
use crate::rpki::VrpsChanged;

/// What sessions tell the RIB.
#[derive(Debug)]
pub enum RibEvent {
    /// A session reached Established: export the table to it, then End-of-RIB per family.
    /// Its writer pulls exports from `out` and wakes the RIB ([`Rib::writable`](super::Rib::writable)) each time
    /// it takes a chunk.
    /// It is sent every path of the families in `add_path` (RFC 7911 ADD-PATH, negotiated
    /// per family), the best path of the others.
    PeerUp {
        peer: PeerId,
        families: Vec<Family>,
        add_path: Vec<Family>,
        out: mpsc::Sender<Outgoing>,
        /// Its OPENs and ends, for BMP export's Peer Up.
        session: Arc<SessionUp>,
    },
    /// A session went down. With `restart`, the peer's paths are kept as stale for that long
    /// (graceful restart helper); otherwise they are withdrawn now.
    PeerDown {
        peer: PeerId,
        restart: Option<Duration>,
        /// Why, for the status.
        reason: String,
    },
    /// A decoded UPDATE (a BMP-monitored neighbour's): the RIB looks up its prefixes' RPKI
    /// states.
    Update { peer: PeerId, update: Update },
    /// A decoded UPDATE with its prefixes' RPKI states, looked up by its session.
    ValidatedUpdate {
        peer: PeerId,
        update: Update,
        states: RovStates,
    },
    /// A decoded UPDATE whose prefixes carry ADD-PATH path identifiers (a BMP-monitored
    /// neighbour's): each path id of a prefix is a path of its own.
    PathUpdate {
        peer: PeerId,
        update: Update<PathNlri>,
    },
    /// The peer asked for our routes again (ROUTE-REFRESH).
    Refresh { peer: PeerId, family: Family },
    /// The peer starts re-sending a family (enhanced route refresh BoRR): set its paths
    /// stale until `EndOfResend`.
    BeginResend { peer: PeerId, family: Family },
    /// The peer finished re-sending a family (EoRR or End-of-RIB): drop paths still stale.
    EndOfResend { peer: PeerId, family: Family },
    /// An operator changed the peer's ROV mode (HTTP or config reload): its stored routes
    /// are re-evaluated; the session stays up.
    SetPolicy { peer: PeerId, rov: RovMode },
    /// An operator changed a peer's import checks (modes, or the data they check against:
    /// next hops, bounds, AS-SET): its stored paths are checked again.
    SetChecks {
        peer: PeerId,
        checks: CheckModes,
        filters: Arc<Filters>,
    },
    /// The `[rov]` settings changed (config reload): every path is tagged anew.
    SetRovConfig {
        tagging: Tagging,
        mass: MassInvalidation,
    },
    /// A peer was configured at run time (config reload, a BMP-monitored neighbour): the
    /// reply is its id, never one another peer had. It is down until its `PeerUp`.
    AddPeer {
        info: PeerInfo,
        reply: oneshot::Sender<PeerId>,
    },
    /// A peer was deconfigured: its paths are withdrawn from everyone (as a `PeerDown`
    /// without graceful restart), its session's exports end, and it leaves the view. Events
    /// that still name it are ignored.
    RemovePeer { peer: PeerId },
    /// An operator accepts a VRP update held as a mass invalidation; the reply says
    /// whether one was held.
    AcceptVrps { reply: oneshot::Sender<bool> },
}

impl RibEvent {
    /// The peer the event is about, if it is about one that must exist.
    pub(super) fn peer(&self) -> Option<PeerId> {
        match self {
            RibEvent::PeerUp { peer, .. }
            | RibEvent::PeerDown { peer, .. }
            | RibEvent::Update { peer, .. }
            | RibEvent::ValidatedUpdate { peer, .. }
            | RibEvent::PathUpdate { peer, .. }
            | RibEvent::Refresh { peer, .. }
            | RibEvent::BeginResend { peer, .. }
            | RibEvent::EndOfResend { peer, .. }
            | RibEvent::SetPolicy { peer, .. }
            | RibEvent::SetChecks { peer, .. }
            | RibEvent::RemovePeer { peer } => Some(*peer),
            RibEvent::SetRovConfig { .. }
            | RibEvent::AddPeer { .. }
            | RibEvent::AcceptVrps { .. } => None,
        }
    }
}

/// What readers ask the RIB, on a channel of their own, answered between batches.
#[derive(Debug)]
pub enum RibQuery {
    /// The what-if report asks for every RPKI-invalid path (at most a second old), with
    /// the table generation they were collected at.
    Report {
        reply: oneshot::Sender<InvalidPaths>,
    },
    /// The looking glass asks for the paths of a prefix (or of the longest prefix covering
    /// it; the reply names the prefix found).
    Lookup {
        prefix: IpNet,
        reply: oneshot::Sender<(Option<IpNet>, Vec<PathView>)>,
    },
    /// BMP export asks for every member path, to start from (`monitor.rs`).
    Table {
        reply: oneshot::Sender<TableChanges>,
    },
}

/// Queries waiting for the RIB.
pub const QUERY_QUEUE: usize = 64;

/// What the RIB task reads.
pub struct RibInputs {
    /// Events from sessions and operators.
    pub events: mpsc::Receiver<RibEvent>,
    /// Queries from readers.
    pub queries: mpsc::Receiver<RibQuery>,
    /// VRP changes from the rpki task.
    pub vrps_changed: mpsc::Receiver<VrpsChanged>,
}
