//! Spawns rovgate's tasks, wires their channels, and shuts them down together.
//!
//! ```text
//!  rtr tasks ─┐  SourceEvent (mpsc, bounded)
//!  file tasks ├──────────────────────────────► rpki task ──publish──► VrpStore (ArcSwap)
//!  slurm tasks┘                                   │                    │ load()   │ load()
//!                                                 └─VrpsChanged─┐      ▼          ▼
//!  listener ──TcpStream──► session task (one per peer) ──RibEvent──► RIB task   http task
//!                            │ link: reader + FSM + timers             │  │ ▲      │ ▲
//!                            └─ writer task ◄─ pulls Outgoing ──────────┘  │ └──────┘ │
//!                                (wakes the RIB, Notify, when it took one) │ queries  │
//!                                   RibView (ArcSwap), RovChange (broadcast) └───────┘
//!  SIGHUP ──► reload the config: changed `rov` modes and `[rov]` settings ──RibEvent──► RIB
//!                                          HTTP token and names ──ArcSwap──► http task
//!  SIGTERM / SIGINT ──► shutdown (watch<bool>) ──► every task; sessions send Cease first
//! ```
//!
//! [`run`] is the binary's: it binds what the config says ([`Listeners::bind`]) and hands
//! the listeners to [`start`], which spawns the tasks and returns a [`Daemon`] naming the
//! bound addresses; [`Daemon::shutdown`] stops it. A test calls [`start`] with listeners
//! bound to port 0.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use arc_swap::ArcSwap;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::bgp::abuse::Refuser;
use crate::bgp::listener;
use crate::bgp::open::LocalSpeaker;
use crate::bgp::session::{self, SessionConfig};
use crate::config::{Config, PeerConfig, Role, ServerConfig};
use crate::http::guard::{Guard, SharedAccess};
use crate::http::Api;
use crate::policy::Filters;
use crate::rib::{self, PeerInfo, Rib, RibEvent, RibInputs, SharedView, QUERY_QUEUE, RIB_QUEUE};
use crate::route::abuse::{PeerAbuse, Refusals};
use crate::route::PeerId;

mod irr_watch;
mod signals;
#[cfg(test)]
mod tests;

/// How long shutdown waits at most for the sessions to send their Cease.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Runs rovgate until SIGTERM or SIGINT on what `[server]` says to listen on; SIGHUP
/// reloads `path` (when the config came from a file).
pub async fn run(config: Config, path: Option<PathBuf>) -> Result<()> {
    // Before anything runs: a signal sent once rovgate said it runs is never lost.
    let signals = signals::Signals::install()?;
    let listeners = Listeners::bind(&config.server).await?;
    let daemon = start(&config, listeners)?;
    signals.wait(config, path.as_deref(), &daemon).await?;
    info!("shutting down");
    daemon.shutdown().await;
    Ok(())
}

/// The sockets rovgate serves, bound before it starts: [`Listeners::bind`] binds what the
/// config says, a test binds port 0.
pub struct Listeners {
    /// The BGP listeners.
    pub bgp: Vec<TcpListener>,
    /// The HTTP API's listener; none: no HTTP.
    pub http: Option<TcpListener>,
}

impl Listeners {
    /// Binds `[server] http` (when set) and every `[server] listen` address.
    pub async fn bind(server: &ServerConfig) -> Result<Listeners> {
        let http = match server.http {
            Some(addr) => Some(bind(addr, "HTTP").await?),
            None => None,
        };
        let mut bgp = Vec::new();
        for addr in &server.listen {
            bgp.push(bind(*addr, "BGP").await?);
        }
        Ok(Listeners { bgp, http })
    }
}

async fn bind(addr: SocketAddr, what: &str) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the {what} listener {addr}"))
}

/// The address `listener` is bound to (`what` names it in the error).
fn local_addr(listener: &TcpListener, what: &str) -> Result<SocketAddr> {
    (listener.local_addr()).with_context(|| format!("the {what} listener's address"))
}

