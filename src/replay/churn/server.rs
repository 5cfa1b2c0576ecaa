//! The built-in RTR cache of a churn replay: the `rpki` crate's [`rpki::rtr::server`] over
//! a [`Walk`], its clients, and when they may get a Serial Notify.
//!
//! Where it sits: `churn.rs` creates one [`Shared`] per replay and hands [`Source`] and
//! [`accept`] to the crate's `Server`, which runs one task per client connection. The churn
//! task (in `churn.rs`) calls [`Shared::publish`] once per tick and [`Shared::maybe_notify`]
//! whenever a tick or a client may allow a Serial Notify.
//!
//! The crate's server sends a Serial Notify to every connection at once, whatever the
//! connection is doing, and the crate's own client (rovgate's) fails when a Serial Notify
//! arrives between its query and the Cache Response (or before its first one). So
//! [`Shared::maybe_notify`] notifies only when every client has loaded the set and
//! answered the last Serial Notify with a query; serials published meanwhile reach the
//! client in the next delta. A client that does neither for a while stops holding the
//! others back (see [`QUIET_CLIENT`], [`UNANSWERED`]).

use std::collections::BTreeSet;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use foldhash::HashMap;
use futures_util::Stream;
use rpki::rtr::payload::Timing;
use rpki::rtr::server::{NotifySender, PayloadSource, Socket};
use rpki::rtr::state::State;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{debug, info};

use super::walk::{Delta, FullSet, Walk};
use crate::accept::Acceptor;
use crate::rpki::Vrp;

/// The timing sent in End of Data (RTR v1 and v2): a short retry, so that a device which
/// lost the session is back quickly during a benchmark.
const TIMING: Timing = Timing {
    refresh: 600,
    retry: 5,
    expire: 7200,
};
/// How long a connection may stay without a completed query before it no longer holds back
/// Serial Notifies (a port probe, a client that never asks).
const QUIET_CLIENT: Duration = Duration::from_secs(30);
/// How long a client may leave a Serial Notify unanswered before it no longer holds back
/// the next one.
const UNANSWERED: Duration = Duration::from_secs(10);

/// One client connection, as the registry sees it.
#[derive(Debug)]
struct Client {
    peer: SocketAddr,
    since: Instant,
    /// The serial of the last response sent to it.
    serial: Option<u32>,
    /// When it was sent a Serial Notify it has not answered yet.
    notified: Option<Instant>,
}

impl Client {
    /// Whether a Serial Notify now cannot cross a query of this client.
    fn ready(&self, now: Instant) -> bool {
        match (self.serial, self.notified) {
            (None, _) => now.duration_since(self.since) > QUIET_CLIENT,
            (Some(_), Some(at)) => now.duration_since(at) > UNANSWERED,
            (Some(_), None) => true,
        }
    }
}

/// Connections and counters, behind one lock so that a Serial Notify and a new connection
/// never cross.
#[derive(Debug, Default)]
struct Registry {
    next_id: u64,
    clients: HashMap<u64, Client>,
    /// The serial of the last Serial Notify.
    notified: u32,
    /// Counters since the server started.
    counters: Counters,
}

/// What clients fetched, since the server started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    /// Serial Notify broadcasts.
    pub notifies: u64,
    /// Reset responses sent.
    pub resets: u64,
    /// Serial (delta) responses sent.
    pub deltas: u64,
    /// RTR versions clients spoke (the first byte of their first PDU).
    pub versions: BTreeSet<u8>,
    /// The lowest serial among connected clients that completed a query.
    pub client_serial: Option<u32>,
}

/// What the server, its connections and the churn task share.
#[derive(Debug)]
pub(crate) struct Shared {
    walk: Arc<Walk>,
    session: u16,
    serial: AtomicU32,
    registry: Mutex<Registry>,
    /// Bumped whenever the registry changes.
    changed: watch::Sender<()>,
    notify: NotifySender,
}

impl Shared {
    /// The state for `vrps`, churning `size` VRPs per serial, at serial 0.
    pub(crate) fn new(vrps: Vec<Vrp>, size: usize) -> Shared {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Shared {
            walk: Arc::new(Walk::new(vrps, size)),
            session: (nanos ^ std::process::id()) as u16,
            serial: AtomicU32::new(0),
            registry: Mutex::default(),
            changed: watch::Sender::new(()),
            notify: NotifySender::new(),
        }
    }

    /// How many VRPs the file holds (serial 0 serves them all).
    pub(crate) fn len(&self) -> usize {
        self.walk.len()
    }

    /// The session ID.
    pub(crate) fn session(&self) -> u16 {
        self.session
    }

    /// The current serial.
    pub(crate) fn serial(&self) -> u32 {
        self.serial.load(Ordering::SeqCst)
    }

    /// A sender for the crate's server to subscribe connections with.
    pub(crate) fn notify_sender(&self) -> NotifySender {
        self.notify.clone()
    }

