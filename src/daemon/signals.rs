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

use super::irr_watch::IrrStamps;
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
    /// every SIGHUP meanwhile, and checking peers' routes again when their IRR files change.
    pub(super) async fn wait(
        mut self,
        mut config: Config,
        path: Option<&Path>,
        daemon: &Daemon,
    ) -> Result<()> {
        let (rib, view, access) = (&daemon.rib, &daemon.view, &daemon.access);
        let mut irr = IrrStamps::new(&config);
        let mut look = tokio::time::interval(config.rpki.reload);
        loop {
            tokio::select! {
                _ = self.term.recv() => return Ok(()),
                _ = self.int.recv() => return Ok(()),
                _ = self.hup.recv() => match path {
                    Some(path) => {
                        reload(&mut config, path, rib, view, access).await;
                        irr.changed(&config);
                    }
                    None => warn!("SIGHUP: running the embedded config, there is no file to reload"),
                },
                _ = look.tick() => for i in irr.changed(&config) {
                    info!(peer = %config.peers[i].name, "IRR files changed: checking the peer's routes again");
                    if let Some(event) = set_checks(&config, i) {
                        // The RIB ends only at shutdown.
                        let _ = rib.send(event).await;
                    }
                },
            }
        }
    }
}

/// Re-reads the config and applies what can change at run time: peers' `rov` modes (the
/// file wins over a mode set over HTTP since; peers are matched by name, so reordering
/// `[[peer]]` tables changes nothing), the `[rov]` settings, and the import checks
/// (`[filters]`, peers' `checks`, `check`, `next_hop`, `irr` and their IRR files), by
/// re-evaluating stored routes (no session is reset), and the HTTP access settings. Anything
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
    let mut recheck = Vec::new();
    // Peers are matched by name: the order of `[[peer]]` tables means nothing.
    for next in &new.peers {
        let Some(i) = config.peers.iter().position(|p| p.name == next.name) else {
            continue;
        };
        config.peers[i].rov = next.rov;
        let shown = running.peers.iter().find(|p| p.id == PeerId(i as u32));
        if shown.is_none_or(|p| p.rov != next.rov) {
            let (peer, rov) = (PeerId(i as u32), next.rov);
            events.push(RibEvent::SetPolicy { peer, rov });
        }
        let p = &mut config.peers[i];
        let before = (p.checks, p.next_hop, std::mem::take(&mut p.irr));
        (p.checks, p.next_hop, p.irr) = (next.checks, next.next_hop, next.irr.clone());
        if before != (p.checks, p.next_hop, p.irr.clone()) || !p.irr.is_empty() {
            recheck.push(i);
        }
    }
    // Import checks: peers whose checks changed, or who have IRR files (read anew), are
    // checked again; all of them when `[filters]` changed.
    if new.filters != config.filters {
        config.filters = new.filters.clone();
        recheck = (0..config.peers.len()).collect();
    }
    events.extend(recheck.into_iter().filter_map(|i| set_checks(config, i)));
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
        warn!("config reload: changes other than rov modes, [rov], import checks and HTTP access need a restart and are not applied");
    }
    info!(changes = events.len(), "config reloaded");
    for event in events {
        // The RIB ends only at shutdown.
        let _ = rib.send(event).await;
    }
}

/// The event that gives peer `i` its import checks as `config` has them, its IRR files
/// read now; none (logged) when a file cannot be read: the peer's checks stay as they are.
pub(super) fn set_checks(config: &Config, i: usize) -> Option<RibEvent> {
    let peer = &config.peers[i];
    match config.filters_for(i) {
        Ok(filters) => Some(RibEvent::SetChecks {
            peer: PeerId(i as u32),
            checks: peer.checks,
            filters: Arc::new(filters),
        }),
        Err(e) => {
            error!(peer = %peer.name, error = %e, "IRR data rejected: the peer's checks stay as they were");
            None
        }
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
