//! The BGP finite state machine (RFC 4271 §8), sans I/O.
//!
//! Where it sits: inside each session task. The task turns socket results, decoded messages
//! and timer expiries into [`Event`]s, calls [`Fsm::handle`], and carries out the returned
//! [`Action`]s in order: connect, write messages, close, (re)start or stop timers, and tell the
//! RIB when the session is [`Action::Established`] or [`Action::Down`]. No sockets, no clocks.
//!
//! RFC 4271 §8.1 events and what they are here:
//!
//! | RFC 4271 event | here |
//! |---|---|
//! | 1 ManualStart, 4 ManualStart_with_PassiveTcpEstablishment | `Start { passive }` |
//! | 3, 5, 6, 7 AutomaticStart… (with DampPeerOscillations) | `TimerExpired(IdleHold)`: restart as the last `Start` said |
//! | 2 ManualStop, 8 AutomaticStop | `Stop { notification }` (no automatic restart) |
//! | 9, 10, 11, 13 timer expiries | `TimerExpired(ConnectRetry / Hold / Keepalive / IdleHold)` |
//! | 14, 15 TcpConnection_Valid / Tcp_CR_Invalid | the listener hands in only connections from the configured address |
//! | 16 Tcp_CR_Acked, 17 TcpConnectionConfirmed | `TcpConnected` (ours), `TcpAccepted` (theirs) |
//! | 18 TcpConnectionFails | `TcpFailed` |
//! | 19 BGPOpen | `OpenReceived` (the FSM runs `open::negotiate`) |
//! | 21 BGPHeaderErr, 22 BGPOpenMsgErr, 28 UpdateMsgErr | `MessageError(notification)` |
//! | 23 OpenCollisionDump | the session: [`resolve_collision`], then `Stop` with [`collision_cease`] to the loser |
//! | 24 NotifMsgVerErr, 25 NotifMsg | `NotificationReceived` |
//! | 26 KeepAliveMsg, 27 UpdateMsg | `KeepaliveReceived`, `UpdateReceived` |
//! | ROUTE-REFRESH (RFC 2918) | `RouteRefreshReceived` |
//!
//! Simplified on purpose:
//! - No DelayOpen (events 12, 20), no SendNOTIFICATIONwithoutOPEN, no collision detection in
//!   Established (a connection that collides with an Established session is always refused).
//! - Connect-retry backs off exponentially (`connect_retry` doubling to `connect_retry_max`,
//!   reset on Established) instead of a ConnectRetryCounter; a failed TCP connect goes to
//!   Active and waits for the retry timer (RFC: Idle).
//! - Peer oscillation damping is always on: every fall back to Idle while started (errors,
//!   NOTIFICATIONs, lost connections, in any state with a connection) waits `idle_hold`
//!   before restarting, doubling per fall to `idle_hold_max`; the delay resets once a session
//!   has stayed Established for `idle_hold_max` (OpenBGPD's IdleHoldResetTimer).
//! - The hold timer restarts on any KEEPALIVE, UPDATE or ROUTE-REFRESH; the keepalive timer is
//!   not restarted when UPDATEs are sent (at most a few extra KEEPALIVEs).
//! - Messages and TCP failures in Idle, Connect or Active, where there is no connection, and
//!   expiries of timers that are not running, are ignored.
//! - An unexpected message is an FSM error with the RFC 6608 subcode of the state.

mod cease;
mod event;

use std::cmp::min;
use std::time::Duration;

use super::open::{negotiate, LocalSpeaker, Negotiated, PeerOpen};
use super::{Notification, Reason};
use crate::route::Asn;

pub use cease::{administrative_cease, collision_cease, max_prefix_cease, resolve_collision, Keep};
pub use event::{Action, DownReason, Event, State, Timer};

/// How the FSM behaves for one peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsmConfig {
    /// What rovgate puts in its OPEN and accepts in the peer's.
    pub local: LocalSpeaker,
    /// The configured peer AS; any other in the OPEN is refused with 2/2.
    pub peer_asn: Asn,
    /// The first connect-retry interval (default 5 s).
    pub connect_retry: Duration,
    /// The longest connect-retry interval (default 120 s, RFC 4271's ConnectRetryTime).
    pub connect_retry_max: Duration,
    /// The first idle hold after a failure (default 5 s).
    pub idle_hold: Duration,
    /// The longest idle hold, and how long a session must stay up to reset it (default 300 s).
    pub idle_hold_max: Duration,
    /// The hold timer while waiting for the peer's OPEN (default 240 s, RFC 4271 §8.2.2).
    pub open_hold: Duration,
}

