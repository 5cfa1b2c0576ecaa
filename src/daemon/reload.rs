//! Live reconfiguration: applies a changed config file to the running daemon with the
//! least disruption. Peers are matched by name (the order of `[[peer]]` tables means
//! nothing): a new peer starts; a removed one is closed with Cease / Peer De-configured
//! (6/3) and its routes withdrawn from everyone; a peer whose session terms changed
//! (address, AS, port, passive, role, max-prefix, timers, ...) is reset with Cease / Other
//! Configuration Change (6/6); a policy change (`rov`, import checks, IRR files, `[filters]`,
//! `[rov]`) re-applies to the stored routes and no session notices. `[rpki]` caches, VRP
//! files and SLURM files are added and removed (the rpki task starts and stops their tasks;
//! the RIB re-evaluates routes as on any VRP change). A config that does not load changes
//! nothing.
//!
//! Where it sits: `signals.rs` calls [`reload`] on SIGHUP and on a [`Request`] from
//! `POST /api/v1/reload`; it sends the RIB `AddPeer`/`RemovePeer`/`SetPolicy`/`SetChecks`
//! and starts and closes sessions through `sessions.rs`, and the rpki task the new sources.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::oneshot;
use tracing::{error, info, warn};

use super::{peer_info, Daemon};
use crate::bgp::Reason;
use crate::config::{Config, ConfigError, NextHopMode, PeerConfig, ServerConfig};
use crate::policy::Filters;
use crate::rib::RibEvent;
use crate::route::abuse::PeerAbuse;
use crate::route::PeerId;

/// A reload asked for over HTTP; the reply says what it changed, or why it changed nothing.
#[derive(Debug)]
pub struct Request {
    /// Where the outcome goes.
    pub reply: oneshot::Sender<Result<Applied, ReloadError>>,
}

/// What a reload changed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Applied {
    /// Peers started.
    pub added: Vec<String>,
    /// Peers closed (Cease 6/3), their routes withdrawn.
    pub removed: Vec<String>,
    /// Peers whose session was reset (Cease 6/6) for a change of its terms.
    pub reset: Vec<String>,
    /// Peers whose stored routes were evaluated again for a policy change, no reset.
    pub policy: Vec<String>,
    /// `[rpki]` caches (by address) and VRP and SLURM files (by path) started and stopped.
    pub rpki: crate::rpki::SourceChanges,
    /// Changes that wait for a restart (a `[server]` key other than the HTTP access, an
    /// `[rpki]` key other than the sources, ...), by table; empty when everything was applied.
    pub need_restart: Vec<&'static str>,
    /// From reading the file to the last change handed to the RIB and the sessions.
    pub elapsed_ms: f64,
}

/// Why a reload changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// rovgate runs its embedded config.
    #[error("no config file to reload: rovgate runs its embedded config")]
    NoFile,
    /// The file does not load (the error names file, line and key).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A new or changed peer's IRR files cannot be read.
    #[error("peer {peer}: {message}")]
    Irr {
        /// The peer named.
        peer: String,
        /// The file and why.
        message: String,
    },
    /// The RIB is gone (shutting down).
    #[error("rovgate is shutting down")]
    Stopping,
}

/// Re-reads the config at `path` and applies it to `daemon`, `config` being what runs; on
/// an error nothing changes. Logs the outcome either way.
pub(super) async fn reload(
    config: &mut Config,
    path: Option<&Path>,
    daemon: &mut Daemon,
) -> Result<Applied, ReloadError> {
    let started = Instant::now();
    let mut outcome = apply(config, path, daemon).await;
    match &mut outcome {
        Ok(applied) => {
            if !applied.need_restart.is_empty() {
                warn!(tables = ?applied.need_restart, "config reload: these changes need a restart and are not applied");
            }
            applied.elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
            info!(
                added = applied.added.len(),
                removed = applied.removed.len(),
                reset = applied.reset.len(),
                policy = applied.policy.len(),
                elapsed_ms = applied.elapsed_ms,
                "config reloaded"
            );
        }
        Err(e) => error!(error = %e, "config reload failed: the running config stays"),
    }
    outcome
}