    /// Wakes on every change of the clients.
    pub(crate) fn subscribe(&self) -> watch::Receiver<()> {
        self.changed.subscribe()
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes the next serial; returns the VRPs it announces and withdraws.
    pub(crate) fn publish(&self) -> (u64, u64) {
        let serial = self.serial.fetch_add(1, Ordering::SeqCst) + 1;
        let size = self.walk.size() as u64;
        (if serial >= 2 { size } else { 0 }, size)
    }

    /// Sends a Serial Notify for the current serial when a client lacks it, unless it was
    /// notified already or a client is not [ready](Client::ready); returns whether it sent
    /// one.
    pub(crate) fn maybe_notify(&self) -> bool {
        let mut registry = self.lock();
        let now = Instant::now();
        let current = self.serial();
        let clients = &registry.clients;
        let needed = clients.values().any(|c| c.serial != Some(current));
        if current == registry.notified || !needed || !clients.values().all(|c| c.ready(now)) {
            return false;
        }
        registry.notified = current;
        registry.counters.notifies += 1;
        for client in registry.clients.values_mut() {
            client.notified = Some(now);
        }
        self.notify.clone().notify();
        debug!(serial = current, "RTR Serial Notify");
        true
    }

    /// Whether some client completed a query and every such client has the current serial.
    pub(crate) fn settled(&self) -> bool {
        let current = self.serial();
        let registry = self.lock();
        let mut synced = registry
            .clients
            .values()
            .filter_map(|c| c.serial)
            .peekable();
        synced.peek().is_some() && synced.all(|s| s == current)
    }

    /// The counters, with the lowest serial of the clients connected now.
    pub(crate) fn counters(&self) -> Counters {
        let registry = self.lock();
        let mut counters = registry.counters.clone();
        counters.client_serial = registry.clients.values().filter_map(|c| c.serial).min();
        counters
    }

    fn update(&self, f: impl FnOnce(&mut Registry)) {
        f(&mut self.lock());
        self.changed.send_replace(());
    }
}

/// The [`PayloadSource`] the crate's server reads.
#[derive(Clone, Debug)]
pub(crate) struct Source(pub(crate) Arc<Shared>);

impl PayloadSource for Source {
    type Set = FullSet;
    type Diff = Delta;

    fn ready(&self) -> bool {
        true
    }

    fn notify(&self) -> State {
        State::from_parts(self.0.session, self.0.serial().into())
    }

    fn full(&self) -> (State, FullSet) {
        let serial = self.0.serial();
        let state = State::from_parts(self.0.session, serial.into());
        (state, self.0.walk.set(serial))
    }

    fn diff(&self, state: State) -> Option<(State, Delta)> {
        let (from, to) = (state.serial().0, self.0.serial());
        if state.session() != self.0.session || from > to {
            return None;
        }
        let state = State::from_parts(self.0.session, to.into());
        Some((state, self.0.walk.delta(from, to)))
    }

    fn timing(&self) -> Timing {
        TIMING
    }
}

/// The connections of `listener`, each registered before the crate's server subscribes it
/// to Serial Notifies. Accept errors back off (`accept.rs`).
pub(crate) fn accept(
    listener: TcpListener,
    shared: Arc<Shared>,
) -> impl Stream<Item = io::Result<Observed>> {
    let listener = Acceptor::new(listener, "RTR");
    futures_util::stream::unfold((listener, shared), |(mut listener, shared)| async move {
        let (sock, peer) = listener.accept().await;
        let _ = sock.set_nodelay(true);
        let observed = Observed::new(sock, peer, shared.clone());
        Some((Ok(observed), (listener, shared)))
    })
}

/// A client connection that tells the registry what the server sent on it.
#[derive(Debug)]
pub(crate) struct Observed {
    sock: TcpStream,
    id: u64,
    peer: SocketAddr,
    version_seen: bool,
    shared: Arc<Shared>,
}

impl Observed {
    fn new(sock: TcpStream, peer: SocketAddr, shared: Arc<Shared>) -> Observed {
        let mut id = 0;
        shared.update(|r| {
            id = r.next_id;
            r.next_id += 1;
            let since = Instant::now();
            let client = Client {
                peer,
                since,
                serial: None,
                notified: None,
            };
            r.clients.insert(id, client);
        });
        info!(client = %peer, "RTR client connected");
        Observed {
            sock,
            id,
            peer,
            version_seen: false,
            shared,
        }
    }
}

impl Socket for Observed {
    fn update(&self, state: State, reset: bool) {
        let serial = state.serial().0;
        self.shared.update(|r| {
            if let Some(c) = r.clients.get_mut(&self.id) {
                c.serial = Some(serial);
                c.notified = None;
            }
            if reset {
                r.counters.resets += 1;
            } else {
                r.counters.deltas += 1;
            }
        });
        if reset {
            info!(client = %self.peer, serial, "RTR client loaded the full set");
        } else {
            debug!(client = %self.peer, serial, "RTR client fetched a delta");
        }
    }
}

impl Drop for Observed {
    fn drop(&mut self) {
        let gone = self.shared.lock().clients.get(&self.id).map(|c| c.peer);
        self.shared.update(|r| {
            r.clients.remove(&self.id);
        });
        info!(client = ?gone, "RTR client disconnected");
    }
}

impl AsyncRead for Observed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.sock).poll_read(cx, buf);
        if let (false, Some(&version)) = (this.version_seen, buf.filled().get(before)) {
            // Every PDU starts with its version: the client's first byte is the version it
            // speaks (the crate's server accepts 0 to 2 as asked).
            this.version_seen = true;
            this.shared.update(|r| {
                r.counters.versions.insert(version);
            });
        }
        poll
    }
}

impl AsyncWrite for Observed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().sock).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().sock).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().sock).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
