//! The BGP listener: accepts TCP connections and hands each to its peer's session task.
//!
//! Where it sits: in front of the session tasks. A connection from an address that is no
//! configured peer gets NOTIFICATION Cease / Connection Rejected (RFC 4486) and is closed,
//! counted and logged (rate-limited) by the [`Refuser`]. Accepting backs off while it
//! fails (out of file descriptors), see `accept.rs`. Which address goes to which session
//! changes when a config reload adds, removes or changes peers ([`Routes`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tracing::debug;

use super::abuse::Refuser;
use crate::accept::Acceptor;

/// Where each configured peer's connections go, by the peer's address: read at every
/// accept, replaced whole by a config reload.
pub type Routes = Arc<ArcSwap<HashMap<IpAddr, mpsc::Sender<TcpStream>>>>;

/// Accepts connections until shutdown; `sessions` maps a peer address to its session task,
/// `refuser` refuses the others.
pub async fn run(
    listener: TcpListener,
    sessions: Routes,
    mut refuser: Refuser,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut listener = Acceptor::new(listener, "BGP");
    loop {
        let (stream, from) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        let ip = from.ip().to_canonical();
        let session = sessions.load().get(&ip).cloned();
        match session {
            Some(session) => {
                debug!(%from, "BGP connection accepted");
                if session.send(stream).await.is_err() {
                    debug!(%from, "session task gone; connection dropped");
                }
            }
            None => refuser.unknown_address(stream, from),
        }
    }
}
