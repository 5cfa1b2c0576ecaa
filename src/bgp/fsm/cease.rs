//! Cease NOTIFICATIONs the session needs around the FSM: connection collision resolution
//! (RFC 4271 §6.8, RFC 6286 §2.3), administrative shutdown communications (RFC 9003) and
//! maximum prefixes reached (RFC 4486).
//!
//! Where it sits: part of `fsm.rs` (re-exported there); the session task calls these when it
//! holds two connections to one peer, or when an operator stops a session.

use std::cmp::min;
use std::net::Ipv4Addr;

use super::super::{Notification, Reason};
use crate::route::Asn;

/// Which connection of a collision to keep (RFC 4271 §6.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// The connection rovgate initiated (outgoing).
    Local,
    /// The connection the peer initiated (incoming).
    Remote,
}

/// Resolves a connection collision: the side with the higher BGP Identifier keeps the
/// connection it initiated (RFC 4271 §6.8); with equal identifiers (allowed for eBGP by
/// RFC 6286 §2.3), the side with the larger AS does.
///
/// How the session uses it: an FSM owns one connection. If the peer connects while the FSM
/// is in Connect, drop the attempt and hand the FSM the incoming connection. If it connects
/// while the FSM is in OpenSent or OpenConfirm, run a second FSM for it (`Start { passive:
/// true }`, `TcpAccepted`); as soon as either knows the peer's BGP Identifier (has reached
/// OpenConfirm), resolve, send the loser `Stop { notification: Some(collision_cease()) }` and
/// drop it. If the FSM is Established, refuse the new connection with [`collision_cease`].
pub fn resolve_collision(
    local_id: Ipv4Addr,
    local_asn: Asn,
    remote_id: Ipv4Addr,
    remote_asn: Asn,
) -> Keep {
    let (local, remote) = (u32::from(local_id), u32::from(remote_id));
    if local > remote || (local == remote && local_asn > remote_asn) {
        Keep::Local
    } else {
        Keep::Remote
    }
}

/// Cease 6/7, Connection Collision Resolution: what the losing connection gets.
pub fn collision_cease() -> Notification {
    Reason::ConnectionCollision.into()
}

/// A Cease with an RFC 9003 shutdown communication: `reason` is
/// [`Reason::AdministrativeShutdown`] or [`Reason::AdministrativeReset`]; the message is cut
/// to 255 octets at a character boundary.
pub fn administrative_cease(reason: Reason, message: &str) -> Notification {
    let mut end = min(message.len(), 255);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let mut data = Vec::with_capacity(end + 1);
    data.push(end as u8);
    data.extend_from_slice(&message.as_bytes()[..end]);
    Notification::with_data(reason, data)
}

/// Cease / Maximum Number of Prefixes Reached with the RFC 4486 data (AFI, SAFI, limit); the
/// limit covers both families, so AFI/SAFI say IPv4 unicast.
pub fn max_prefix_cease(limit: u64) -> Notification {
    let mut data = vec![0, 1, 1];
    data.extend_from_slice(&u32::try_from(limit).unwrap_or(u32::MAX).to_be_bytes());
    Notification::with_data(Reason::MaxPrefixes, data)
}
