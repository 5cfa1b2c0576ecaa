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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use arc_swap::ArcSwap;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::bgp::abuse::Refuser;
use crate::bgp::listener;
use crate::bgp::open::LocalSpeaker;
use crate::bgp::session::{self, SessionConfig};
use crate::config::{Config, PeerConfig};
use crate::http::guard::{Guard, SharedAccess};
use crate::http::Api;
use crate::rib::{self, PeerInfo, Rib, RibEvent, RibInputs, SharedView, QUERY_QUEUE, RIB_QUEUE};
use crate::route::abuse::{PeerAbuse, Refusals};
use crate::route::PeerId;

/// Runs rovgate until SIGTERM or SIGINT; SIGHUP reloads `path` (when the config came from
/// a file).
pub async fn run(config: Config, path: Option<PathBuf>) -> Result<()> {
    let (stop, shutdown) = watch::channel(false);
    let (store, vrps_changed) = crate::rpki::spawn(&config.rpki, shutdown.clone());
    let (rib_tx, rib_rx) = mpsc::channel(RIB_QUEUE);
    let (queries, queries_rx) = mpsc::channel(QUERY_QUEUE);
    let abuse: Vec<Arc<PeerAbuse>> = config.peers.iter().map(|_| Arc::default()).collect();
    let refusals = Arc::new(Refusals::default());
    let infos = config.peers.iter().zip(&abuse).map(peer_info).collect();
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
    let access: SharedAccess = Arc::new(ArcSwap::from_pointee(config.server.http_access.clone()));
    if let Some(addr) = config.server.http {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the HTTP listener {addr}"))?;
        info!(%addr, "HTTP API listening");
        if let Some(warning) = config.server.http_warning() {
            warn!("{warning}");
        }
        let bound = listener
            .local_addr()
            .context("the HTTP listener's address")?;
        let api = Api {
            vrps: store.clone(),
            rib: view.clone(),
            events: rib_tx.clone(),
            queries,
            history,
            metrics: crate::metrics::install(),
            guard: Guard::new(bound, access.clone()),
            reports: Default::default(),
            refusals: refusals.clone(),
        };
        let limits = config.http;
        tokio::spawn(crate::http::serve(listener, api, limits, shutdown.clone()));
    }
    let mut sessions = HashMap::new();
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    for (i, peer) in config.peers.iter().enumerate() {
        let (tx, accepted) = mpsc::channel(4);
        sessions.insert(peer.address, tx);
        let counts = (abuse[i].clone(), refusals.clone());
        let cfg = session_config(&config, i, peer, counts);
        let rib = session::RibLink {
            events: rib_tx.clone(),
            writable: writable.clone(),
        };
        tasks.push(tokio::spawn(session::run(
            cfg,
            rib,
            accepted,
            shutdown.clone(),
        )));
    }
    for addr in &config.server.listen {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the BGP listener {addr}"))?;
        info!(%addr, "BGP listening");
        let refuser = Refuser::new(refusals.clone());
        let sessions = sessions.clone();
        tokio::spawn(listener::run(listener, sessions, refuser, shutdown.clone()));
    }
    info!(
        asn = config.server.asn.0,
        peers = config.peers.len(),
        "rovgate running"
    );
    wait_for_signal(config, path.as_deref(), &rib_tx, &view, &access).await?;
    info!("shutting down");
    // Every task holds a receiver; a send error only means they are all gone already.
    let _ = stop.send(true);
    // Give sessions a moment to send their Cease.
    let all = futures_util::future::join_all(tasks);
    let _ = tokio::time::timeout(Duration::from_secs(3), all).await;
    Ok(())
}

fn peer_info((p, abuse): (&PeerConfig, &Arc<PeerAbuse>)) -> PeerInfo {
    PeerInfo {
        name: p.name.clone(),
        address: p.address,
        asn: p.asn,
        enforce_first_as: p.enforce_first_as,
        max_prefixes: p.max_prefixes,
        rov: p.rov,
        abuse: abuse.clone(),
    }
}

