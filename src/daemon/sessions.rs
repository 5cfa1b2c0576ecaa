//! The running sessions by peer name: one task per configured peer, started with the
//! daemon, and started, closed or restarted by a config reload.
//!
//! Where it sits: the [`super::Daemon`] owns it and `reload.rs` changes it. It keeps the
//! BGP listeners' [`Routes`] (which address goes to which session) in step with it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::OwnedFd;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::error;

use crate::bgp::listener::Routes;
use crate::bgp::open::LocalSpeaker;
use crate::bgp::session::{self, RibLink, SessionConfig};
use crate::bgp::sockopt::Security;
use crate::bgp::{Notification, Reason};
use crate::config::{AddPath, PeerConfig, Role, ServerConfig};
use crate::route::abuse::{PeerAbuse, Refusals};
use crate::route::PeerId;

/// The session tasks by peer name.
pub(super) struct Sessions {
    running: HashMap<String, Running>,
    routes: Routes,
    rib: RibLink,
    refusals: Arc<Refusals>,
    /// The BGP listeners' addresses (outgoing connections start from one of them).
    listen: Vec<SocketAddr>,
    /// The BGP listeners (duplicated descriptors), given each peer's TCP-MD5 key.
    listeners: Vec<OwnedFd>,
    shutdown: watch::Receiver<bool>,
    /// Every session task started, awaited at shutdown (finished ones let go at each start).
    tasks: Vec<JoinHandle<()>>,
}

/// One peer's running session.
struct Running {
    id: PeerId,
    address: IpAddr,
    security: Security,
    accepted: mpsc::Sender<TcpStream>,
    close: mpsc::Sender<Notification>,
}

impl Sessions {
    /// No session yet; sessions started will send to `rib`, connect out from an address of
    /// `listen`, be accepted by `listeners` and end at `shutdown`.
    pub(super) fn new(
        rib: RibLink,
        refusals: Arc<Refusals>,
        (listen, listeners): (&[SocketAddr], Vec<OwnedFd>),
        shutdown: &watch::Receiver<bool>,
    ) -> Self {
        Sessions {
            running: HashMap::new(),
            routes: Routes::default(),
            rib,
            refusals,
            listen: listen.to_vec(),
            listeners,
            shutdown: shutdown.clone(),
            tasks: Vec::new(),
        }
    }

    /// Where the BGP listeners hand each peer's connections.
    pub(super) fn routes(&self) -> Routes {
        self.routes.clone()
    }

    /// The RIB's id of the peer named `name`, if it runs.
    pub(super) fn id(&self, name: &str) -> Option<PeerId> {
        self.running.get(name).map(|r| r.id)
    }

    /// Starts `peer`'s session as the RIB's peer `id`, counting what it does wrong in
    /// `abuse`; the listeners hand it connections after the next [`Sessions::publish`].
    pub(super) fn start(
        &mut self,
        server: &ServerConfig,
        peer: &PeerConfig,
        id: PeerId,
        abuse: Arc<PeerAbuse>,
    ) {
        let (accepted, accepted_rx) = mpsc::channel(4);
        let (close, close_rx) = mpsc::channel(1);
        let counts = (abuse, self.refusals.clone());
        let cfg = session_config(server, &self.listen, id, peer, counts);
        let (rib, shutdown) = (self.rib.clone(), self.shutdown.clone());
        let run = session::run(cfg, rib, accepted_rx, shutdown, close_rx);
        self.tasks.retain(|t| !t.is_finished());
        self.tasks.push(tokio::spawn(run));
        let address = peer.address;
        self.keys(&peer.name, address, |l| peer.security.listen(l, address));
        let running = Running {
            id,
            address,
            security: peer.security.clone(),
            accepted,
            close,
        };
        self.running.insert(peer.name.clone(), running);
    }

    /// Closes the session of the peer named `name` with a Cease for `why`; returns its id
    /// (none: no such session). The listeners stop handing it connections after the next
    /// [`Sessions::publish`].
    pub(super) fn close(&mut self, name: &str, why: Reason) -> Option<PeerId> {
        let running = self.running.remove(name)?;
        let (address, security) = (running.address, &running.security);
        self.keys(name, address, |l| security.unlisten(l, address));
        // A session that already ended needs no Cease.
        let _ = running.close.try_send(why.into());
        Some(running.id)
    }

    /// Gives every listener the key of peer `name` at `address`, or takes it away (`set`).
    fn keys(&self, name: &str, address: IpAddr, set: impl Fn(&OwnedFd) -> std::io::Result<()>) {
        for listener in &self.listeners {
            if let Err(e) = set(listener) {
                error!(peer = name, %address, "setting a BGP listener's TCP-MD5 key failed: {e}");
            }
        }
    }

    /// Hands the listeners the sessions as they are now.
    pub(super) fn publish(&self) {
        let routes = self.running.values();
        let routes = routes.map(|r| (r.address, r.accepted.clone())).collect();
        self.routes.store(Arc::new(routes));
    }

    /// The session tasks, to await at shutdown.
    pub(super) fn into_tasks(self) -> Vec<JoinHandle<()>> {
        self.tasks
    }
}

/// The session of `peer` (the RIB's peer `id`), connecting out from an address of
/// `listen`, counting into `(abuse, refusals)`.
fn session_config(
    server: &ServerConfig,
    listen: &[SocketAddr],
    id: PeerId,
    peer: &PeerConfig,
    (abuse, refusals): (Arc<PeerAbuse>, Arc<Refusals>),
) -> SessionConfig {
    let mut speaker = LocalSpeaker::new(server.asn, server.router_id);
    speaker.hold_time = server.hold_time;
    speaker.graceful_restart_time = server.graceful_restart_time;
    speaker.extended_next_hop = peer.extended_next_hop;
    speaker.add_path = peer.add_path == AddPath::Send;
    SessionConfig {
        peer: id,
        name: peer.name.clone(),
        remote: SocketAddr::new(peer.address, peer.port),
        local: session::local_for(listen, peer.address),
        peer_asn: peer.asn,
        passive: peer.passive,
        speaker,
        restart_time_max: server.graceful_restart_time,
        max_prefixes_idle: peer.max_prefixes_idle,
        rov_ext_community: peer.rov_ext_community,
        rs_client: peer.role == Role::RsClient,
        security: peer.security.clone(),
        send_hold_time: server.send_hold_time,
        abuse,
        refusals,
        idle_hold: peer.idle_hold.first,
        idle_hold_max: peer.idle_hold.max,
    }
}
