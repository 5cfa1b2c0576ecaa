//! A session task: one per configured peer, for the daemon's whole life.
//!
//! Where it sits: between the peer and the RIB. It turns the peer's messages into FSM events
//! and RIB events (decoded UPDATEs, refresh requests), carries out the FSM's actions on its
//! [`Link`], and tells the RIB when the session is up (handing it the writer's export
//! channel) or down. Connections come from the listener (incoming) or from the link's own
//! connect (outgoing); a second link exists only while a connection collision (RFC 4271
//! §6.8) is resolved (`session/collision.rs`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch, Notify};
use tracing::{debug, info, warn};

use super::abuse::PeerAbuseLog;
use super::fsm::{self, Action, DownReason, Event, Fsm, State};
use super::link::{Input, Link};
use super::open::{decode_open, encode_open, Negotiated};
use super::wire::{self, Caps, FrameError, MessageType};
use super::writer::{Control, WriterEvent, SEND_HOLD_MIN};
use super::{Notification, Reason};
use crate::rib::{RibEvent, Validator};

mod collision;
mod config;

use config::fsm_config;
pub use config::{local_for, RibLink, SessionConfig};

/// Shared batches and chunks of exports between the RIB and a session's writer. A peer
/// whose channel is full falls out of step: what else it has to be sent waits in the RIB as
/// pending state of its own.
const EXPORT_QUEUE: usize = 8;

/// Runs the session until shutdown, or until `close` hands it the NOTIFICATION to end
/// with (a config reload removed or changed the peer); returns after sending Cease /
/// Administrative Shutdown (RFC 9003 message), or that NOTIFICATION, on an open session.
pub async fn run(
    config: SessionConfig,
    rib: RibLink,
    mut accepted: mpsc::Receiver<TcpStream>,
    mut shutdown: watch::Receiver<bool>,
    mut close: mpsc::Receiver<Notification>,
) {
    let mut s = SessionTask::new(config, rib);
    let start = Event::Start {
        passive: s.config.passive,
    };
    s.feed(Which::Main, start).await;
    loop {
        tokio::select! {
            input = s.main.next() => {
                let events = s.input(Which::Main, input).await;
                for e in events {
                    s.feed(Which::Main, e).await;
                }
            }
            input = next_extra(&mut s.extra) => {
                let events = s.input(Which::Extra, input).await;
                for e in events {
                    s.feed(Which::Extra, e).await;
                }
            }
            Some(stream) = accepted.recv() => s.incoming(stream).await,
            Some(bye) = close.recv() => {
                info!(peer = %s.config.name, notification = %bye, "closing the session: the peer's config changed");
                return s.stop(bye).await;
            }
            _ = shutdown.changed() => break,
        }
        s.resolve_collision().await;
    }
    let bye = fsm::administrative_cease(Reason::AdministrativeShutdown, "rovgate is shutting down");
    s.stop(bye).await;
}

impl SessionTask {
    /// Ends the session with `bye` (when it is open) and lets the writer finish.
    async fn stop(mut self, bye: Notification) {
        let notification = Some(bye);
        self.feed(Which::Main, Event::Stop { notification }).await;
        self.main.finish().await;
    }
}