/// The session of peer `i`, counting into `(abuse, refusals)`.
fn session_config(
    config: &Config,
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
        remote: std::net::SocketAddr::new(peer.address, peer.port),
        local: session::local_for(&server.listen, peer.address),
        peer_asn: peer.asn,
        passive: peer.passive,
        speaker,
        restart_time_max: server.graceful_restart_time,
        max_prefixes_idle: peer.max_prefixes_idle,
        rov_ext_community: peer.rov_ext_community,
        send_hold_time: server.send_hold_time,
        abuse,
        refusals,
        idle_hold: peer.idle_hold.first,
        idle_hold_max: peer.idle_hold.max,
    }
}

/// Waits for SIGTERM or SIGINT, reloading the config on every SIGHUP meanwhile.
async fn wait_for_signal(
    mut config: Config,
    path: Option<&Path>,
    rib: &mpsc::Sender<RibEvent>,
    view: &SharedView,
    access: &SharedAccess,
) -> Result<()> {
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut hup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
    loop {
        tokio::select! {
            _ = term.recv() => return Ok(()),
            r = tokio::signal::ctrl_c() => return r.context("waiting for SIGINT"),
            _ = hup.recv() => match path {
                Some(path) => reload(&mut config, path, rib, view, access).await,
                None => warn!("SIGHUP: running the embedded config, there is no file to reload"),
            },
        }
    }
}

/// Re-reads the config and applies what can change at run time: peers' `rov` modes (the
/// file wins over a mode set over HTTP since; peers are matched by name, so reordering
/// `[[peer]]` tables changes nothing) and the `[rov]` settings, by re-evaluating stored
/// routes (no session is reset), and the HTTP access settings (token, names). Anything
/// else that changed is named in a warning and waits for a restart.
async fn reload(
    config: &mut Config,
    path: &Path,
    rib: &mpsc::Sender<RibEvent>,
    view: &SharedView,
    access: &SharedAccess,
) {
    let new = match Config::load(path) {
        Ok(new) => new,
        Err(e) => return error!(error = %e, "config reload failed: the running config stays"),
    };
    let running = view.load();
    let mut events = Vec::new();
    // Peers are matched by name: the order of `[[peer]]` tables means nothing.
    for next in &new.peers {
        let Some(i) = config.peers.iter().position(|p| p.name == next.name) else {
            continue;
        };
        config.peers[i].rov = next.rov;
        if running.peers.get(i).is_none_or(|p| p.rov != next.rov) {
            let (peer, rov) = (PeerId(i as u32), next.rov);
            events.push(RibEvent::SetPolicy { peer, rov });
        }
    }
    if new.rov != config.rov {
        config.rov = new.rov.clone();
        let tagging = config.rov.tagging(config.server.asn.0);
        let mass = config.rov.mass;
        events.push(RibEvent::SetRovConfig { tagging, mass });
    }
    config.defaults = new.defaults.clone();
    if new.server.http_access != config.server.http_access {
        config.server.http_access = new.server.http_access.clone();
        access.store(Arc::new(new.server.http_access.clone()));
        info!("HTTP access (token, names) reloaded");
    }
    if !same_but_peer_order(&new, config) {
        warn!("config reload: changes other than rov modes, [rov] and HTTP access need a restart and are not applied");
    }
    info!(changes = events.len(), "config reloaded");
    for event in events {
        // The RIB ends only at shutdown.
        let _ = rib.send(event).await;
    }
}

/// Whether two configs are equal once their peers are put in the same order (by name).
fn same_but_peer_order(a: &Config, b: &Config) -> bool {
    let by_name = |c: &Config| {
        let mut c = c.clone();
        c.peers.sort_by(|x, y| x.name.cmp(&y.name));
        c
    };
    by_name(a) == by_name(b)
}