/// A running rovgate, from [`start`]: where it listens, and how to stop it.
pub struct Daemon {
    /// The BGP listeners' addresses, in the order given (the real port when bound to 0).
    pub bgp: Vec<SocketAddr>,
    /// The HTTP API's address, when it serves one.
    pub http: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    /// The session and BGP listener tasks, awaited at shutdown.
    tasks: Vec<JoinHandle<()>>,
    /// The RIB's inbound queue, its view and the HTTP access settings: what a reload changes.
    rib: mpsc::Sender<RibEvent>,
    view: SharedView,
    access: SharedAccess,
}

impl Daemon {
    /// Stops every task (the one `watch` shutdown) and waits, at most [`SHUTDOWN_GRACE`],
    /// for the BGP listeners to close and the sessions to send their Cease.
    pub async fn shutdown(self) {
        // Every task holds a receiver; a send error only means they are all gone already.
        let _ = self.stop.send(true);
        let all = futures_util::future::join_all(self.tasks);
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, all).await;
    }
}

/// What the sessions and the HTTP API share: the RIB's queues and view, the VRPs, the
/// counters of refused connections.
struct Core {
    store: crate::rpki::VrpStore,
    rib: mpsc::Sender<RibEvent>,
    queries: mpsc::Sender<rib::RibQuery>,
    view: SharedView,
    writable: Arc<tokio::sync::Notify>,
    history: crate::history::SharedHistory,
    abuse: Vec<Arc<PeerAbuse>>,
    refusals: Arc<Refusals>,
}

/// Starts rovgate on `listeners` (the config's `listen` and `http` addresses are not looked
/// at); call it within a tokio runtime. Ready when it returns: connections wait in the
/// listeners' queues until the tasks spawned here take them.
pub fn start(config: &Config, listeners: Listeners) -> Result<Daemon> {
    let bgp: Vec<SocketAddr> = (listeners.bgp.iter())
        .map(|l| local_addr(l, "BGP"))
        .collect::<Result<_>>()?;
    let http = (listeners.http.as_ref())
        .map(|l| local_addr(l, "HTTP"))
        .transpose()?;
    let filters = (0..config.peers.len())
        .map(|i| config.filters_for(i).map(Arc::new))
        .collect::<Result<Vec<_>, String>>()
        .map_err(|e| anyhow::anyhow!("reading IRR data: {e}"))?;
    let (stop, shutdown) = watch::channel(false);
    let core = spawn_core(config, filters, &shutdown);
    let access: SharedAccess = Arc::new(ArcSwap::from_pointee(config.server.http_access.clone()));
    if let (Some(listener), Some(addr)) = (listeners.http, http) {
        serve_http(config, (listener, addr), &core, &access, &shutdown);
    }
    let (sessions, mut tasks) = spawn_sessions(config, &bgp, &core, &shutdown);
    for (listener, addr) in listeners.bgp.into_iter().zip(&bgp) {
        for peer in &config.peers {
            (peer.security.listen(&listener, peer.address)).with_context(|| {
                format!("giving listener {addr} the TCP-MD5 key of {}", peer.name)
            })?;
        }
        info!(%addr, "BGP listening");
        let refuser = Refuser::new(core.refusals.clone());
        let run = listener::run(listener, sessions.clone(), refuser, shutdown.clone());
        tasks.push(tokio::spawn(run));
    }
    info!(
        asn = config.server.asn.0,
        peers = config.peers.len(),
        "rovgate running"
    );
    let (rib, view) = (core.rib, core.view);
    Ok(Daemon {
        bgp,
        http,
        stop,
        tasks,
        rib,
        view,
        access,
    })
}

/// Spawns the HTTP API on `listener`, bound to `addr`.
fn serve_http(
    config: &Config,
    (listener, addr): (TcpListener, SocketAddr),
    core: &Core,
    access: &SharedAccess,
    shutdown: &watch::Receiver<bool>,
) {
    info!(%addr, "HTTP API listening");
    if let Some(warning) = config.server.http_warning() {
        warn!("{warning}");
    }
    let api = Api {
        vrps: core.store.clone(),
        rib: core.view.clone(),
        events: core.rib.clone(),
        queries: core.queries.clone(),
        history: core.history.clone(),
        metrics: crate::metrics::install(),
        guard: Guard::new(addr, access.clone()),
        reports: Default::default(),
        refusals: core.refusals.clone(),
        identity: crate::http::birdwatcher::Identity::of(config),
    };
    let limits = config.http;
    tokio::spawn(crate::http::serve(listener, api, limits, shutdown.clone()));
}

