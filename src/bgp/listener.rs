//! The BGP listener: accepts TCP connections and hands each to its peer's session task.
//!
//! Where it sits: in front of the session tasks. A connection from an address that is no
//! configured peer gets NOTIFICATION Cease / Connection Rejected (RFC 4486) and is closed.
//! Accepting backs off while it fails (out of file descriptors), see `accept.rs`.

use std::collections::HashMap;
use std::net::IpAddr;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tracing::{debug, info};

use super::{wire, Notification};
use crate::accept::Acceptor;

/// Cease / Connection Rejected.
const REJECTED: (u8, u8) = (6, 5);

/// Accepts connections until shutdown; `sessions` maps a peer address to its session task.
pub async fn run(
    listener: TcpListener,
    sessions: HashMap<IpAddr, mpsc::Sender<TcpStream>>,
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
            None => {
                info!(%from, "BGP connection from an address that is not a configured peer: rejected");
                tokio::spawn(reject(stream));
            }
        }
    }
}

/// Sends Cease / Connection Rejected and closes.
async fn reject(mut stream: TcpStream) {
    let (code, subcode) = REJECTED;
    let notification = wire::notification(&Notification::new(code, subcode, Vec::new()));
    // The peer may already be gone; there is nothing more to do either way.
    let _ = stream.write_all(&notification).await;
    let _ = stream.shutdown().await;
}
