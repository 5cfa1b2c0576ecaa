//! OPEN messages and capability negotiation (RFC 4271 §4.2 and §6.2, RFC 5492).
//!
//! Where it sits: when the FSM (`fsm.rs`) says `SendOpen`, the session task writes
//! [`encode_open`]'s bytes; it decodes the peer's OPEN frame with [`decode_open`] and hands the
//! [`PeerOpen`] to the FSM, which calls [`negotiate`]. The [`Negotiated`] result configures the
//! session's codec (4-octet AS, extended messages, extended next hop) and tells the RIB the peer's families.
//!
//! The bytes are in `open/message.rs` ([`encode_open`], [`decode_open`]), one pass each, the
//! RFC 9072 extended optional parameters included. Choices:
//! - Unknown capabilities and families other than IPv4/IPv6 unicast are ignored (RFC 5492);
//!   a malformed multiprotocol, graceful-restart, 4-octet AS or extended next hop (RFC 8950)
//!   capability is 2/0 (RFC 4271 §6.2). No multiprotocol capability means IPv4 unicast only
//!   (RFC 4760 §8).
//! - No family in common: 2/7 Unsupported Capability listing our multiprotocol capabilities
//!   (RFC 5492 §3 allows it); a session that can carry no route only hides a mistake.
//! - A BGP Identifier equal to ours is refused (2/3) only on iBGP (RFC 6286 §2.2); a
//!   multicast or broadcast identifier is refused (2/3) always, stricter than RFC 6286.
//! - Optional parameters other than Capabilities are 2/4.

mod add_path;
mod ext_next_hop;
mod message;

use std::net::Ipv4Addr;

use super::{Notification, Reason};
use crate::route::{Asn, Family};

pub use message::{decode_open, encode_open};

/// AS_TRANS (RFC 6793): My AS in an OPEN from a speaker whose AS needs 4 octets.
pub const AS_TRANS: u16 = 23456;
/// The hold time rovgate proposes unless configured (RFC 4271 §10 suggests 90 s).
pub const DEFAULT_HOLD_TIME: u16 = 90;
/// The graceful-restart Restart Time rovgate advertises unless configured.
pub const DEFAULT_RESTART_TIME: u16 = 120;

/// Who rovgate is on a session: what goes into its OPEN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalSpeaker {
    /// rovgate's AS.
    pub asn: Asn,
    /// rovgate's BGP Identifier.
    pub router_id: Ipv4Addr,
    /// The proposed hold time in seconds (0: no keepalives; else at least 3).
    pub hold_time: u16,
    /// The families rovgate offers on this session.
    pub families: Vec<Family>,
    /// The graceful-restart Restart Time, seconds (12 bits; larger values are capped at 4095).
    pub graceful_restart_time: u16,
    /// Offer IPv4 unicast routes with IPv6 next hops (RFC 8950); default false.
    pub extended_next_hop: bool,
    /// Offer to send ADD-PATH (RFC 7911) for `families`.
    pub add_path: bool,
}

impl LocalSpeaker {
    /// A speaker with the default hold time, both families and the default restart time.
    pub fn new(asn: Asn, router_id: Ipv4Addr) -> Self {
        LocalSpeaker {
            asn,
            router_id,
            hold_time: DEFAULT_HOLD_TIME,
            families: Family::ALL.to_vec(),
            graceful_restart_time: DEFAULT_RESTART_TIME,
            extended_next_hop: false,
            add_path: false,
        }
    }
}

/// A graceful-restart capability (RFC 4724).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GracefulRestart {
    /// Restart Time: how long, in seconds, to keep the speaker's routes after it went away.
    pub restart_time: u16,
    /// The R bit: the speaker has just restarted.
    pub restarting: bool,
    /// The families whose routes the speaker wants kept across its restart.
    pub families: Vec<Family>,
    /// The subset of `families` whose F bit is set (forwarding state preserved). After a
    /// restart, stale routes of the other families must be removed at once (RFC 4724 §4.2).
    pub forwarding_preserved: Vec<Family>,
}

/// What a peer's OPEN says, in rovgate's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerOpen {
    /// The peer's AS: the 4-octet AS capability's value if present, else My AS.
    pub asn: Asn,
    /// The proposed hold time.
    pub hold_time: u16,
    /// The BGP Identifier.
    pub router_id: Ipv4Addr,
    /// The families from multiprotocol capabilities that rovgate knows; IPv4 unicast alone
    /// when the peer sent no multiprotocol capability (RFC 4760 §8).
    pub families: Vec<Family>,
    /// 4-octet AS capability (RFC 6793).
    pub as4: bool,
    /// Route refresh capability (RFC 2918), code 2 (the pre-standard code 128 is not counted).
    pub route_refresh: bool,
    /// Enhanced route refresh capability (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// Extended message capability (RFC 8654).
    pub extended_message: bool,
    /// Graceful restart capability (RFC 4724).
    pub graceful_restart: Option<GracefulRestart>,
    /// Extended next hop capability (RFC 8950) listing IPv4 unicast with IPv6 next hops.
    pub extended_next_hop: bool,
    /// The families the peer can receive ADD-PATH for (RFC 7911: receive or both).
    pub add_path_receive: Vec<Family>,
}

