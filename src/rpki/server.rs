//! The RTR server for the members' routers: serves the effective VRP set (caches with
//! failover, files, SLURM) and the ASPAs to RTR v0, v1 and v2 clients.
//!
//! Where it sits: the protocol is the `rpki` crate's [`Server`] (queries, Cache Response,
//! End of Data, Cache Reset, Serial Notify, Error Reports for bad PDUs), one per
//! `[[rtr_server]]`, all over one [`RtrSource`] (`server_source.rs`). A follower task
//! wakes on every snapshot the rpki task publishes ([`VrpStore::follow`]), builds the next
//! served state and its delta off the async threads, swaps it in and sends Serial Notify
//! to every client. The rpki task never waits for it, nor it for any client: each client is
//! the crate's own task reading the current state. Listeners refuse addresses outside
//! `allow` before the crate sees them; connected clients are in `server_clients.rs`.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use futures_util::stream::{self, Stream};
use ipnet::IpNet;
use rpki::rtr::payload::Timing;
use rpki::rtr::server::{NotifySender, Server};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn};

use super::server_clients::{ClientSocket, RtrClient, RtrClients};
use super::server_source::{RtrSource, Served};
use super::VrpStore;

/// One `[[rtr_server]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtrServerConfig {
    /// Where it listens.
    pub listen: SocketAddr,
    /// Refresh, retry and expire sent in End of Data, in seconds (RFC 8210 §6 defaults
    /// 3600, 600, 7200).
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
    /// Client addresses allowed to connect; empty: any.
    pub allow: Vec<IpNet>,
}

/// The RTR server as status shows it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RtrServerView {
    /// Where it listens.
    pub listen: Vec<SocketAddr>,
    /// RTR session ID and serial served now.
    pub session: u16,
    pub serial: u32,
    /// VRPs and ASPAs served.
    pub vrps: usize,
    pub aspas: usize,
    /// Connections refused (not in `allow`) since the start.
    pub refused: u64,
    /// Every connected router.
    pub clients: Vec<RtrClient>,
}

/// The running RTR server; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct RtrServer {
    listen: Vec<SocketAddr>,
    served: Arc<ArcSwap<Served>>,
    clients: Arc<RtrClients>,
}

impl RtrServer {
    /// Whether any `[[rtr_server]]` is configured.
    pub fn configured(&self) -> bool {
        !self.listen.is_empty()
    }

    /// What status and metrics show.
    pub fn view(&self) -> RtrServerView {
        let served = self.served.load();
        let (vrps, aspas) = served.len();
        RtrServerView {
            listen: self.listen.clone(),
            session: served.state.session(),
            serial: served.state.serial().into(),
            vrps,
            aspas,
            refused: self.clients.refused(),
            clients: self.clients.list(),
        }
    }
}

/// Binds every `[[rtr_server]] listen` (so a port in use stops rovgate at startup).
pub async fn bind(configs: &[RtrServerConfig]) -> io::Result<Vec<TcpListener>> {
    let mut listeners = Vec::new();
    for c in configs {
        let listener = TcpListener::bind(c.listen)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("RTR server on {}: {e}", c.listen)))?;
        listeners.push(listener);
    }
    Ok(listeners)
}

/// Serves `store`'s VRP set on `listeners` (bound from `configs`, in order) until shutdown.
pub fn spawn(
    configs: &[RtrServerConfig],
    listeners: Vec<TcpListener>,
    store: VrpStore,
    shutdown: watch::Receiver<bool>,
) -> RtrServer {
    let server = RtrServer {
        listen: configs.iter().map(|c| c.listen).collect(),
        ..RtrServer::default()
    };
    if configs.is_empty() {
        return server;
    }
    let notify = NotifySender::new();
    for (config, listener) in configs.iter().zip(listeners) {
        let timing = Timing {
            refresh: config.refresh,
            retry: config.retry,
            expire: config.expire,
        };
        let source = RtrSource::new(server.served.clone(), store.clone(), timing);
        let accepted = accept(listener, config, server.clients.clone());
        let rtr = Server::new(Box::pin(accepted), notify.clone(), source);
        let mut shutdown = shutdown.clone();
        let listen = config.listen;
        info!(%listen, "RTR server listening");
        tokio::spawn(async move {
            tokio::select! {
                end = rtr.run() => if let Err(e) = end { warn!(%listen, %e, "RTR server stopped") },
                _ = shutdown.changed() => {}
            }
        });
    }
    tokio::spawn(follow(store, server.served.clone(), notify, shutdown));
    server
}

/// Builds the next served state after every published snapshot and tells the clients.
async fn follow(
    store: VrpStore,
    served: Arc<ArcSwap<Served>>,
    mut notify: NotifySender,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut published = store.follow();
    loop {
        let (snapshot, current) = (store.load(), served.load_full());
        // Sorting and diffing the full set takes a while: not on the async threads.
        let next = tokio::task::spawn_blocking(move || {
            current.next(
                snapshot.table.iter().collect(),
                &snapshot.aspas.iter().collect::<Vec<_>>(),
            )
        });
        match next.await {
            Ok(Some(next)) => {
                let (vrps, aspas) = next.len();
                let serial: u32 = next.state.serial().into();
                info!(
                    serial,
                    vrps, aspas, "RTR server: new serial, notifying clients"
                );
                served.store(Arc::new(next));
                notify.notify();
            }
            Ok(None) => {}
            Err(e) => warn!(%e, "RTR server: building the next serial failed"),
        }
        tokio::select! {
            changed = published.changed() => if changed.is_err() { return },
            _ = shutdown.changed() => return,
        }
    }
}

/// The connections `listener` accepts from addresses `config` allows; others are closed
/// at once. Accept errors (out of file descriptors) are logged and retried, never passed
/// on: they would stop the crate's server.
fn accept(
    listener: TcpListener,
    config: &RtrServerConfig,
    clients: Arc<RtrClients>,
) -> impl Stream<Item = io::Result<ClientSocket>> {
    let (allow, listen) = (config.allow.clone(), config.listen);
    stream::unfold(listener, move |listener| {
        let (allow, clients) = (allow.clone(), clients.clone());
        async move {
            loop {
                match listener.accept().await {
                    Ok((sock, address)) => {
                        let ip = address.ip().to_canonical();
                        if allow.is_empty() || allow.iter().any(|net| net.contains(&ip)) {
                            let sock = clients.register(sock, address, listen);
                            return Some((Ok(sock), listener));
                        }
                        warn!(%address, %listen, "RTR client refused: address not in allow");
                        clients.refuse();
                    }
                    Err(e) => {
                        warn!(%listen, %e, "RTR server: accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        }
    })
}