async fn next_extra(extra: &mut Option<Link>) -> Input {
    match extra {
        Some(link) => link.next().await,
        None => std::future::pending().await,
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Which {
    Main,
    Extra,
}

/// A session task's state: its peer's configuration, the RIB's channels, and the link (FSM
/// and connection) it runs, with a second one while a collision is resolved.
struct SessionTask {
    config: SessionConfig,
    rib: mpsc::Sender<RibEvent>,
    writable: Arc<Notify>,
    validator: Validator,
    main: Link,
    extra: Option<Link>,
    /// The Established session's terms (codec caps, graceful restart).
    negotiated: Option<Negotiated>,
    /// The next idle hold is the max-prefix idle time.
    limit_idle: bool,
    abuse: PeerAbuseLog,
}

impl SessionTask {
    fn new(config: SessionConfig, rib: RibLink) -> Self {
        let main = Link::new(Fsm::new(fsm_config(&config)));
        let abuse = PeerAbuseLog::new(&config.name, config.abuse.clone(), config.refusals.clone());
        SessionTask {
            config,
            rib: rib.events,
            writable: rib.writable,
            validator: rib.validator,
            main,
            extra: None,
            negotiated: None,
            limit_idle: false,
            abuse,
        }
    }

    fn link(&mut self, which: Which) -> Option<&mut Link> {
        match which {
            Which::Main => Some(&mut self.main),
            Which::Extra => self.extra.as_mut(),
        }
    }

    /// Feeds an event to a link's FSM and carries out its actions.
    async fn feed(&mut self, which: Which, event: Event) {
        let Some(link) = self.link(which) else { return };
        let actions = link.fsm.handle(event);
        for action in actions {
            self.act(which, action).await;
        }
    }

    async fn act(&mut self, which: Which, action: Action) {
        let (remote, local) = (self.config.remote, self.config.local);
        let security = self.config.security.clone();
        let open = encode_open(&self.config.speaker);
        let Some(link) = self.link(which) else { return };
        match action {
            Action::Connect => link.connect(remote, local, security),
            Action::SendOpen => link.send_open(open),
            Action::SendKeepalive => {
                link.send(wire::keepalive());
            }
            Action::SendNotification(n) => {
                link.send(wire::notification(&n));
                self.abuse.notification_sent(&n);
            }
            Action::StartTimer(t, d) => {
                let d = if t == fsm::Timer::IdleHold && std::mem::take(&mut self.limit_idle) {
                    d.max(self.config.max_prefixes_idle)
                } else {
                    d
                };
                // Re-borrow: `limit_idle` above needed `self`.
                if let Some(link) = self.link(which) {
                    link.set_timer(t, Some(d));
                }
            }
            Action::StopTimer(t) => link.set_timer(t, None),
            Action::CloseConnection => link.close(),
            Action::Established(n) => self.established(which, n).await,
            Action::Down { reason } => self.down(reason).await,
        }
    }

    async fn established(&mut self, which: Which, n: Negotiated) {
        let caps = Caps {
            rov_ext_community: self.config.rov_ext_community,
            ..caps_of(&n)
        };
        let (out, exports) = mpsc::channel(EXPORT_QUEUE);
        let twice_hold = Duration::from_secs(2 * u64::from(n.hold_time));
        let send_hold = (self.config.send_hold_time).unwrap_or(SEND_HOLD_MIN.max(twice_hold));
        let control = Control::Established {
            caps,
            enhanced_route_refresh: n.enhanced_route_refresh,
            exports,
            writable: self.writable.clone(),
            send_hold,
        };
        info!(peer = %self.config.name, hold = n.hold_time, ?send_hold, families = ?n.families, as4 = n.as4, extended_next_hop = n.extended_next_hop, add_path = ?n.add_path, "session established");
        if let Some(link) = self.link(which) {
            link.established(control, caps.max_len);
        }
        let families = n.families.clone();
        let add_path = n.add_path.clone();
        let session = (self.link(which)).map(|l| Arc::new(l.session_up(n.peer_router_id)));
        self.negotiated = Some(n);
        let up = RibEvent::PeerUp {
            peer: self.config.peer,
            families,
            add_path,
            out,
            session: session.unwrap_or_default(),
        };
        // The RIB ends only at shutdown; the session ends with it.
        let _ = self.rib.send(up).await;
    }

    async fn down(&mut self, reason: DownReason) {
        let gr = self.negotiated.take().and_then(|n| n.graceful_restart);
        // RFC 4724: the routes of a peer that announced graceful restart are kept when the
        // session ends without a NOTIFICATION.
        let restart = match (&reason, gr) {
            (DownReason::ConnectionLost, Some(gr)) => {
                let secs = gr.restart_time.min(self.config.restart_time_max);
                Some(Duration::from_secs(secs.into()))
            }
            _ => None,
        };
        info!(peer = %self.config.name, ?reason, "session down");
        let down = RibEvent::PeerDown {
            peer: self.config.peer,
            restart,
            reason: reason.to_string(),
        };
        let _ = self.rib.send(down).await;
    }

    /// Turns a link's input into FSM events, forwarding routes to the RIB on the way.
    async fn input(&mut self, which: Which, input: Input) -> Vec<Event> {
        match input {
            Input::Frame(None) | Input::Frame(Some(Err(FrameError::Io(_)))) => {
                vec![Event::TcpFailed]
            }
            Input::Frame(Some(Err(FrameError::Notification(n)))) => vec![Event::MessageError(n)],
            Input::Frame(Some(Ok(frame))) => self.message(which, frame.kind, frame.bytes).await,
            Input::Writer(WriterEvent::Failed(e)) => {
                debug!(peer = %self.config.name, error = %e, "write failed");
                vec![Event::TcpFailed]
            }
            Input::Writer(WriterEvent::SendHoldExpired) => {
                warn!(peer = %self.config.name, "send hold timer expired: the peer took no data (RFC 9687)");
                super::counters::send_hold_expired(&self.config.name);
                vec![Event::MessageError(Reason::SendHoldTimerExpired.into())]
            }
            Input::Writer(WriterEvent::LimitReached(limit)) => {
                self.limit_idle = true;
                vec![Event::MessageError(fsm::max_prefix_cease(limit))]
            }
            Input::Timer(t) => vec![Event::TimerExpired(t)],
            Input::Connected(Ok(stream)) => {
                if let Some(link) = self.link(which) {
                    link.attach(stream, true);
                }
                vec![Event::TcpConnected]
            }
            Input::Connected(Err(e)) => {
                debug!(peer = %self.config.name, error = %e, "connect failed");
                vec![Event::TcpFailed]
            }
        }
    }

    async fn message(&mut self, which: Which, kind: MessageType, bytes: Bytes) -> Vec<Event> {
        let established = self
            .link(which)
            .is_some_and(|l| l.fsm.state() == State::Established);
        match kind {
            MessageType::Open => match decode_open(&bytes) {
                Ok(open) => {
                    if let Some(link) = self.link(which) {
                        link.received_open(bytes);
                    }
                    vec![Event::OpenReceived(open)]
                }
                Err(n) => vec![Event::MessageError(n)],
            },
            MessageType::Keepalive => vec![Event::KeepaliveReceived],
            MessageType::Notification => {
                let n = wire::decode_notification(&bytes);
                self.abuse.notification_received(&n);
                vec![Event::NotificationReceived(n)]
            }
            MessageType::Update if established => self.update(&bytes).await,
            MessageType::Update => vec![Event::UpdateReceived],
            MessageType::RouteRefresh => self.route_refresh(established, &bytes).await,
        }
    }

    async fn update(&mut self, bytes: &[u8]) -> Vec<Event> {
        let default = Caps {
            as4: true,
            max_len: wire::MAX_LEN,
            rov_ext_community: false,
            extended_next_hop: false,
        };
        let caps = self.negotiated.as_ref().map_or(default, caps_of);
        match wire::decode_update_faults(bytes, &caps) {
            Ok((mut update, faults)) => {
                self.abuse.faults(&faults);
                // What rovgate's own tags (ROV state, filtered reason, RFC 8097 state) say
                // must come from rovgate, not a peer.
                for (attrs, _) in &mut update.announced {
                    if let Some(other) = wire::scrub_tags(&attrs.other, self.config.speaker.asn.0) {
                        attrs.other = other;
                    }
                    // Read once here; the RIB and the encoder only look.
                    let (rs, client) = (self.config.speaker.asn.0, self.config.rs_client);
                    attrs.actions = wire::read_actions(&attrs.other, rs, client);
                    // Hashed here, in parallel with the RIB, which only looks it up.
                    attrs.digest();
                }
                // Looked up here too, in parallel with the RIB, which checks the snapshot.
                let states = self.validator.validate(&update);
                let event = RibEvent::ValidatedUpdate {
                    peer: self.config.peer,
                    update,
                    states,
                };
                let _ = self.rib.send(event).await;
                vec![Event::UpdateReceived]
            }
            Err(n) => {
                self.abuse.session_reset(&n);
                vec![Event::MessageError(n)]
            }
        }
    }

    async fn route_refresh(&mut self, established: bool, bytes: &[u8]) -> Vec<Event> {
        let peer = self.config.peer;
        match wire::decode_route_refresh(bytes) {
            Ok(Some((family, subtype))) if established => {
                let event = match subtype {
                    1 => RibEvent::BeginResend { peer, family },
                    2 => RibEvent::EndOfResend { peer, family },
                    _ => RibEvent::Refresh { peer, family },
                };
                let _ = self.rib.send(event).await;
                vec![Event::RouteRefreshReceived]
            }
            Ok(_) => vec![Event::RouteRefreshReceived],
            Err(n) => vec![Event::MessageError(n)],
        }
    }
}

/// What the codec needs from a negotiated session.
fn caps_of(n: &Negotiated) -> Caps {
    let max_len = if n.extended_message {
        wire::MAX_LEN_EXTENDED
    } else {
        wire::MAX_LEN
    };
    Caps {
        as4: n.as4,
        max_len,
        rov_ext_community: false,
        extended_next_hop: n.extended_next_hop,
    }
}
