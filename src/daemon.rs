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
//!  SIGHUP, POST /api/v1/reload ──► reload the config (reload.rs): peers added, removed,
//!      reset ──AddPeer/RemovePeer──► RIB, sessions started/closed, listener Routes (ArcSwap);
//!      policy ──SetPolicy/SetChecks/SetRovConfig──► RIB; HTTP token and names ──ArcSwap──► http;
//!      [rpki] caches and files ──SourceControl──► rpki task (starts and stops source tasks)
//!  BMP listener ──TcpStream──► bmp router task (one per [[bmp.router]]) ──AddPeer, RibEvent──► RIB
//!  SIGTERM / SIGINT ──► shutdown (watch<bool>) ──► every task; sessions send Cease first
//! ```
//!
//! [`run`] is the binary's: it binds what the config says ([`Listeners::bind`]) and hands
//! the listeners to [`start`], which spawns the tasks and returns a [`Daemon`] naming the
//! bound addresses; [`Daemon::shutdown`] stops it. A test calls [`start`] with listeners
//! bound to port 0.

use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use arc_swap::ArcSwap;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::bgp::abuse::Refuser;
use crate::bgp::listener;
use crate::bgp::session;
use crate::config::{Config, PeerConfig};
use crate::http::guard::{Guard, SharedAccess};
use crate::http::Api;
use crate::policy::Filters;
use crate::rib::{
    self, PeerInfo, Rib, RibEvent, RibInputs, SharedView, Validator, QUERY_QUEUE, RIB_QUEUE,
};
use crate::route::abuse::{PeerAbuse, Refusals};
use crate::route::PeerId;
use sessions::Sessions;

mod irr_watch;
pub mod reload;
#[cfg(test)]
mod reload_tests;
mod sessions;
mod signals;
#[cfg(test)]
mod tests;

/// How long shutdown waits at most for the sessions to send their Cease.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Runs rovgate until SIGTERM or SIGINT on what `[server]` says to listen on; SIGHUP and
/// `POST /api/v1/reload` reload `path` (when the config came from a file).
pub async fn run(config: Config, path: Option<PathBuf>) -> Result<()> {
    // Before anything runs: a signal sent once rovgate said it runs is never lost.
    let signals = signals::Signals::install()?;
    let listeners = Listeners::bind(&config).await?;
    let mut daemon = start(&config, listeners)?;
    signals.wait(config, path.as_deref(), &mut daemon).await?;
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
    /// The BMP station's listeners (`[[bmp.listen]]`).
    pub bmp: Vec<TcpListener>,
    /// One per `[[rtr_server]]`, in order.
    pub rtr: Vec<TcpListener>,
}

impl Listeners {
    /// Binds `[server] http` (when set), every `[server] listen` address, every
    /// `[[bmp.listen]]` address and every `[[rtr_server]]` listen address.
    pub async fn bind(config: &Config) -> Result<Listeners> {
        let server = &config.server;
        let http = match server.http {
            Some(addr) => Some(bind(addr, "HTTP").await?),
            None => None,
        };
        let mut bgp = Vec::new();
        for addr in &server.listen {
            bgp.push(bind(*addr, "BGP").await?);
        }
        let mut bmp = Vec::new();
        for addr in &config.bmp.listen {
            bmp.push(bind(*addr, "BMP").await?);
        }
        let rtr = crate::rpki::server::bind(&config.rtr_servers).await?;
        Ok(Listeners {
            bgp,
            http,
            bmp,
            rtr,
        })
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
    /// The BGP listener tasks, awaited at shutdown.
    tasks: Vec<JoinHandle<()>>,
    /// The sessions by peer name, awaited at shutdown; a reload starts and closes them.
    sessions: Sessions,
    /// Reloads asked for over HTTP.
    reloads: mpsc::Receiver<reload::Request>,
    /// The RIB's inbound queue, its view and the HTTP access settings: what a reload changes.
    rib: mpsc::Sender<RibEvent>,
    view: SharedView,
    access: SharedAccess,
    /// Adds and removes the `[rpki]` sources.
    rpki: crate::rpki::SourceControl,
}

impl Daemon {
    /// Stops every task (the one `watch` shutdown) and waits, at most [`SHUTDOWN_GRACE`],
    /// for the BGP listeners to close and the sessions to send their Cease.
    pub async fn shutdown(self) {
        // Every task holds a receiver; a send error only means they are all gone already.
        let _ = self.stop.send(true);
        let tasks = self.tasks.into_iter().chain(self.sessions.into_tasks());
        let all = futures_util::future::join_all(tasks);
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, all).await;
    }
}

