//! What peers and strangers do wrong, counted and logged in one place: malformed UPDATEs,
//! NOTIFICATIONs each way, refused connections.
//!
//! Where it sits: each session task holds a [`PeerAbuseLog`] for its peer, the listener a
//! [`Refuser`]. Each event goes to three places: the counters the status shows
//! (`route::abuse`), the Prometheus counters (`bgp::counters`), and the log, rate-limited
//! per peer and kind of line (`log_limit`), since a peer or anyone who can reach the port
//! can cause these lines at will.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::{info, warn};

use super::counters;
use super::log_limit::LogLimit;
use super::wire::{self, Faults};
use super::{Notification, Reason};
use crate::route::abuse::{Malformed, PeerAbuse, Refusal, Refusals};

/// The NOTIFICATION error code Cease (RFC 4271 §4.5).
const CEASE: u8 = 6;
/// How long a refused connection waits for the peer to close after the NOTIFICATION.
const REFUSE_LINGER: std::time::Duration = std::time::Duration::from_secs(2);

/// Counts and logs what one peer did wrong.
#[derive(Debug)]
pub struct PeerAbuseLog {
    peer: String,
    counts: Arc<PeerAbuse>,
    refusals: Arc<Refusals>,
    malformed_log: LogLimit,
    connection_log: LogLimit,
}

impl PeerAbuseLog {
    /// The log of the peer named `peer`, counting into `counts` and `refusals`.
    pub fn new(peer: &str, counts: Arc<PeerAbuse>, refusals: Arc<Refusals>) -> Self {
        PeerAbuseLog {
            peer: peer.to_string(),
            counts,
            refusals,
            malformed_log: LogLimit::new(format!("malformed UPDATEs from {peer}")),
            connection_log: LogLimit::new(format!("connections and NOTIFICATIONs of {peer}")),
        }
    }

    /// An UPDATE decoded with these RFC 7606 errors (none: nothing happens).
    pub fn faults(&mut self, faults: &Faults) {
        if let Some(f) = faults.withdraw {
            self.malformed(Malformed::TreatAsWithdraw);
            if self.malformed_log.admit() {
                warn!(peer = %self.peer, attribute = f.attribute, why = f.why, "malformed UPDATE: its routes are treated as withdrawn (RFC 7606)");
            }
        }
        if let Some(f) = faults.discard {
            self.malformed(Malformed::AttributeDiscard);
            if self.malformed_log.admit() {
                info!(peer = %self.peer, attribute = f.attribute, why = f.why, "malformed UPDATE: attribute discarded (RFC 7606)");
            }
        }
    }

    /// An UPDATE so malformed that the session is reset with `n`.
    pub fn session_reset(&mut self, n: &Notification) {
        self.malformed(Malformed::SessionReset);
        if self.malformed_log.admit() {
            warn!(peer = %self.peer, code = n.code, subcode = n.subcode, "malformed UPDATE: session reset: {n}");
        }
    }

    fn malformed(&self, how: Malformed) {
        self.counts.malformed(how);
        counters::update_malformed(&self.peer, how);
    }

    /// A NOTIFICATION sent to the peer: an error the peer made at warn, a Cease (rovgate's
    /// own decision: shutdown, de-configured, collision) at info.
    pub fn notification_sent(&mut self, n: &Notification) {
        self.count_sent(n);
        if !self.connection_log.admit() {
            return;
        }
        if n.code == CEASE {
            info!(peer = %self.peer, code = n.code, subcode = n.subcode, "sending NOTIFICATION: {n}");
        } else {
            warn!(peer = %self.peer, code = n.code, subcode = n.subcode, "sending NOTIFICATION: {n}");
        }
    }

    fn count_sent(&self, n: &Notification) {
        self.counts.notification_sent();
        counters::notification_sent(&self.peer, n.code, n.subcode);
    }

    /// A NOTIFICATION received from the peer.
    pub fn notification_received(&mut self, n: &Notification) {
        self.counts.notification_received();
        counters::notification_received(&self.peer, n.code, n.subcode);
        if self.connection_log.admit() {
            info!(peer = %self.peer, code = n.code, subcode = n.subcode, "NOTIFICATION received: {n}");
        }
    }

    /// Refuses a connection from the peer that the session cannot take (`why`), sending
    /// `n` on it.
    pub fn refuse(&mut self, why: Refusal, stream: TcpStream, n: Notification) {
        count_refusal(&self.refusals, why);
        self.count_sent(&n);
        if self.connection_log.admit() {
            let from = stream.peer_addr().ok();
            info!(peer = %self.peer, ?from, reason = why.label(), "BGP connection refused: {n}");
        }
        tokio::spawn(refuse(stream, n));
    }
}

/// Refuses connections from addresses that are no configured peer's.
#[derive(Debug)]
pub struct Refuser {
    refusals: Arc<Refusals>,
    log: LogLimit,
}

impl Refuser {
    /// A refuser counting into `refusals`.
    pub fn new(refusals: Arc<Refusals>) -> Self {
        Refuser {
            refusals,
            log: LogLimit::new("connections from addresses that are no configured peer's"),
        }
    }

    /// Sends Cease / Connection Rejected (RFC 4486) on `stream` from `from` and closes it.
    pub fn unknown_address(&mut self, stream: TcpStream, from: SocketAddr) {
        count_refusal(&self.refusals, Refusal::UnknownAddress);
        if self.log.admit() {
            info!(%from, "BGP connection from an address that is not a configured peer: rejected");
        }
        tokio::spawn(refuse(stream, Reason::ConnectionRejected.into()));
    }
}

fn count_refusal(refusals: &Refusals, why: Refusal) {
    refusals.count(why);
    counters::connection_refused(why);
}

/// Sends a NOTIFICATION on a connection that is not taken, and closes it once the peer
/// closes its side too (at most [`REFUSE_LINGER`] later): closing it with the peer's OPEN
/// still unread would reset it, and a peer still sending may then never read the
/// NOTIFICATION.
async fn refuse(mut stream: TcpStream, n: Notification) {
    // The peer may be gone already; there is nothing more to do either way.
    let _ = stream.write_all(&wire::notification(&n)).await;
    let _ = stream.shutdown().await;
    let mut buf = [0u8; 4096];
    let drain = async { while stream.read(&mut buf).await.is_ok_and(|n| n > 0) {} };
    let _ = tokio::time::timeout(REFUSE_LINGER, drain).await;
}