/// Spawns the RPKI sources, the RIB and the ROV history.
fn spawn_core(
    config: &Config,
    filters: Vec<Arc<Filters>>,
    shutdown: &watch::Receiver<bool>,
) -> Core {
    let (store, vrps_changed) = crate::rpki::spawn(&config.rpki, shutdown.clone());
    let (rib_tx, rib_rx) = mpsc::channel(RIB_QUEUE);
    let (queries, queries_rx) = mpsc::channel(QUERY_QUEUE);
    let abuse: Vec<Arc<PeerAbuse>> = config.peers.iter().map(|_| Arc::default()).collect();
    let infos = (config.peers.iter().zip(&abuse).zip(filters))
        .map(peer_info)
        .collect();
    let tagging = config.rov.tagging(config.server.asn.0);
    let mut rib = Rib::new(infos, store.clone(), tagging, config.rov.mass);
    rib.set_update_delay(config.server.update_delay);
    let view = rib.view();
    let writable = rib.writable();
    let history = crate::history::spawn(
        rib.subscribe(),
        view.clone(),
        &config.report,
        shutdown.clone(),
    );
    let inputs = RibInputs {
        events: rib_rx,
        queries: queries_rx,
        vrps_changed,
    };
    tokio::spawn(rib::run(rib, inputs, shutdown.clone()));
    Core {
        store,
        rib: rib_tx,
        queries,
        view,
        writable,
        history,
        abuse,
        refusals: Arc::new(Refusals::default()),
    }
}

/// Spawns one session task per peer; returns where the listeners hand each peer's
/// connections, and the tasks.
fn spawn_sessions(
    config: &Config,
    listen: &[SocketAddr],
    core: &Core,
    shutdown: &watch::Receiver<bool>,
) -> (
    HashMap<IpAddr, mpsc::Sender<TcpStream>>,
    Vec<JoinHandle<()>>,
) {
    let mut sessions = HashMap::new();
    let mut tasks = Vec::new();
    for (i, peer) in config.peers.iter().enumerate() {
        let (tx, accepted) = mpsc::channel(4);
        sessions.insert(peer.address, tx);
        let counts = (core.abuse[i].clone(), core.refusals.clone());
        let cfg = session_config(config, listen, i, peer, counts);
        let rib = session::RibLink {
            events: core.rib.clone(),
            writable: core.writable.clone(),
        };
        let run = session::run(cfg, rib, accepted, shutdown.clone());
        tasks.push(tokio::spawn(run));
    }
    (sessions, tasks)
}

fn peer_info(((p, abuse), filters): ((&PeerConfig, &Arc<PeerAbuse>), Arc<Filters>)) -> PeerInfo {
    PeerInfo {
        checks: p.checks,
        filters,
        name: p.name.clone(),
        address: p.address,
        asn: p.asn,
        enforce_first_as: p.enforce_first_as,
        max_prefixes: p.max_prefixes,
        rov: p.rov,
        abuse: abuse.clone(),
    }
}

/// The session of peer `i`, connecting out from an address of `listen`, counting into
/// `(abuse, refusals)`.
fn session_config(
    config: &Config,
    listen: &[SocketAddr],
    i: usize,
    peer: &PeerConfig,
    (abuse, refusals): (Arc<PeerAbuse>, Arc<Refusals>),
) -> SessionConfig {
    let server = &config.server;
    let mut speaker = LocalSpeaker::new(server.asn, server.router_id);
    speaker.hold_time = server.hold_time;
    speaker.graceful_restart_time = server.graceful_restart_time;
    SessionConfig {
        peer: PeerId(i as u32),
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
