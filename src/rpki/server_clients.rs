//! The RTR server's connected routers, for status and metrics.
//!
//! Where it sits: the server's listeners (`server.rs`) wrap each accepted connection in a
//! [`ClientSocket`] registered in [`RtrClients`]; the `rpki` crate's connection reads and
//! writes through it and calls [`Socket::update`] after each End of Data it sent, which
//! records the client's serial. The crate does not expose the version a client speaks, so
//! the socket notes it from the first byte the client sends (every PDU starts with its
//! version). Dropping the socket (the connection ended) removes the client.
//!
//! Writes are buffered: the crate writes each PDU on its own, which unbuffered would be one
//! system call per VRP. It flushes after End of Data, but not after Serial Notify, Cache
//! Reset or No Data, so the socket also flushes before it waits to read, which the crate
//! does after each of those.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::SystemTime;

use rpki::rtr::server::Socket;
use rpki::rtr::state::State;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, BufWriter, ReadBuf};
use tokio::net::TcpStream;
use tracing::info;

use super::status::unix_seconds;

/// How many bytes of PDUs are buffered per client before they go out.
const WRITE_BUFFER: usize = 32 * 1024;

/// One connected router as status shows it.
#[derive(Clone, Debug, Serialize)]
pub struct RtrClient {
    /// The router's address and port.
    pub address: SocketAddr,
    /// The `[[rtr_server]] listen` it connected to.
    pub listen: SocketAddr,
    /// The RTR version it speaks (from its first PDU).
    pub version: Option<u8>,
    /// The serial it was last brought to.
    pub serial: Option<u32>,
    /// When it connected (Unix seconds in JSON).
    #[serde(serialize_with = "unix_seconds")]
    pub connected: Option<SystemTime>,
    /// When it last got an End of Data.
    #[serde(serialize_with = "unix_seconds")]
    pub last_update: Option<SystemTime>,
    /// Reset queries answered.
    pub resets: u64,
    /// Serial queries answered with data.
    pub serial_updates: u64,
}

/// Every connected router, and how many were refused.
#[derive(Debug, Default)]
pub struct RtrClients {
    next: AtomicU64,
    clients: Mutex<BTreeMap<u64, RtrClient>>,
    refused: AtomicU64,
}

impl RtrClients {
    /// The connected routers, in order of connection.
    pub fn list(&self) -> Vec<RtrClient> {
        self.lock().values().cloned().collect()
    }

    /// Connections refused since the start (address not in `allow`).
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Counts a refused connection.
    pub fn refuse(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Registers an accepted connection from `address` on `listen`.
    pub fn register(
        self: &Arc<Self>,
        stream: TcpStream,
        address: SocketAddr,
        listen: SocketAddr,
    ) -> ClientSocket {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let client = RtrClient {
            address,
            listen,
            version: None,
            serial: None,
            connected: Some(SystemTime::now()),
            last_update: None,
            resets: 0,
            serial_updates: 0,
        };
        self.lock().insert(id, client);
        info!(%address, %listen, "RTR client connected");
        ClientSocket {
            stream: BufWriter::with_capacity(WRITE_BUFFER, stream),
            id,
            clients: self.clone(),
            version_seen: false,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, RtrClient>> {
        // A panic while holding the lock leaves plain data behind: still usable.
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn edit(&self, id: u64, f: impl FnOnce(&mut RtrClient)) {
        if let Some(c) = self.lock().get_mut(&id) {
            f(c);
        }
    }
}

/// A router's TCP connection, keeping its entry in [`RtrClients`] current.
#[derive(Debug)]
pub struct ClientSocket {
    stream: BufWriter<TcpStream>,
    id: u64,
    clients: Arc<RtrClients>,
    version_seen: bool,
}

impl Socket for ClientSocket {
    fn update(&self, state: State, reset: bool) {
        self.clients.edit(self.id, |c| {
            c.serial = Some(state.serial().into());
            c.last_update = Some(SystemTime::now());
            match reset {
                true => c.resets += 1,
                false => c.serial_updates += 1,
            }
        });
    }
}

impl Drop for ClientSocket {
    fn drop(&mut self) {
        if let Some(c) = self.clients.lock().remove(&self.id) {
            info!(address = %c.address, serial = ?c.serial, "RTR client disconnected");
        }
    }
}

impl AsyncRead for ClientSocket {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // Whatever the crate wrote goes out before it waits for the client.
        std::task::ready!(Pin::new(&mut self.stream).poll_flush(cx))?;
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        if !self.version_seen && buf.filled().len() > before {
            // The first byte a client sends is its first PDU's version.
            let version = buf.filled()[before];
            self.version_seen = true;
            self.clients.edit(self.id, |c| c.version = Some(version));
        }
        poll
    }
}

impl AsyncWrite for ClientSocket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
