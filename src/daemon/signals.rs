//! Signals to the daemon: SIGTERM and SIGINT stop it, SIGHUP reloads its config.
//!
//! Where it sits: in `daemon::run` only, between [`super::start`] and
//! [`super::Daemon::shutdown`]; a daemon started in a test is stopped by its handle.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use super::Daemon;
use crate::config::Config;
use crate::http::guard::SharedAccess;
use crate::rib::{RibEvent, SharedView};
use crate::route::PeerId;

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
    /// every SIGHUP meanwhile.
    pub(super) async fn wait(
        mut self,
        mut config: Config,
        path: Option<&Path>,
        daemon: &Daemon,
    ) -> Result<()> {
        let (rib, view, access) = (&daemon.rib, &daemon.view, &daemon.access);
        loop {
            tokio::select! {
                _ = self.term.recv() => return Ok(()),
                _ = self.int.recv() => return Ok(()),
                _ = self.hup.recv() => match path {
                    Some(path) => reload(&mut config, path, rib, view, access).await,
                    None => warn!("SIGHUP: running the embedded config, there is no file to reload"),
                },
            }
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