async fn apply(
    config: &mut Config,
    path: Option<&Path>,
    daemon: &mut Daemon,
) -> Result<Applied, ReloadError> {
    let new = Config::load(path.ok_or(ReloadError::NoFile)?)?;
    let plan = Plan::of(config, &new);
    // What started peers are checked against is read first: a file that cannot be read
    // changes nothing.
    let starting = (plan.added.iter().chain(&plan.reset)).map(|&i| {
        let filters = new.filters_for(i).map_err(|message| ReloadError::Irr {
            peer: new.peers[i].name.clone(),
            message,
        });
        filters.map(|f| (i, Arc::new(f)))
    });
    let starting: Vec<(usize, Arc<Filters>)> = starting.collect::<Result<_, _>>()?;
    let closing = (plan
        .removed
        .iter()
        .map(|&i| (&config.peers[i], Reason::PeerDeconfigured)))
    .chain(
        plan.reset
            .iter()
            .map(|&j| (&new.peers[j], Reason::OtherConfigurationChange)),
    );
    for (peer, why) in closing {
        if let Some(peer) = daemon.sessions.close(&peer.name, why) {
            send(daemon, RibEvent::RemovePeer { peer }).await?;
        }
    }
    for (i, filters) in starting {
        let peer = &new.peers[i];
        let abuse = Arc::<PeerAbuse>::default();
        let info = peer_info(((peer, &abuse), filters));
        let (reply, id) = oneshot::channel();
        send(daemon, RibEvent::AddPeer { info, reply }).await?;
        let id = id.await.map_err(|_| ReloadError::Stopping)?;
        daemon.sessions.start(&config.server, peer, id, abuse);
    }
    daemon.sessions.publish();
    let rpki = config.rpki.with_sources_of(&new.rpki);
    let sources = match rpki != config.rpki {
        true => (daemon.rpki.reconfigure(rpki.clone()).await).ok_or(ReloadError::Stopping)?,
        false => Default::default(),
    };
    let applied = Applied {
        removed: names(&config.peers, &plan.removed),
        added: names(&new.peers, &plan.added),
        reset: names(&new.peers, &plan.reset),
        policy: apply_policy(config, &new, &plan, daemon).await?,
        rpki: sources,
        need_restart: need_restart(config, &new),
        elapsed_ms: 0.0,
    };
    // What waits for a restart stays as it runs, so the next reload names it again.
    let running = std::mem::replace(config, new);
    config.server = running_server(&running.server, &config.server);
    config.rpki = rpki;
    config.report = running.report;
    config.http = running.http;
    config.rtr_servers = running.rtr_servers;
    config.bmp = running.bmp;
    Ok(applied)
}

fn names(peers: &[PeerConfig], which: &[usize]) -> Vec<String> {
    which.iter().map(|&i| peers[i].name.clone()).collect()
}

async fn send(daemon: &Daemon, event: RibEvent) -> Result<(), ReloadError> {
    (daemon.rib.send(event).await).map_err(|_| ReloadError::Stopping)
}

/// Which peers a reload starts, closes and resets, by name: indexes into the running
/// config's peers (`removed`) and the new one's (the others).
pub(super) struct Plan {
    pub(super) removed: Vec<usize>,
    pub(super) added: Vec<usize>,
    pub(super) reset: Vec<usize>,
    /// Peers in both whose session stays: (running index, new index).
    pub(super) kept: Vec<(usize, usize)>,
}

impl Plan {
    pub(super) fn of(running: &Config, new: &Config) -> Plan {
        let find = |c: &Config, name: &str| c.peers.iter().position(|p| p.name == name);
        let mut plan = Plan {
            removed: (0..running.peers.len())
                .filter(|&i| find(new, &running.peers[i].name).is_none())
                .collect(),
            added: Vec::new(),
            reset: Vec::new(),
            kept: Vec::new(),
        };
        for (j, next) in new.peers.iter().enumerate() {
            match find(running, &next.name) {
                None => plan.added.push(j),
                Some(i) if needs_reset(&running.peers[i], next) => plan.reset.push(j),
                Some(i) => plan.kept.push((i, j)),
            }
        }
        plan
    }
}

