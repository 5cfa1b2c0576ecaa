//! BMP export: rovgate connects to each configured station (`[[bmp.station]]`) and
//! streams its members' routes: Initiation, a Peer Up per established member, Route
//! Monitoring of each member's Adj-RIB-In pre-policy and post-policy (with the verdict)
//! and of the Loc-RIB (RFC 9069), Peer Down, periodic Statistics Reports, Termination on
//! shutdown. A lost station is connected again with backoff.
//!
//! ```text
//!  RIB ──TableChanges (broadcast, bounded; never waits)──► station task ──TCP──► station
//!   ▲ RibQuery::Table (the starting snapshot)                 │ mirror.rs: what it holds
//!   └──────────────────────────────────────────────────────────┘ export_wire.rs: bytes
//!  RibView (ArcSwap): which members are up, their counts ──► Peer Up/Down, Statistics
//! ```
//!
//! The routing task never waits on a station: it only sends on the broadcast channel. A
//! station's task takes every change at once and queues its bytes while the station reads
//! them; a station that lets more than [`MAX_BACKLOG`] bytes wait (after its initial
//! dump), or whose task falls [`TABLE_FEED`](crate::rib::TABLE_FEED) batches behind,
//! costs only its own stream: it is cut, and the next connection starts again from a
//! snapshot.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{interval, sleep, Interval, MissedTickBehavior};
use tracing::{info, warn};

use super::export_wire::{self as wire, Local};
use super::mirror::{Mirror, Routes};
use crate::config::BmpStation;
use crate::rib::{PeerView, RibQuery, SharedView, TableFeed};
use crate::route::PeerId;

/// The first wait before connecting again, doubled up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How many bytes may wait for a station, beyond its initial dump, before it is cut.
const MAX_BACKLOG: usize = 64 << 20;
/// How often the members' sessions are looked at for Peer Up and Peer Down.
const PEER_CHECK: Duration = Duration::from_secs(1);

/// What every station's task reads.
pub struct Exporter {
    /// Who rovgate is.
    pub local: Local,
    /// The RIB's changed prefixes.
    pub feed: TableFeed,
    /// The RIB's query channel (for the snapshot a stream starts from).
    pub queries: mpsc::Sender<RibQuery>,
    /// The RIB's published view (members, their sessions and counts).
    pub view: SharedView,
}

/// Starts one task per station; returns them.
pub fn spawn(
    stations: &[BmpStation],
    exporter: Exporter,
    shutdown: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let exporter = Arc::new(exporter);
    let run = |s: &BmpStation| tokio::spawn(run(s.clone(), exporter.clone(), shutdown.clone()));
    stations.iter().map(run).collect()
}

