//! The BMP station (RFC 7854): an ISP's routers stream their neighbours' routes to
//! rovgate, which validates and reports them without being in any forwarding path.
//!
//! ```text
//!  router ──TCP──► listener ──TcpStream (by source address)──► router task ──RibEvent──► RIB
//!                  (unlisted: refused)                          message.rs: frame, read
//!                                                               router.rs: neighbours as peers
//! ```
//!
//! Each neighbour view becomes a RIB peer named `router/neighbour` (`/post-policy` for the
//! post-policy Adj-RIB-In, `router/loc-rib` for RFC 9069's Loc-RIB): `PeerInfo::monitored`,
//! ROV in shadow, so its paths are validated, re-validated on VRP changes and reported like
//! a session's, and never selected for or exported to anyone. Read `router.rs` first.

pub mod export;
mod export_wire;
mod message;
mod mirror;
mod router;

pub use export_wire::Local;

use std::collections::HashMap;
use std::net::IpAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::warn;

use crate::config::{BmpConfig, Defaults};
use crate::rib::RibEvent;

/// Starts the station: one task per configured router, one per listener; returns them.
pub fn spawn(
    config: &BmpConfig,
    defaults: &Defaults,
    listeners: Vec<TcpListener>,
    rib: &mpsc::Sender<RibEvent>,
    shutdown: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let mut routers = HashMap::new();
    let mut tasks = Vec::new();
    for r in &config.routers {
        let (tx, connections) = mpsc::channel(1);
        routers.insert(r.address, tx);
        let router = router::Router {
            config: r.clone(),
            defaults: defaults.clone(),
            rib: rib.clone(),
            hold: config.hold,
        };
        tasks.push(tokio::spawn(router::run(
            router,
            connections,
            shutdown.clone(),
        )));
    }
    for listener in listeners {
        let run = listen(listener, routers.clone(), shutdown.clone());
        tasks.push(tokio::spawn(run));
    }
    tasks
}

/// Accepts routers' connections and hands each to its router's task; an unlisted router,
/// or one connected already, is refused with a log line.
async fn listen(
    listener: TcpListener,
    routers: HashMap<IpAddr, mpsc::Sender<TcpStream>>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        let (stream, from) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                warn!(%error, "BMP accept failed");
                continue;
            }
        };
        let router = from.ip().to_canonical();
        match routers.get(&router).map(|tx| tx.try_send(stream)) {
            None => warn!(%router, "BMP connection from an unlisted router: refused"),
            Some(Ok(())) => {}
            Some(Err(_)) => warn!(%router, "BMP router is connected already: refused"),
        }
    }
}