impl FsmConfig {
    /// The defaults for a peer in `peer_asn`.
    pub fn new(local: LocalSpeaker, peer_asn: Asn) -> Self {
        FsmConfig {
            local,
            peer_asn,
            connect_retry: Duration::from_secs(5),
            connect_retry_max: Duration::from_secs(120),
            idle_hold: Duration::from_secs(5),
            idle_hold_max: Duration::from_secs(300),
            open_hold: Duration::from_secs(240),
        }
    }
}

/// The sans-I/O FSM for one peer.
#[derive(Debug)]
pub struct Fsm {
    config: FsmConfig,
    state: State,
    /// `Some(passive)` while started: failures restart automatically after the idle hold.
    started: Option<bool>,
    /// The next connect-retry interval.
    retry: Duration,
    /// The next idle hold.
    idle_hold: Duration,
    /// Timers started and not yet stopped or expired, one bit per `Timer`.
    running: u8,
    /// What the OPENs agreed, from OpenConfirm on.
    negotiated: Option<Negotiated>,
}

impl Fsm {
    /// A stopped FSM, in Idle.
    pub fn new(config: FsmConfig) -> Self {
        Fsm {
            retry: config.connect_retry,
            idle_hold: config.idle_hold,
            config,
            state: State::Idle,
            started: None,
            running: 0,
            negotiated: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// What the OPENs agreed, in OpenConfirm and Established.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// Feeds one event; returns what the session must do, in order.
    pub fn handle(&mut self, event: Event) -> Vec<Action> {
        use Event as E;
        use State::*;
        let mut out = Vec::new();
        let connected = matches!(self.state, OpenSent | OpenConfirm | Established);
        match (self.state, event) {
            (Idle, E::Start { passive }) => {
                self.started = Some(passive);
                self.stop_timer(&mut out, Timer::IdleHold);
                self.begin(&mut out, passive);
            }
            (_, E::Start { .. }) => {}
            (_, E::Stop { notification }) => self.stop(&mut out, notification),
            (_, E::TimerExpired(t)) if self.running & bit(t) == 0 => {}
            (_, E::TimerExpired(t)) => {
                self.running &= !bit(t);
                self.expired(&mut out, t);
            }
            (Idle, E::TcpAccepted) => out.push(Action::CloseConnection),
            (Connect | Active, E::TcpConnected | E::TcpAccepted) => self.connected(&mut out),
            (Connect, E::TcpFailed) => self.state = Active,
            (_, E::TcpConnected | E::TcpAccepted | E::TcpFailed) if !connected => {}
            // A second connection is the session's business (see `resolve_collision`).
            (_, E::TcpConnected | E::TcpAccepted) => {}
            (_, E::TcpFailed) => self.idle(&mut out, DownReason::ConnectionLost),
            (_, _) if !connected => {}
            (_, E::NotificationReceived(n)) => self.idle(&mut out, DownReason::Received(n)),
            (_, E::MessageError(n)) => self.fail(&mut out, n),
            (OpenSent, E::OpenReceived(open)) => self.open_received(&mut out, &open),
            (OpenConfirm, E::KeepaliveReceived) => self.establish(&mut out),
            (Established, E::KeepaliveReceived | E::UpdateReceived | E::RouteRefreshReceived) => {
                self.restart_hold(&mut out)
            }
            (state, _) => self.fail(&mut out, fsm_error(state)),
        }
        out
    }

    /// Leaves Idle: connect out, or wait for the peer.
    fn begin(&mut self, out: &mut Vec<Action>, passive: bool) {
        if passive {
            self.state = State::Active;
        } else {
            self.connect(out);
        }
    }

    /// Starts a connection attempt with the next backoff interval.
    fn connect(&mut self, out: &mut Vec<Action>) {
        self.state = State::Connect;
        out.push(Action::Connect);
        let d = self.retry;
        self.retry = min(self.retry * 2, self.config.connect_retry_max);
        self.start_timer(out, Timer::ConnectRetry, d);
    }

    fn expired(&mut self, out: &mut Vec<Action>, t: Timer) {
        match t {
            Timer::ConnectRetry => {
                if self.state == State::Connect {
                    out.push(Action::CloseConnection);
                }
                self.connect(out);
            }
            Timer::Hold => self.fail(out, Reason::HoldTimerExpired.into()),
            Timer::Keepalive => {
                out.push(Action::SendKeepalive);
                self.start_keepalive(out);
            }
            Timer::IdleHold => {
                if let Some(passive) = self.started {
                    self.begin(out, passive);
                }
            }
            Timer::IdleHoldReset => self.idle_hold = self.config.idle_hold,
        }
    }

    /// A connection is up (either direction): send our OPEN, wait for theirs.
    fn connected(&mut self, out: &mut Vec<Action>) {
        self.stop_timer(out, Timer::ConnectRetry);
        out.push(Action::SendOpen);
        self.start_timer(out, Timer::Hold, self.config.open_hold);
        self.state = State::OpenSent;
    }

    fn open_received(&mut self, out: &mut Vec<Action>, open: &PeerOpen) {
        match negotiate(&self.config.local, self.config.peer_asn, open) {
            Err(n) => self.fail(out, n),
            Ok(negotiated) => {
                out.push(Action::SendKeepalive);
                self.negotiated = Some(negotiated);
                self.start_hold_and_keepalive(out);
                self.state = State::OpenConfirm;
            }
        }
    }

    fn establish(&mut self, out: &mut Vec<Action>) {
        self.retry = self.config.connect_retry;
        self.start_hold_and_keepalive(out);
        self.start_timer(out, Timer::IdleHoldReset, self.config.idle_hold_max);
        if let Some(n) = &self.negotiated {
            out.push(Action::Established(n.clone()));
        }
        self.state = State::Established;
    }

    /// The negotiated hold and keepalive timers; none when the hold time is 0.
    fn start_hold_and_keepalive(&mut self, out: &mut Vec<Action>) {
        if self.hold_time().is_zero() {
            self.stop_timer(out, Timer::Hold);
            self.stop_timer(out, Timer::Keepalive);
        } else {
            self.restart_hold(out);
            self.start_keepalive(out);
        }
    }

    fn hold_time(&self) -> Duration {
        let secs = self.negotiated.as_ref().map_or(0, |n| n.hold_time);
        Duration::from_secs(secs.into())
    }

    fn restart_hold(&mut self, out: &mut Vec<Action>) {
        let hold = self.hold_time();
        if !hold.is_zero() {
            self.start_timer(out, Timer::Hold, hold);
        }
    }

    fn start_keepalive(&mut self, out: &mut Vec<Action>) {
        let secs = self.negotiated.as_ref().map_or(0, |n| n.keepalive);
        if secs > 0 {
            self.start_timer(out, Timer::Keepalive, Duration::from_secs(secs.into()));
        }
    }

    /// Sends `n` and falls back to Idle.
    fn fail(&mut self, out: &mut Vec<Action>, n: Notification) {
        out.push(Action::SendNotification(n.clone()));
        self.idle(out, DownReason::Sent(n));
    }

    fn stop(&mut self, out: &mut Vec<Action>, notification: Option<Notification>) {
        self.started = None;
        let n = notification.unwrap_or_else(|| Reason::AdministrativeShutdown.into());
        match self.state {
            State::Idle => self.stop_timer(out, Timer::IdleHold),
            State::Connect | State::Active => self.idle(out, DownReason::ConnectionLost),
            _ => self.fail(out, n),
        }
    }

    /// Closes the connection, stops the timers, reports Down if Established, and, while
    /// started, waits out the idle hold before restarting.
    fn idle(&mut self, out: &mut Vec<Action>, reason: DownReason) {
        if self.state != State::Active {
            out.push(Action::CloseConnection);
        }
        for t in [
            Timer::ConnectRetry,
            Timer::Hold,
            Timer::Keepalive,
            Timer::IdleHoldReset,
        ] {
            self.stop_timer(out, t);
        }
        if self.state == State::Established {
            out.push(Action::Down { reason });
        }
        self.state = State::Idle;
        self.negotiated = None;
        if self.started.is_some() {
            let d = self.idle_hold;
            self.idle_hold = min(self.idle_hold * 2, self.config.idle_hold_max);
            self.start_timer(out, Timer::IdleHold, d);
        }
    }

    fn start_timer(&mut self, out: &mut Vec<Action>, t: Timer, d: Duration) {
        self.running |= bit(t);
        out.push(Action::StartTimer(t, d));
    }

    fn stop_timer(&mut self, out: &mut Vec<Action>, t: Timer) {
        if self.running & bit(t) != 0 {
            self.running &= !bit(t);
            out.push(Action::StopTimer(t));
        }
    }
}

fn bit(t: Timer) -> u8 {
    1 << (t as u8)
}

/// The FSM error for an unexpected message in `state` (RFC 6608 subcodes).
fn fsm_error(state: State) -> Notification {
    let reason = match state {
        State::OpenSent => Reason::UnexpectedInOpenSent,
        State::OpenConfirm => Reason::UnexpectedInOpenConfirm,
        State::Established => Reason::UnexpectedInEstablished,
        _ => Reason::FsmError,
    };
    reason.into()
}

#[cfg(test)]
#[path = "fsm_tests.rs"]
mod tests;
