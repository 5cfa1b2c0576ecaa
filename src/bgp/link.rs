//! One connection attempt or connection of a session, with its FSM and timers.
//!
//! Where it sits: inside a session task (`session.rs`), which holds one link per peer, and a
//! second one only while a connection collision is being resolved. A link owns the socket's
//! read half (framed by `wire::Framer`), the channel to its writer task (`writer.rs`), a
//! pending outgoing connect, and the deadlines of the FSM's timers; [`Link::next`] waits for
//! whichever of those happens first.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::codec::FramedRead;

use super::fsm::{Fsm, Timer};
use super::sockopt::Security;
use super::wire::{Frame, FrameError, Framer};
use super::writer::{self, Control, WriterEvent};
use crate::route::SessionUp;

/// How long an outgoing TCP connect may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Control messages queued for the writer (OPEN, KEEPALIVE, NOTIFICATION, Close).
const CONTROL_QUEUE: usize = 64;
/// How long a closed link's writer may take to flush before it is aborted (a peer that
/// takes no data must not keep its socket, and its writer, for ever).
const WRITER_GRACE: Duration = Duration::from_secs(2);

type Connecting = Pin<Box<dyn Future<Output = io::Result<TcpStream>> + Send>>;

/// What woke a link up.
pub enum Input {
    /// A message, a framing error, or `None` at end of stream.
    Frame(Option<Result<Frame, FrameError>>),
    /// The writer reported something.
    Writer(WriterEvent),
    /// A timer ran out.
    Timer(Timer),
    /// The outgoing connect finished.
    Connected(io::Result<TcpStream>),
}

/// A connection (or attempt) and its FSM.
pub struct Link {
    /// This connection's FSM.
    pub fsm: Fsm,
    /// Whether rovgate initiated the connection.
    pub outgoing: bool,
    reader: Option<FramedRead<OwnedReadHalf, Framer>>,
    control: Option<mpsc::Sender<Control>>,
    writer_events: Option<mpsc::Receiver<WriterEvent>>,
    writer: Option<JoinHandle<()>>,
    /// The last closed connection's writer, flushing (bounded) what was queued.
    closing: Option<JoinHandle<()>>,
    connecting: Option<Connecting>,
    timers: [Option<Instant>; 5],
    /// The connection's ends, and the OPENs sent and received on it (BMP's Peer Up).
    up: SessionUp,
}

fn slot(t: Timer) -> usize {
    match t {
        Timer::ConnectRetry => 0,
        Timer::Hold => 1,
        Timer::Keepalive => 2,
        Timer::IdleHold => 3,
        Timer::IdleHoldReset => 4,
    }
}

const TIMERS: [Timer; 5] = [
    Timer::ConnectRetry,
    Timer::Hold,
    Timer::Keepalive,
    Timer::IdleHold,
    Timer::IdleHoldReset,
];

impl Link {
    /// A link with no connection yet.
    pub fn new(fsm: Fsm) -> Self {
        Link {
            fsm,
            outgoing: false,
            reader: None,
            control: None,
            writer_events: None,
            writer: None,
            closing: None,
            connecting: None,
            timers: [None; 5],
            up: SessionUp::default(),
        }
    }

    /// Whether a TCP connection is attached.
    pub fn connected(&self) -> bool {
        self.reader.is_some()
    }

    /// Attaches a connection: reads go through a `Framer`, writes to a new writer task.
    pub fn attach(&mut self, stream: TcpStream, outgoing: bool) {
        let _ = stream.set_nodelay(true);
        self.up = SessionUp {
            local: stream.local_addr().ok(),
            remote: stream.peer_addr().ok(),
            ..SessionUp::default()
        };
        let (read, write) = stream.into_split();
        let (control, control_rx) = mpsc::channel(CONTROL_QUEUE);
        let (events_tx, events) = mpsc::channel(4);
        self.writer = Some(tokio::spawn(writer::run(write, control_rx, events_tx)));
        self.reader = Some(FramedRead::new(read, Framer::new()));
        self.control = Some(control);
        self.writer_events = Some(events);
        self.connecting = None;
        self.outgoing = outgoing;
    }

    /// Starts an outgoing connection to `to`, from `from`'s address when given, secured
    /// as `security` says.
    pub fn connect(&mut self, to: SocketAddr, from: Option<SocketAddr>, security: Security) {
        self.connecting = Some(Box::pin(async move {
            let socket = match to {
                SocketAddr::V4(_) => TcpSocket::new_v4()?,
                SocketAddr::V6(_) => TcpSocket::new_v6()?,
            };
            if let Some(from) = from.filter(|f| f.is_ipv4() == to.is_ipv4()) {
                socket.bind(SocketAddr::new(from.ip(), 0))?;
            }
            security.apply(&socket, to.ip())?;
            match tokio::time::timeout(CONNECT_TIMEOUT, socket.connect(to)).await {
                Ok(result) => result,
                Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")),
            }
        }));
    }

