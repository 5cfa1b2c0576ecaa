//! Signals to the daemon: SIGTERM and SIGINT stop it, SIGHUP (and a reload request from
//! the HTTP API) reloads its config (`reload.rs`).
//!
//! Where it sits: in `daemon::run` only, between [`super::start`] and
//! [`super::Daemon::shutdown`]; a daemon started in a test is stopped by its handle.

use std::path::Path;

use anyhow::{Context, Result};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tracing::info;

use super::irr_watch::IrrStamps;
use super::reload::{reload, set_checks};
use super::Daemon;
use crate::config::Config;

/// The handlers of SIGTERM, SIGINT and SIGHUP; a signal that arrives before
/// [`Signals::wait`] waits for it is kept until then.
pub(super) struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
}

impl Signals {
    /// Installs the handlers.
    pub(super) fn install() -> Result<Signals> {
        let handler =
            |kind, name| signal(kind).with_context(|| format!("installing the {name} handler"));
        Ok(Signals {
            term: handler(SignalKind::terminate(), "SIGTERM")?,
            int: handler(SignalKind::interrupt(), "SIGINT")?,
            hup: handler(SignalKind::hangup(), "SIGHUP")?,
        })
    }

    /// Waits for SIGTERM or SIGINT, reloading the config (from `path`) into `daemon` on
    /// every SIGHUP and reload request meanwhile, and checking peers' routes again when
    /// their IRR files change.
    pub(super) async fn wait(
        mut self,
        mut config: Config,
        path: Option<&Path>,
        daemon: &mut Daemon,
    ) -> Result<()> {
        let mut irr = IrrStamps::new(&config);
        let mut look = tokio::time::interval(config.rpki.reload);
        loop {
            tokio::select! {
                _ = self.term.recv() => return Ok(()),
                _ = self.int.recv() => return Ok(()),
                _ = self.hup.recv() => {
                    // Logged, and nobody to answer.
                    let _ = reload(&mut config, path, daemon).await;
                    irr.changed(&config);
                }
                Some(request) = daemon.reloads.recv() => {
                    let outcome = reload(&mut config, path, daemon).await;
                    irr.changed(&config);
                    // The asker may have given up.
                    let _ = request.reply.send(outcome);
                }
                _ = look.tick() => for i in irr.changed(&config) {
                    let peer = &config.peers[i];
                    info!(peer = %peer.name, "IRR files changed: checking the peer's routes again");
                    let id = daemon.sessions.id(&peer.name);
                    if let Some(event) = id.and_then(|id| set_checks(&config, i, id)) {
                        // The RIB ends only at shutdown.
                        let _ = daemon.rib.send(event).await;
                    }
                },
            }
        }
    }
}
