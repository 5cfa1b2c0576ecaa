//! The FSM's vocabulary: states, timers, the events the session feeds in and the actions
//! it gets back.
//!
//! Where it sits: part of `fsm.rs` (re-exported there); the session task builds [`Event`]s
//! from socket results, decoded messages and timer expiries, and carries out [`Action`]s.

use std::time::Duration;

use super::super::open::{Negotiated, PeerOpen};
use super::super::Notification;

/// The RFC 4271 states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Not started, stopped, or waiting out the idle hold after a failure.
    Idle,
    /// An outgoing connection is being made.
    Connect,
    /// Waiting for the peer to connect (and, unless passive, for the next connect retry).
    Active,
    /// Connected, our OPEN sent, waiting for the peer's.
    OpenSent,
    /// OPENs agreed, our KEEPALIVE sent, waiting for the peer's.
    OpenConfirm,
    /// Routes flow.
    Established,
}

/// The timers the session runs for the FSM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Next outgoing connection attempt.
    ConnectRetry,
    /// No message from the peer for this long: the session is dead.
    Hold,
    /// Time to send a KEEPALIVE.
    Keepalive,
    /// End of the damping delay in Idle: restart.
    IdleHold,
    /// The session has been Established long enough to forget earlier flaps.
    IdleHoldReset,
}

/// What happened, as the session reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Start the session (and restart it automatically after failures). `passive`: never
    /// connect out, only accept.
    Start {
        /// Only accept connections.
        passive: bool,
    },
    /// Stop the session for good. The NOTIFICATION to send if connected; `None` sends Cease
    /// 6/2 without data (see [`administrative_cease`] for RFC 9003 messages).
    Stop {
        /// The Cease to send.
        notification: Option<Notification>,
    },
    /// Our outgoing connection is up.
    TcpConnected,
    /// The listener handed this FSM an incoming connection from the peer.
    TcpAccepted,
    /// The connection (or the attempt) failed or was closed by the peer.
    TcpFailed,
    /// A timer the FSM started has run out.
    TimerExpired(Timer),
    /// The peer's OPEN, decoded (`open::decode_open`).
    OpenReceived(PeerOpen),
    /// A KEEPALIVE arrived.
    KeepaliveReceived,
    /// An UPDATE arrived (the session passes its contents to the RIB itself).
    UpdateReceived,
    /// A ROUTE-REFRESH arrived (the session asks the RIB to re-export).
    RouteRefreshReceived,
    /// The peer sent a NOTIFICATION.
    NotificationReceived(Notification),
    /// The session found an error to report and restart after: a decode error, or a limit
    /// such as maximum prefixes (Cease 6/1). Sent, then Idle.
    MessageError(Notification),
}

/// What the session must do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Open a TCP connection to the peer; report `TcpConnected` or `TcpFailed`.
    Connect,
    /// Write our OPEN (`open::encode_open`).
    SendOpen,
    /// Write a KEEPALIVE.
    SendKeepalive,
    /// Write this NOTIFICATION.
    SendNotification(Notification),
    /// Start, or restart, a timer.
    StartTimer(Timer, Duration),
    /// Stop a timer.
    StopTimer(Timer),
    /// The session is up with these terms: set up the codec, tell the RIB, start exporting.
    Established(Negotiated),
    /// The Established session went down: the RIB must withdraw the peer's routes (or keep
    /// them stale under graceful restart). Always follows an `Established`, one to one.
    Down {
        /// Why.
        reason: DownReason,
    },
    /// Close the connection, or abandon the connection attempt, or refuse a connection
    /// handed in while Idle.
    CloseConnection,
}

/// Why an Established session went down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DownReason {
    /// We sent this NOTIFICATION (hold timer, error, administrative stop).
    Sent(Notification),
    /// The peer sent this NOTIFICATION.
    Received(Notification),
    /// The TCP connection failed or was closed without a NOTIFICATION.
    ConnectionLost,
}

impl std::fmt::Display for DownReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DownReason::Sent(n) => write!(f, "NOTIFICATION sent: {n}"),
            DownReason::Received(n) => write!(f, "NOTIFICATION received: {n}"),
            DownReason::ConnectionLost => f.write_str("connection lost"),
        }
    }
}