/// Whether going from `old` to `new` needs a new session: anything but the policy (`rov`,
/// import checks, next-hop mode, IRR files) changed.
pub(super) fn needs_reset(old: &PeerConfig, new: &PeerConfig) -> bool {
    let policy_as_old = PeerConfig {
        rov: old.rov,
        checks: old.checks,
        next_hop: old.next_hop,
        irr: old.irr.clone(),
        ..new.clone()
    };
    policy_as_old != *old
}

/// Applies the policy of the peers whose sessions stay: `rov` modes, import checks (their
/// own, or `[filters]` for all; IRR files read anew), the `[rov]` settings, the HTTP
/// access. Returns the peers whose routes are evaluated again.
async fn apply_policy(
    config: &Config,
    new: &Config,
    plan: &Plan,
    daemon: &Daemon,
) -> Result<Vec<String>, ReloadError> {
    let running = daemon.view.load();
    // A peer of `next_hop = "same-as"` checks against its AS's other peers' addresses.
    let changed_asns: HashSet<_> = (plan.removed.iter().map(|&i| &config.peers[i]))
        .chain(plan.added.iter().chain(&plan.reset).map(|&j| &new.peers[j]))
        .map(|p| p.asn)
        .collect();
    let mut events = Vec::new();
    let mut touched = Vec::new();
    for &(i, j) in &plan.kept {
        let (old, next) = (&config.peers[i], &new.peers[j]);
        let Some(peer) = daemon.sessions.id(&next.name) else {
            continue;
        };
        // The file wins over a mode set over HTTP since.
        let shown = running.peers.iter().find(|p| p.id == peer);
        let rov = shown.is_none_or(|p| p.rov != next.rov);
        if rov {
            events.push(RibEvent::SetPolicy {
                peer,
                rov: next.rov,
            });
        }
        let same_as = next.next_hop == NextHopMode::SameAs && changed_asns.contains(&next.asn);
        let checks = (old.checks, old.next_hop, &old.irr)
            != (next.checks, next.next_hop, &next.irr)
            || !next.irr.is_empty()
            || new.filters != config.filters
            || same_as;
        if checks {
            events.extend(set_checks(new, j, peer));
        }
        if rov || checks {
            touched.push(next.name.clone());
        }
    }
    if new.rov != config.rov {
        let tagging = new.rov.tagging(config.server.asn.0);
        let mass = new.rov.mass;
        events.push(RibEvent::SetRovConfig { tagging, mass });
    }
    if new.server.http_access != config.server.http_access {
        (daemon.access).store(Arc::new(new.server.http_access.clone()));
        info!("HTTP access (token, names) reloaded");
    }
    for event in events {
        send(daemon, event).await?;
    }
    Ok(touched)
}

/// The event that gives peer `i` of `config` (the RIB's `peer`) its import checks, its IRR
/// files read now; none (logged) when a file cannot be read: the peer's checks stay as
/// they are.
pub(super) fn set_checks(config: &Config, i: usize, peer: PeerId) -> Option<RibEvent> {
    let p = &config.peers[i];
    match config.filters_for(i) {
        Ok(filters) => Some(RibEvent::SetChecks {
            peer,
            checks: p.checks,
            filters: Arc::new(filters),
        }),
        Err(e) => {
            error!(peer = %p.name, error = %e, "IRR data rejected: the peer's checks stay as they were");
            None
        }
    }
}

/// The tables whose changes wait for a restart.
pub(super) fn need_restart(running: &Config, new: &Config) -> Vec<&'static str> {
    let mut tables = Vec::new();
    if running_server(&running.server, &new.server) != new.server {
        tables.push("server");
    }
    if running.rpki.with_sources_of(&new.rpki) != new.rpki {
        tables.push("rpki");
    }
    if running.report != new.report {
        tables.push("report");
    }
    if running.http != new.http {
        tables.push("http");
    }
    if running.rtr_servers != new.rtr_servers {
        tables.push("rtr_server");
    }
    if running.bmp != new.bmp {
        tables.push("bmp");
    }
    tables
}

/// The `[server]` that runs after a reload to `new`: the running one, with `new`'s HTTP
/// access (the only key applied live).
fn running_server(running: &ServerConfig, new: &ServerConfig) -> ServerConfig {
    ServerConfig {
        http_access: new.http_access.clone(),
        ..running.clone()
    }
}