/// Connects to `station` and streams to it until shutdown, connecting again with backoff.
async fn run(station: BmpStation, exporter: Arc<Exporter>, mut shutdown: watch::Receiver<bool>) {
    let address = station.address;
    let mut backoff = MIN_BACKOFF;
    loop {
        let connected = tokio::select! {
            connected = TcpStream::connect(address) => connected,
            _ = shutdown.changed() => return,
        };
        match connected {
            Ok(tcp) => {
                info!(%address, "BMP station connected: streaming the members' routes");
                backoff = MIN_BACKOFF;
                let mut stream = Stream::new(&exporter, &station, tcp);
                match stream.run(&mut shutdown).await {
                    Ok(()) => return,
                    Err(why) => warn!(%address, %why, "BMP station stream cut"),
                }
            }
            Err(error) => warn!(%address, %error, ?backoff, "BMP station not reached"),
        }
        tokio::select! {
            () = sleep(backoff) => {}
            _ = shutdown.changed() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection to a station.
struct Stream<'a> {
    exporter: &'a Exporter,
    tcp: TcpStream,
    mirror: Mirror,
    /// The members it was sent a Peer Up for.
    up: HashMap<PeerId, PeerView>,
    statistics: Option<Interval>,
    /// Bytes not written yet.
    pending: BytesMut,
    /// How many may wait beyond the initial dump ([`MAX_BACKLOG`]).
    backlog: usize,
    /// How many may wait before the station is cut.
    limit: usize,
}

impl<'a> Stream<'a> {
    fn new(exporter: &'a Exporter, station: &BmpStation, tcp: TcpStream) -> Self {
        let statistics = station.statistics.map(|every| {
            let mut tick = interval(every);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            tick
        });
        Stream {
            exporter,
            tcp,
            mirror: Mirror::default(),
            up: HashMap::new(),
            statistics,
            pending: BytesMut::new(),
            backlog: MAX_BACKLOG,
            limit: MAX_BACKLOG,
        }
    }

    /// Streams until shutdown (Ok, after Termination) or until the stream is cut (why).
    async fn run(&mut self, shutdown: &mut watch::Receiver<bool>) -> Result<(), String> {
        let mut changes = self.exporter.feed.subscribe();
        let (reply, snapshot) = oneshot::channel();
        let asked = self.exporter.queries.send(RibQuery::Table { reply });
        asked.await.map_err(|_| "the RIB is gone")?;
        let snapshot = snapshot.await.map_err(|_| "the RIB is gone")?;
        let local = &self.exporter.local;
        let mut out = wire::initiation(local);
        out.extend(wire::loc_rib_up(local));
        self.check_peers(&mut out);
        let routes = self.mirror.apply(&snapshot);
        drop(snapshot);
        self.monitor(&routes, &mut out);
        for peer in self.up.values() {
            wire::end_of_rib(peer, &mut out);
        }
        self.limit = out.len() + self.backlog;
        self.pending.extend_from_slice(&out);
        let mut peers = interval(PEER_CHECK);
        loop {
            let mut out = Vec::new();
            tokio::select! {
                written = self.tcp.write_buf(&mut self.pending), if !self.pending.is_empty() => {
                    if written.map_err(|e| e.to_string())? == 0 {
                        return Err("the station closed the connection".into());
                    }
                    if self.pending.is_empty() {
                        // Give the memory of a big dump back.
                        self.pending = BytesMut::new();
                    }
                    continue;
                }
                changed = changes.recv() => match changed {
                    Ok(changes) => {
                        let routes = self.mirror.apply(&changes);
                        self.monitor(&routes, &mut out);
                    }
                    Err(RecvError::Lagged(n)) => return Err(format!("fell {n} batches behind")),
                    Err(RecvError::Closed) => return Err("the RIB is gone".into()),
                },
                _ = peers.tick() => self.check_peers(&mut out),
                _ = tick(&mut self.statistics) => self.statistics(&mut out),
                _ = shutdown.changed() => {
                    self.pending.extend_from_slice(&wire::termination());
                    let written = self.tcp.write_all_buf(&mut self.pending).await;
                    return written.map_err(|e| e.to_string());
                }
            }
            self.pending.extend_from_slice(&out);
            if self.pending.len() > self.limit {
                let waiting = self.pending.len();
                return Err(format!("it reads too slowly: {waiting} bytes waiting"));
            }
        }
    }

    /// Route Monitoring for `routes`, after a Peer Up for each member they name that had
    /// none (its first route may come before the view shows its session up).
    fn monitor(&mut self, routes: &Routes, out: &mut Vec<u8>) {
        let view = self.exporter.view.load();
        for peer in routes.peers() {
            if self.up.contains_key(&peer) {
                continue;
            }
            let v = view.peers.iter().find(|v| v.id == peer);
            if let Some((v, up)) = v.and_then(|v| Some((v, wire::peer_up(v)?))) {
                out.extend(up);
                self.up.insert(peer, v.clone());
            }
        }
        let local = &self.exporter.local;
        wire::route_monitoring(local, routes, |p| self.up.get(&p), out);
    }

    /// Peer Up for members whose session came up, Peer Down for those whose ended or
    /// that were removed; nothing while the view is older than the routes sent.
    fn check_peers(&mut self, out: &mut Vec<u8>) {
        let view = self.exporter.view.load();
        if view.generation < self.mirror.generation {
            return;
        }
        let members = view.peers.iter().filter(|v| !v.monitored);
        for v in members {
            match (v.up, self.up.contains_key(&v.id)) {
                (true, false) => {
                    if let Some(up) = wire::peer_up(v) {
                        out.extend(up);
                        self.up.insert(v.id, v.clone());
                    }
                }
                (false, true) => {
                    out.extend(wire::peer_down(v, false));
                    self.up.remove(&v.id);
                    self.mirror.forget(v.id);
                }
                _ => {}
            }
        }
        let removed = (self.up.keys().copied())
            .filter(|id| !view.peers.iter().any(|v| v.id == *id))
            .collect::<Vec<_>>();
        for id in removed {
            if let Some(v) = self.up.remove(&id) {
                out.extend(wire::peer_down(&v, true));
                self.mirror.forget(id);
            }
        }
    }

    /// A Statistics Report for every member that is up.
    fn statistics(&mut self, out: &mut Vec<u8>) {
        let view = self.exporter.view.load();
        let counts = self.mirror.statistics();
        for peer in view.peers.iter().filter(|v| self.up.contains_key(&v.id)) {
            let families = counts.get(&peer.id).copied().unwrap_or_default();
            out.extend(wire::statistics(peer, &families));
        }
    }
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;

/// The next tick of `every`; never, without one.
async fn tick(every: &mut Option<Interval>) {
    match every {
        Some(every) => drop(every.tick().await),
        None => std::future::pending().await,
    }
}
