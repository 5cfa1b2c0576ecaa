//! The counters a session task and the listener record as peers and strangers misbehave.
//!
//! Where it sits: `bgp::abuse` and the session task call these as things happen; the
//! `metrics` module describes the names and renders them for `GET /metrics`.

use crate::route::abuse::{Malformed, Refusal};

/// Counter `{peer}`: sessions closed because the peer took no data (RFC 9687).
pub const SEND_HOLD_EXPIRED_TOTAL: &str = "rovgate_send_hold_expired_total";
/// Counter `{peer, reason}`: malformed UPDATEs by RFC 7606 outcome (`treat_as_withdraw`,
/// `attribute_discard`, `session_reset`).
pub const UPDATES_MALFORMED_TOTAL: &str = "rovgate_updates_malformed_total";
/// Counter `{peer, code, subcode}`: NOTIFICATIONs sent.
pub const NOTIFICATIONS_SENT_TOTAL: &str = "rovgate_notifications_sent_total";
/// Counter `{peer, code, subcode}`: NOTIFICATIONs received.
pub const NOTIFICATIONS_RECEIVED_TOTAL: &str = "rovgate_notifications_received_total";
/// Counter `{reason}`: TCP connections refused (`unknown_address`, `already_established`,
/// `already_connecting`).
pub const CONNECTIONS_REFUSED_TOTAL: &str = "rovgate_connections_refused_total";

/// A session was closed by its send hold timer (counter `rovgate_send_hold_expired_total`).
pub fn send_hold_expired(peer: &str) {
    metrics::counter!(SEND_HOLD_EXPIRED_TOTAL, "peer" => peer.to_string()).increment(1);
}

/// A malformed UPDATE from `peer`, handled as `how` (counter
/// `rovgate_updates_malformed_total`).
pub fn update_malformed(peer: &str, how: Malformed) {
    let reason = how.label();
    metrics::counter!(UPDATES_MALFORMED_TOTAL, "peer" => peer.to_string(), "reason" => reason)
        .increment(1);
}

/// A NOTIFICATION sent to `peer` (counter `rovgate_notifications_sent_total`).
pub fn notification_sent(peer: &str, code: u8, subcode: u8) {
    let labels = notification_labels(peer, code, subcode);
    metrics::counter!(NOTIFICATIONS_SENT_TOTAL, &labels).increment(1);
}

/// A NOTIFICATION received from `peer` (counter `rovgate_notifications_received_total`).
pub fn notification_received(peer: &str, code: u8, subcode: u8) {
    let labels = notification_labels(peer, code, subcode);
    metrics::counter!(NOTIFICATIONS_RECEIVED_TOTAL, &labels).increment(1);
}

/// A TCP connection refused (counter `rovgate_connections_refused_total`).
pub fn connection_refused(why: Refusal) {
    metrics::counter!(CONNECTIONS_REFUSED_TOTAL, "reason" => why.label()).increment(1);
}

/// The labels of a NOTIFICATION: codes 1-8 and subcodes 0-15 (what the RFCs assign) as
/// numbers, anything else a peer sends as `other`, so a peer cannot grow the series
/// without bound.
fn notification_labels(peer: &str, code: u8, subcode: u8) -> [(&'static str, String); 3] {
    let number = |n: u8, known: bool| if known { n.to_string() } else { "other".into() };
    [
        ("peer", peer.to_string()),
        ("code", number(code, (1..=8).contains(&code))),
        ("subcode", number(subcode, subcode <= 15)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expect: a NOTIFICATION's code and subcode are labels only where an RFC assigns them, so
    /// a peer sending made-up ones adds one series, not 65536.
    #[test]
    fn notification_labels_are_bounded() {
        let values = |code, subcode| notification_labels("p", code, subcode).map(|(_, v)| v);
        assert_eq!(values(6, 2), ["p", "6", "2"]);
        assert_eq!(values(0, 16), ["p", "other", "other"]);
        assert_eq!(values(200, 99), ["p", "other", "other"]);
    }
}