    /// Queues our OPEN for the writer, kept as sent.
    pub fn send_open(&mut self, open: Bytes) {
        self.up.sent_open = open.clone();
        self.send(open);
    }

    /// Keeps the peer's OPEN as received.
    pub fn received_open(&mut self, open: Bytes) {
        self.up.received_open = open;
    }

    /// The connection's ends and OPENs, once it is established with the peer whose BGP
    /// Identifier is `peer_router_id`.
    pub fn session_up(&self, peer_router_id: Ipv4Addr) -> SessionUp {
        SessionUp {
            peer_router_id,
            ..self.up.clone()
        }
    }

    /// Queues a message for the writer; false when the writer is gone or swamped.
    pub fn send(&self, msg: Bytes) -> bool {
        self.control
            .as_ref()
            .is_some_and(|c| c.try_send(Control::Send(msg)).is_ok())
    }

    /// Hands the writer what it needs once the session is Established.
    pub fn established(&mut self, control: Control, max_len: usize) {
        if let Some(reader) = self.reader.as_mut() {
            reader.decoder_mut().set_max_len(max_len);
        }
        if let Some(c) = &self.control {
            // The writer is gone only if the connection broke; the reader will see that.
            let _ = c.try_send(control);
        }
    }

    /// Closes the connection (after queued writes, for a short while) or abandons the
    /// connect attempt.
    pub fn close(&mut self) {
        if let Some((w, r)) = self.stop() {
            self.closing = Some(tokio::spawn(reap(w, r)));
        }
    }

    /// Waits until the writer, or the last closed connection's, has flushed and closed
    /// (bounded), e.g. before exiting: a NOTIFICATION queued just before must go out.
    pub async fn finish(&mut self) {
        if let Some((w, r)) = self.stop() {
            reap(w, r).await;
        }
        if let Some(closing) = self.closing.take() {
            let _ = closing.await;
        }
    }

    /// Tells the writer to close and forgets the connection; returns the writer's task and
    /// the read half, for [`reap`].
    fn stop(&mut self) -> Option<(JoinHandle<()>, Option<OwnedReadHalf>)> {
        if let Some(c) = self.control.take() {
            let _ = c.try_send(Control::Close);
        }
        let reader = self.reader.take().map(FramedRead::into_inner);
        self.writer_events = None;
        self.connecting = None;
        self.writer.take().map(|w| (w, reader))
    }

    /// Sets or clears a timer.
    pub fn set_timer(&mut self, t: Timer, after: Option<Duration>) {
        self.timers[slot(t)] = after.map(|d| Instant::now() + d);
    }

    /// Waits for the link's next input.
    pub async fn next(&mut self) -> Input {
        let (timer, deadline) = self.next_timer();
        tokio::select! {
            biased;
            frame = next_frame(&mut self.reader) => Input::Frame(frame),
            Some(e) = next_writer_event(&mut self.writer_events) => Input::Writer(e),
            r = connecting(&mut self.connecting) => {
                self.connecting = None;
                Input::Connected(r)
            }
            _ = sleep_until(deadline) => {
                self.timers[slot(timer)] = None;
                Input::Timer(timer)
            }
        }
    }

    fn next_timer(&self) -> (Timer, Option<Instant>) {
        let mut next = (Timer::Hold, None);
        for t in TIMERS {
            if let Some(at) = self.timers[slot(t)] {
                if next.1.is_none_or(|n| at < n) {
                    next = (t, Some(at));
                }
            }
        }
        next
    }
}

/// Gives a closing writer [`WRITER_GRACE`] to flush and shut its side, then aborts it; until
/// the peer closes its side too (or the grace ends), reads and drops what it still sends. A
/// socket closed with unread input is reset, and a peer still sending may then never read
/// the NOTIFICATION that was sent to it.
async fn reap(mut writer: JoinHandle<()>, reader: Option<OwnedReadHalf>) {
    let drain = async {
        let _ = (&mut writer).await;
        if let Some(mut reader) = reader {
            let mut buf = [0u8; 4096];
            while reader.read(&mut buf).await.is_ok_and(|n| n > 0) {}
        }
    };
    if tokio::time::timeout(WRITER_GRACE, drain).await.is_err() {
        writer.abort();
    }
}

async fn next_frame(
    r: &mut Option<FramedRead<OwnedReadHalf, Framer>>,
) -> Option<Result<Frame, FrameError>> {
    match r {
        Some(r) => r.next().await,
        None => std::future::pending().await,
    }
}

async fn next_writer_event(r: &mut Option<mpsc::Receiver<WriterEvent>>) -> Option<WriterEvent> {
    match r {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

async fn connecting(c: &mut Option<Connecting>) -> io::Result<TcpStream> {
    match c {
        Some(c) => c.await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
