//! Connections a session did not open itself: the peer's, handed over by the listener, and
//! the connection collisions (RFC 4271 §6.8) they cause.
//!
//! Where it sits: inside the session task (`session.rs`), whose loop hands accepted streams
//! to [`SessionTask::incoming`] and calls [`SessionTask::resolve_collision`] after each
//! input.

use tokio::net::TcpStream;
use tracing::{info, warn};

use super::{fsm_config, SessionTask, Which};
use crate::bgp::fsm::{self, Event, Fsm, Keep, State};
use crate::bgp::link::Link;
use crate::route::abuse::Refusal;

impl SessionTask {
    /// A connection from the peer, handed over by the listener.
    pub(super) async fn incoming(&mut self, stream: TcpStream) {
        if let Err(e) = self.config.security.apply(&stream, self.config.remote.ip()) {
            warn!(peer = %self.config.name, "securing an accepted connection failed, closed: {e}");
            return;
        }
        let state = self.main.fsm.state();
        match state {
            State::Idle | State::Connect | State::Active => {
                self.main.close();
                self.main.attach(stream, false);
                self.feed(Which::Main, Event::TcpAccepted).await;
            }
            State::Established => {
                let why = Refusal::AlreadyEstablished;
                self.abuse.refuse(why, stream, fsm::collision_cease());
            }
            State::OpenSent | State::OpenConfirm if self.main.outgoing && self.extra.is_none() => {
                let mut link = Link::new(Fsm::new(fsm_config(&self.config)));
                link.attach(stream, false);
                self.extra = Some(link);
                self.feed(Which::Extra, Event::Start { passive: true })
                    .await;
                self.feed(Which::Extra, Event::TcpAccepted).await;
            }
            State::OpenSent | State::OpenConfirm => {
                let why = Refusal::AlreadyConnecting;
                self.abuse.refuse(why, stream, fsm::collision_cease());
            }
        }
    }

    /// Once either link knows the peer's BGP Identifier, keeps one (RFC 4271 §6.8).
    pub(super) async fn resolve_collision(&mut self) {
        let Some(extra) = &self.extra else { return };
        if extra.fsm.state() == State::Idle {
            self.extra = None;
            return;
        }
        let known = [self.main.fsm.negotiated(), extra.fsm.negotiated()];
        let Some(remote_id) = known.iter().flatten().map(|n| n.peer_router_id).next() else {
            return;
        };
        let local = &self.config.speaker;
        let keep =
            fsm::resolve_collision(local.router_id, local.asn, remote_id, self.config.peer_asn);
        let stop = Event::Stop {
            notification: Some(fsm::collision_cease()),
        };
        info!(peer = %self.config.name, ?keep, "connection collision resolved");
        match keep {
            Keep::Local => self.feed(Which::Extra, stop).await,
            Keep::Remote => {
                self.feed(Which::Main, stop).await;
                if let Some(extra) = self.extra.take() {
                    self.main = extra;
                }
            }
        }
        self.extra = None;
    }
}
