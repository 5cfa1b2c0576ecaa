//! The BGP listener: accepts TCP connections and hands each to its peer's session task.
//!
//! Where it sits: in front of the session tasks. A connection from an address that is no
//! configured peer gets NOTIFICATION Cease / Connection Rejected (RFC 4486) and is closed,
//! counted and logged (rate-limited) by the [`Refuser`]. Accepting backs off while it
//! fails (out of file descriptors), see `accept.rs`.

use std::collections::HashMap;
use std::net::IpAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tracing::debug;

use super::abuse::Refuser;
use crate::accept::Acceptor;

/// Accepts connections until shutdown; `sessions` maps a peer address to its session task,
/// `refuser` refuses the others.
pub async fn run(
    listener: TcpListener,
    sessions: HashMap<IpAddr, mpsc::Sender<TcpStream>>,
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
        match sessions.get(&ip) {
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