/// What the sessions and the HTTP API share: the RIB's queues and view, the VRPs, the
/// counters of refused connections.
struct Core {
    store: crate::rpki::VrpStore,
    sources: crate::rpki::SourceControl,
    rib: mpsc::Sender<RibEvent>,
    queries: mpsc::Sender<rib::RibQuery>,
    view: SharedView,
    writable: Arc<tokio::sync::Notify>,
    history: crate::history::SharedHistory,
    abuse: Vec<Arc<PeerAbuse>>,
    refusals: Arc<Refusals>,
    rtr_server: crate::rpki::server::RtrServer,
    /// The RIB's changed prefixes, for BMP export.
    feed: rib::TableFeed,
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
    let mut core = spawn_core(config, filters, &shutdown);
    let (store, rtr) = (core.store.clone(), listeners.rtr);
    core.rtr_server = crate::rpki::server::spawn(&config.rtr_servers, rtr, store, shutdown.clone());
    let access: SharedAccess = Arc::new(ArcSwap::from_pointee(config.server.http_access.clone()));
    let (reload, reloads) = mpsc::channel(1);
    if let (Some(listener), Some(addr)) = (listeners.http, http) {
        serve_http(
            config,
            (listener, addr),
            (&core, reload),
            &access,
            &shutdown,
        );
    }
    let link = session::RibLink {
        events: core.rib.clone(),
        writable: core.writable.clone(),
        validator: Validator::new(core.store.clone()),
    };
    // The sessions give the listeners their peers' TCP-MD5 keys, as peers come and go.
    let keyed = (listeners.bgp.iter())
        .map(|l| l.as_fd().try_clone_to_owned())
        .collect::<std::io::Result<Vec<_>>>()
        .context("duplicating the BGP listeners' descriptors")?;
    let mut sessions = Sessions::new(link, core.refusals.clone(), (&bgp, keyed), &shutdown);
    for (i, peer) in config.peers.iter().enumerate() {
        let abuse = core.abuse[i].clone();
        sessions.start(&config.server, peer, PeerId(i as u32), abuse);
    }
    sessions.publish();
    let mut tasks = Vec::new();
    for (listener, addr) in listeners.bgp.into_iter().zip(&bgp) {
        info!(%addr, "BGP listening");
        let refuser = Refuser::new(core.refusals.clone());
        let run = listener::run(listener, sessions.routes(), refuser, shutdown.clone());
        tasks.push(tokio::spawn(run));
    }
    for listener in &listeners.bmp {
        info!(addr = %local_addr(listener, "BMP")?, "BMP listening");
    }
    let bmp = crate::bmp::spawn(
        &config.bmp,
        &config.defaults,
        listeners.bmp,
        &core.rib,
        &shutdown,
    );
    tasks.extend(bmp);
    let exporter = crate::bmp::export::Exporter {
        local: crate::bmp::Local {
            asn: config.server.asn.0,
            router_id: config.server.router_id,
            tagging: config.rov.tagging(config.server.asn.0),
        },
        feed: core.feed.clone(),
        queries: core.queries.clone(),
        view: core.view.clone(),
    };
    tasks.extend(crate::bmp::export::spawn(
        &config.bmp.stations,
        exporter,
        &shutdown,
    ));
    info!(
        asn = config.server.asn.0,
        peers = config.peers.len(),
        "rovgate running"
    );
    let (rib, view, rpki) = (core.rib, core.view, core.sources);
    Ok(Daemon {
        bgp,
        http,
        stop,
        tasks,
        sessions,
        reloads,
        rib,
        view,
        access,
        rpki,
    })
}

/// Spawns the HTTP API on `listener`, bound to `addr`.
fn serve_http(
    config: &Config,
    (listener, addr): (TcpListener, SocketAddr),
    (core, reload): (&Core, mpsc::Sender<reload::Request>),
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
        reload,
        rtr_server: core.rtr_server.clone(),
        identity: crate::http::birdwatcher::Identity::of(config),
        birdwatcher_table: Default::default(),
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
    let rpki = crate::rpki::start(&config.rpki, shutdown.clone());
    let (store, vrps_changed) = (rpki.store, rpki.changed);
    let (rib_tx, rib_rx) = mpsc::channel(RIB_QUEUE);
    let (queries, queries_rx) = mpsc::channel(QUERY_QUEUE);
    let abuse: Vec<Arc<PeerAbuse>> = config.peers.iter().map(|_| Arc::default()).collect();
    let infos = (config.peers.iter().zip(&abuse).zip(filters))
        .map(peer_info)
        .collect();
    let tagging = config.rov.tagging(config.server.asn.0);
    let mut rib = Rib::new(infos, store.clone(), tagging, config.rov.mass);
    rib.set_update_delay(config.server.update_delay);
    if !store.status().complete {
        rib.wait_for_vrps();
    }
    let view = rib.view();
    let writable = rib.writable();
    let feed = rib.table_feed();
    let history = crate::history::spawn(
        rib.subscribe(),
        view.clone(),
        store.clone(),
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
        sources: rpki.control,
        rib: rib_tx,
        queries,
        view,
        writable,
        history,
        abuse,
        refusals: Arc::new(Refusals::default()),
        rtr_server: Default::default(),
        feed,
    }
}

/// What the RIB knows of peer `p`.
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
        monitored: false,
    }
}
