//! Counters of what peers and strangers did wrong: malformed UPDATEs by RFC 7606 outcome,
//! NOTIFICATIONs sent and received per peer, and connections refused by reason.
//!
//! Where it sits: the session tasks and the listener count into these (atomics, never a
//! lock); the RIB hands each peer's [`PeerAbuse`] on in its published `PeerView`, so
//! `GET /api/v1/status` reads them as they are at that moment; the HTTP task shows
//! [`Refusals`] at the status's top level. The Prometheus counters with their finer labels
//! are recorded by the sessions and the listener through `crate::metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// What RFC 7606 did about a malformed UPDATE (a fixed set: the metrics' `reason` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// The UPDATE's routes were taken as withdrawn (RFC 7606 §2).
    TreatAsWithdraw,
    /// An attribute was dropped and the routes kept.
    AttributeDiscard,
    /// The session was reset with a NOTIFICATION.
    SessionReset,
}

impl Malformed {
    /// Every outcome, in the order they are shown.
    pub const ALL: [Malformed; 3] = [
        Malformed::TreatAsWithdraw,
        Malformed::AttributeDiscard,
        Malformed::SessionReset,
    ];

    /// The name in metrics labels and the status.
    pub fn label(self) -> &'static str {
        match self {
            Malformed::TreatAsWithdraw => "treat_as_withdraw",
            Malformed::AttributeDiscard => "attribute_discard",
            Malformed::SessionReset => "session_reset",
        }
    }
}

/// One peer's counters since the daemon started (they survive its sessions).
#[derive(Debug, Default)]
pub struct PeerAbuse {
    malformed: [AtomicU64; 3],
    notifications_sent: AtomicU64,
    notifications_received: AtomicU64,
}

impl PeerAbuse {
    /// One malformed UPDATE handled this way.
    pub fn malformed(&self, how: Malformed) {
        self.malformed[how as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// One NOTIFICATION sent to the peer.
    pub fn notification_sent(&self) {
        self.notifications_sent.fetch_add(1, Ordering::Relaxed);
    }

    /// One NOTIFICATION received from the peer.
    pub fn notification_received(&self) {
        self.notifications_received.fetch_add(1, Ordering::Relaxed);
    }

    /// Malformed UPDATEs handled this way so far.
    pub fn malformed_count(&self, how: Malformed) -> u64 {
        self.malformed[how as usize].load(Ordering::Relaxed)
    }
}

/// `{"malformed": {"treat_as_withdraw": N, "attribute_discard": N, "session_reset": N},
/// "notifications_sent": N, "notifications_received": N}`
impl Serialize for PeerAbuse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let malformed = Malformed::ALL.map(|m| (m.label(), self.malformed_count(m)));
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("malformed", &Counts(&malformed))?;
        let sent = self.notifications_sent.load(Ordering::Relaxed);
        map.serialize_entry("notifications_sent", &sent)?;
        let received = self.notifications_received.load(Ordering::Relaxed);
        map.serialize_entry("notifications_received", &received)?;
        map.end()
    }
}

/// Why a TCP connection was refused (a fixed set: the metrics' `reason` label; the remote
/// address is never a label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The address is no configured peer's.
    UnknownAddress,
    /// The peer's session is already established.
    AlreadyEstablished,
    /// The peer already has a second connection being resolved as a collision.
    AlreadyConnecting,
}

impl Refusal {
    /// Every reason, in the order they are shown.
    pub const ALL: [Refusal; 3] = [
        Refusal::UnknownAddress,
        Refusal::AlreadyEstablished,
        Refusal::AlreadyConnecting,
    ];

    /// The name in metrics labels and the status.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::UnknownAddress => "unknown_address",
            Refusal::AlreadyEstablished => "already_established",
            Refusal::AlreadyConnecting => "already_connecting",
        }
    }
}

/// Connections refused since the daemon started, by reason; serialized as
/// `{"unknown_address": N, "already_established": N, "already_connecting": N}`.
#[derive(Debug, Default)]
pub struct Refusals([AtomicU64; 3]);

impl Refusals {
    /// One connection refused for this reason.
    pub fn count(&self, why: Refusal) {
        self.0[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Connections refused for this reason so far.
    pub fn get(&self, why: Refusal) -> u64 {
        self.0[why as usize].load(Ordering::Relaxed)
    }
}

impl Serialize for Refusals {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Counts(&Refusal::ALL.map(|r| (r.label(), self.get(r)))).serialize(s)
    }
}

/// Named counts as a JSON object.
struct Counts<'a>(&'a [(&'static str, u64)]);

impl Serialize for Counts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_serialize_as_the_status_shows_them() {
        let peer = PeerAbuse::default();
        peer.malformed(Malformed::TreatAsWithdraw);
        peer.malformed(Malformed::TreatAsWithdraw);
        peer.malformed(Malformed::SessionReset);
        peer.notification_sent();
        let json = serde_json::to_value(&peer).unwrap();
        let want = serde_json::json!({
            "malformed": {"treat_as_withdraw": 2, "attribute_discard": 0, "session_reset": 1},
            "notifications_sent": 1,
            "notifications_received": 0,
        });
        assert_eq!(json, want);

        let refused = Refusals::default();
        refused.count(Refusal::UnknownAddress);
        refused.count(Refusal::AlreadyEstablished);
        refused.count(Refusal::UnknownAddress);
        let want = serde_json::json!({
            "unknown_address": 2, "already_established": 1, "already_connecting": 0,
        });
        assert_eq!(serde_json::to_value(&refused).unwrap(), want);
    }
}