/// What both sides agreed on: the session runs with these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// The peer's AS (as configured, and as the peer said).
    pub peer_asn: Asn,
    /// The peer's BGP Identifier.
    pub peer_router_id: Ipv4Addr,
    /// The smaller of both hold times, seconds; 0: no hold timer and no keepalives.
    pub hold_time: u16,
    /// The keepalive interval, `hold_time / 3` seconds (0 when `hold_time` is 0).
    pub keepalive: u16,
    /// Families both sides support, in `Family` order; never empty.
    pub families: Vec<Family>,
    /// Both sides sent 4-octet AS: AS_PATH is encoded with 4-octet ASNs.
    pub as4: bool,
    /// The peer may send ROUTE-REFRESH (both sides advertised it).
    pub route_refresh: bool,
    /// Enhanced route refresh (both sides).
    pub enhanced_route_refresh: bool,
    /// Messages up to 65535 octets (both sides); else 4096.
    pub extended_message: bool,
    /// The peer's graceful-restart capability restricted to the negotiated families; rovgate
    /// is its receiving speaker (keeps its routes as stale for `restart_time`).
    pub graceful_restart: Option<GracefulRestart>,
    /// IPv4 unicast routes may have IPv6 next hops, both ways (RFC 8950: both sides
    /// advertised <1, 1, 2> and IPv4 unicast was negotiated).
    pub extended_next_hop: bool,
    /// The families rovgate sends every path of, with path identifiers (RFC 7911): it
    /// offered to send, and the peer can receive.
    pub add_path: Vec<Family>,
}

/// Checks a peer's OPEN against rovgate's and the configured peer AS, and agrees on the rest.
///
/// Errors, each the NOTIFICATION to send: 2/2 the AS is not `expected_asn`; 2/6 hold time 1
/// or 2; 2/3 BGP Identifier 0.0.0.0, or equal to ours on iBGP; 2/7 no family in common.
pub fn negotiate(
    local: &LocalSpeaker,
    expected_asn: Asn,
    peer: &PeerOpen,
) -> Result<Negotiated, Notification> {
    if peer.asn != expected_asn {
        return Err(Reason::BadPeerAs.into());
    }
    if matches!(peer.hold_time, 1 | 2) {
        return Err(Reason::UnacceptableHoldTime.into());
    }
    let ibgp = expected_asn == local.asn;
    if peer.router_id.is_unspecified() || (ibgp && peer.router_id == local.router_id) {
        return Err(Reason::BadBgpId.into());
    }
    let families: Vec<Family> = Family::ALL
        .into_iter()
        .filter(|f| local.families.contains(f) && peer.families.contains(f))
        .collect();
    if families.is_empty() {
        // The data: our multiprotocol capabilities, code 1, length 4 (RFC 5492 §3).
        let data: Vec<u8> = (local.families.iter())
            .flat_map(|&f| message::multiprotocol(f))
            .collect();
        return Err(Notification::with_data(Reason::UnsupportedCapability, data));
    }
    let hold_time = local.hold_time.min(peer.hold_time);
    let extended_next_hop = local.extended_next_hop
        && peer.extended_next_hop
        && families.contains(&Family::Ipv4Unicast);
    let graceful_restart = peer.graceful_restart.as_ref().map(|gr| GracefulRestart {
        families: gr
            .families
            .iter()
            .copied()
            .filter(|f| families.contains(f))
            .collect(),
        forwarding_preserved: (gr.forwarding_preserved.iter().copied())
            .filter(|f| families.contains(f))
            .collect(),
        ..gr.clone()
    });
    let add_path = (peer.add_path_receive.iter().copied())
        .filter(|f| local.add_path && families.contains(f))
        .collect();
    Ok(Negotiated {
        peer_asn: peer.asn,
        peer_router_id: peer.router_id,
        hold_time,
        keepalive: hold_time / 3,
        families,
        as4: peer.as4,
        route_refresh: peer.route_refresh,
        enhanced_route_refresh: peer.enhanced_route_refresh,
        extended_message: peer.extended_message,
        graceful_restart,
        extended_next_hop,
        add_path,
    })
}

#[cfg(test)]
#[path = "open_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "open_capture_tests.rs"]
mod capture_tests;

#[cfg(test)]
#[path = "open_rfc9072_tests.rs"]
mod rfc9072_tests;
