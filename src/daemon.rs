//! Spawns rovgate's tasks, wires their channels, and shuts them down together.
//!
//! ```text
//!  rtr tasks ─┐  SourceEvent (mpsc, bounded)
//!  file tasks ├──────────────────────────────► rpki task ──publish──► VrpStore (ArcSwap)
//!  slurm tasks┘                                                           │ load()
//!                                                         http task ◄─────┘
//!  SIGTERM / SIGINT ──► shutdown (watch<bool>) ──► every task
//! ```

use anyhow::{Context, Result};
use tokio::sync::watch;
use tracing::info;

use crate::config::Config;

/// Runs rovgate until SIGTERM or SIGINT.
pub async fn run(config: Config) -> Result<()> {
    let (stop, shutdown) = watch::channel(false);
    let store = crate::rpki::spawn(&config.rpki, shutdown.clone());
    if let Some(addr) = config.server.http {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the HTTP listener {addr}"))?;
        info!(%addr, "HTTP API listening");
        tokio::spawn(crate::http::serve(listener, store.clone(), shutdown.clone()));
    }
    info!(asn = config.server.asn.0, peers = config.peers.len(), "rovgate running");
    wait_for_signal().await?;
    info!("shutting down");
    // Every task holds a receiver; a send error only means they are all gone already.
    let _ = stop.send(true);
    Ok(())
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
