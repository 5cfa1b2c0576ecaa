//! Signals to the daemon: SIGTERM and SIGINT stop it, SIGHUP (and a reload request from
//! the HTTP API) reloads its config (`reload.rs`).
//!
//! Where it sits: in `daemon::run` only, between [`super::start`] and
//! [`super::Daemon::shutdown`]; a daemon started in a test is stopped by its handle.

use std::path::Path;

use anyhow::{Context, Result};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tracing::info;

use super::irr_watch::{warn_missing, IrrStamps, MemberStamps};
use super::reload::{reload, set_checks, Applied, ReloadError};
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
        warn_missing(&config);
        let mut watch = Watch::new(&config);
        let mut look = tokio::time::interval(config.rpki.reload);
        loop {
            tokio::select! {
                _ = self.term.recv() => return Ok(()),
                _ = self.int.recv() => return Ok(()),
                // Logged, and nobody to answer.
                _ = self.hup.recv() => drop(watch.reload(&mut config, path, daemon).await),
                Some(request) = daemon.reloads.recv() => {
                    let outcome = watch.reload(&mut config, path, daemon).await;
                    // The asker may have given up.
                    let _ = request.reply.send(outcome);
                }
                _ = look.tick() => watch.look(&mut config, path, daemon).await,
            }
        }
    }
}

/// The files a running config reads besides itself: IRR files and member lists.
struct Watch {
    irr: IrrStamps,
    members: MemberStamps,
}

impl Watch {
    fn new(config: &Config) -> Self {
        Watch {
            irr: IrrStamps::new(config),
            members: MemberStamps::new(config),
        }
    }

    /// Reloads the config, and takes its files as they are now.
    async fn reload(
        &mut self,
        config: &mut Config,
        path: Option<&Path>,
        daemon: &mut Daemon,
    ) -> Result<Applied, ReloadError> {
        let outcome = reload(config, path, daemon).await;
        if outcome.is_ok() {
            warn_missing(config);
        }
        *self = Watch::new(config);
        outcome
    }

    /// Reloads the config when a member list changed; checks the routes of the peers whose
    /// IRR files changed again.
    async fn look(&mut self, config: &mut Config, path: Option<&Path>, daemon: &mut Daemon) {
        if self.members.changed(config) {
            info!("a member list changed: reloading the config");
            // Logged, and nobody to answer.
            let _ = self.reload(config, path, daemon).await;
            return;
        }
        for i in self.irr.changed(config) {
            let peer = &config.peers[i];
            info!(peer = %peer.name, "IRR files changed: checking the peer's routes again");
            let id = daemon.sessions.id(&peer.name);
            if let Some(event) = id.and_then(|id| set_checks(config, i, id)) {
                // The RIB ends only at shutdown.
                let _ = daemon.rib.send(event).await;
            }
        }
    }
}
