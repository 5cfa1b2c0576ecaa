//! Spawns rovgate's tasks, wires their channels, and shuts them down together.
//!
//! ```text
//!  rtr tasks ─┐  SourceEvent (mpsc, bounded)
//!  file tasks ├──────────────────────────────► rpki task ──publish──► VrpStore (ArcSwap)
//!  slurm tasks┘                                                        │ load()   │ load()
//!                                                                      ▼          ▼
//!  listener ──TcpStream──► session task (one per peer) ──RibEvent──► RIB task   http task
//!                            │ link: reader + FSM + timers             │
//!                            └─ writer task ◄──────── Vec<Export> ─────┘
//!  SIGTERM / SIGINT ──► shutdown (watch<bool>) ──► every task; sessions send Cease first
//! ```

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::info;

use crate::bgp::listener;
use crate::bgp::open::LocalSpeaker;
use crate::bgp::session::{self, SessionConfig};
use crate::config::{Config, PeerConfig};
use crate::rib::{self, PeerInfo, RIB_QUEUE};
use crate::route::PeerId;

/// Runs rovgate until SIGTERM or SIGINT.
pub async fn run(config: Config) -> Result<()> {
    let (stop, shutdown) = watch::channel(false);
    let store = crate::rpki::spawn(&config.rpki, shutdown.clone());
    if let Some(addr) = config.server.http {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the HTTP listener {addr}"))?;
        info!(%addr, "HTTP API listening");
        tokio::spawn(crate::http::serve(
            listener,
            store.clone(),
            shutdown.clone(),
        ));
    }
    let (rib_tx, rib_rx) = mpsc::channel(RIB_QUEUE);
    let infos = config.peers.iter().map(peer_info).collect();
    tokio::spawn(rib::run(infos, store.clone(), rib_rx, shutdown.clone()));
    let mut sessions = HashMap::new();
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    for (i, peer) in config.peers.iter().enumerate() {
        let (tx, accepted) = mpsc::channel(4);
        sessions.insert(peer.address, tx);
        let cfg = session_config(&config, i, peer);
        tasks.push(tokio::spawn(session::run(
            cfg,
            rib_tx.clone(),
            accepted,
            shutdown.clone(),
        )));
    }
    for addr in &config.server.listen {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the BGP listener {addr}"))?;
        info!(%addr, "BGP listening");
        tokio::spawn(listener::run(listener, sessions.clone(), shutdown.clone()));
    }
    info!(
        asn = config.server.asn.0,
        peers = config.peers.len(),
        "rovgate running"
    );
    wait_for_signal().await?;
    info!("shutting down");
    // Every task holds a receiver; a send error only means they are all gone already.
    let _ = stop.send(true);
    // Give sessions a moment to send their Cease.
    let all = futures_util::future::join_all(tasks);
    let _ = tokio::time::timeout(Duration::from_secs(3), all).await;
    Ok(())
}

fn peer_info(p: &PeerConfig) -> PeerInfo {
    PeerInfo {
        name: p.name.clone(),
        address: p.address,
        asn: p.asn,
        enforce_first_as: p.enforce_first_as,
        max_prefixes: p.max_prefixes,
    }
}

fn session_config(config: &Config, i: usize, peer: &PeerConfig) -> SessionConfig {
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
    }
}

async fn wait_for_signal() -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    tokio::select! {
        _ = term.recv() => {}
        r = tokio::signal::ctrl_c() => r.context("waiting for SIGINT")?,
    }
    Ok(())
}
