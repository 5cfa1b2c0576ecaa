//! What a session task is given: its peer and itself ([`SessionConfig`]), its ways to the
//! RIB ([`RibLink`]), and what follows from them.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Notify};

use crate::bgp::fsm::FsmConfig;
use crate::bgp::open::LocalSpeaker;
use crate::bgp::sockopt::Security;
use crate::rib::{RibEvent, Validator};
use crate::route::abuse::{PeerAbuse, Refusals};
use crate::route::{Asn, PeerId};

/// A session's ways to the RIB task.
#[derive(Clone)]
pub struct RibLink {
    /// Events (routes, peer up and down).
    pub events: mpsc::Sender<RibEvent>,
    /// What the writer notifies when it took a chunk of exports.
    pub writable: Arc<Notify>,
    /// Looks up the RPKI states of the UPDATEs the session decodes, for the RIB.
    pub validator: Validator,
}

/// What a session needs to know about its peer and itself.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// The peer's index.
    pub peer: PeerId,
    /// The peer's name, for logs.
    pub name: String,
    /// Where to connect (the peer's address and port).
    pub remote: SocketAddr,
    /// The local address to connect from (the listen address of the same family).
    pub local: Option<SocketAddr>,
    /// The peer's AS.
    pub peer_asn: Asn,
    /// Only accept connections.
    pub passive: bool,
    /// rovgate's side of the OPEN.
    pub speaker: LocalSpeaker,
    /// Longest graceful-restart time honoured for this peer.
    pub restart_time_max: u16,
    /// Idle time after the peer exceeded its maximum prefixes.
    pub max_prefixes_idle: Duration,
    /// Send the RFC 8097 extended community on routes rovgate tagged.
    pub rov_ext_community: bool,
    /// A route-server client: its announcement-control and BLACKHOLE communities are acted
    /// on and stripped. From any other peer only GRACEFUL_SHUTDOWN is read, and its
    /// communities pass unchanged (a transit feed's `0:*` are not addressed to rovgate).
    pub rs_client: bool,
    /// RFC 9687 send hold time; `None`: max(8 minutes, 2 x the negotiated hold time).
    pub send_hold_time: Option<Duration>,
    /// What the peer did wrong, counted for the status.
    pub abuse: Arc<PeerAbuse>,
    /// Connections refused (all peers' and strangers').
    pub refusals: Arc<Refusals>,
    /// TCP-MD5 and GTSM.
    pub security: Security,
    /// The first idle hold after the session went down, doubled per fall.
    pub idle_hold: Duration,
    /// The longest idle hold, and how long the session must stay up to reset it.
    pub idle_hold_max: Duration,
}

/// The FSM's settings for this peer.
pub(super) fn fsm_config(config: &SessionConfig) -> FsmConfig {
    FsmConfig {
        idle_hold: config.idle_hold,
        idle_hold_max: config.idle_hold_max,
        ..FsmConfig::new(config.speaker.clone(), config.peer_asn)
    }
}

/// The local address to connect from: the first listen address of the remote's family,
/// unless it is unspecified (then the kernel picks).
pub fn local_for(listen: &[SocketAddr], remote: IpAddr) -> Option<SocketAddr> {
    listen
        .iter()
        .find(|l| l.is_ipv4() == remote.is_ipv4() && !l.ip().is_unspecified())
        .copied()
}
