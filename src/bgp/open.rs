//! OPEN messages and capability negotiation (RFC 4271 §4.2 and §6.2, RFC 5492).
//!
//! Where it sits: when the FSM (`fsm.rs`) says `SendOpen`, the session task writes
//! [`encode_open`]'s bytes; it decodes the peer's OPEN frame with [`decode_open`] and hands the
//! [`PeerOpen`] to the FSM, which calls [`negotiate`]. The [`Negotiated`] result configures the
//! session's codec (4-octet AS, extended messages) and tells the RIB the peer's families.
//!
//! Encoding uses netgauze-bgp-pkt (`BgpOpenMessage` through `BgpCodec`); decoding uses its
//! parser for the header and fixed fields and reads capabilities by hand (netgauze 0.13
//! mis-parses some real ones, see `capabilities`). Choices:
//! - We advertise, in one parameter: multiprotocol per local family, route refresh (2),
//!   enhanced route refresh (70), 4-octet AS (65), extended message (6) and graceful restart
//!   (64) as receiving speaker only (restart time, no flags, no families, RFC 4724 §3: we
//!   keep a restarting peer's routes but preserve nothing of our own).
//! - Unknown capabilities and families other than IPv4/IPv6 unicast are ignored (RFC 5492);
//!   a malformed multiprotocol, graceful-restart or 4-octet AS capability is 2/0 (RFC 4271
//!   §6.2). No multiprotocol capability means IPv4 unicast only (RFC 4760 §8).
//! - No family in common: 2/7 Unsupported Capability listing our multiprotocol capabilities
//!   (RFC 5492 §3 allows it); a session that can carry no route only hides a mistake.
//! - A BGP Identifier equal to ours is refused (2/3) only on iBGP (RFC 6286 §2.2). netgauze
//!   also refuses multicast and broadcast identifiers (2/3), stricter than RFC 6286.
//! - RFC 9072 extended optional parameters are not supported: 2/4.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use bytes::{Bytes, BytesMut};
use netgauze_bgp_pkt::capabilities::{
    BgpCapability, FourOctetAsCapability, GracefulRestartCapability,
    MultiProtocolExtensionsCapability,
};
use netgauze_bgp_pkt::codec::{BgpCodec, BgpCodecDecoderError};
use netgauze_bgp_pkt::nlri::{Ipv4UnicastAddress, Ipv6UnicastAddress, NlriAddressType};
use netgauze_bgp_pkt::open::{BgpOpenMessage, BgpOpenMessageParameter};
use netgauze_bgp_pkt::wire::deserializer::open::{
    BgpOpenMessageParsingError, BgpParameterParsingError,
};
use netgauze_bgp_pkt::wire::deserializer::{BgpMessageParsingError, BgpParsingContext};
use netgauze_bgp_pkt::BgpMessage;
use tokio_util::codec::{Decoder, Encoder};

use super::{Notification, Reason};
use crate::route::Family;
use crate::rpki::Asn;

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
}

/// The family of an AFI/SAFI pair, if rovgate routes it.
pub fn family(afi: u16, safi: u8) -> Option<Family> {
    match (afi, safi) {
        (1, 1) => Some(Family::Ipv4Unicast),
        (2, 1) => Some(Family::Ipv6Unicast),
        _ => None,
    }
}

/// A multiprotocol capability's value: AFI, reserved, SAFI.
fn mp_value(f: Family) -> [u8; 4] {
    match f {
        Family::Ipv4Unicast => [0, 1, 0, 1],
        Family::Ipv6Unicast => [0, 2, 0, 1],
    }
}

fn mp_capability(f: Family) -> BgpCapability {
    let address_type = match f {
        Family::Ipv4Unicast => Ipv4UnicastAddress::address_type(),
        Family::Ipv6Unicast => Ipv6UnicastAddress::address_type(),
    };
    BgpCapability::MultiProtocolExtensions(MultiProtocolExtensionsCapability::new(address_type))
}

/// Encodes rovgate's OPEN (whole message, header included).
pub fn encode_open(local: &LocalSpeaker) -> Bytes {
    let my_as = u16::try_from(local.asn.0).unwrap_or(AS_TRANS);
    let mut caps: Vec<BgpCapability> = local.families.iter().map(|&f| mp_capability(f)).collect();
    caps.extend([
        BgpCapability::RouteRefresh,
        BgpCapability::EnhancedRouteRefresh,
        BgpCapability::FourOctetAs(FourOctetAsCapability::new(local.asn.0)),
        BgpCapability::GracefulRestartCapability(GracefulRestartCapability::new(
            false,
            false,
            local.graceful_restart_time.min(0x0fff),
            Vec::new(),
        )),
        BgpCapability::ExtendedMessage,
    ]);
    let params = vec![BgpOpenMessageParameter::new_capabilities(caps)];
    let open = BgpOpenMessage::new(my_as, local.hold_time, local.router_id, params);
    let mut buf = BytesMut::with_capacity(64);
    BgpCodec::default()
        .encode(BgpMessage::Open(open), &mut buf)
        .expect("an OPEN of a few fixed capabilities always encodes");
    buf.freeze()
}

/// Decodes a peer's OPEN frame (whole message, header included).
///
/// Errors are the NOTIFICATION to send: 1/x for a bad header or length, 2/1 for a version
/// other than 4 (data: 4 as a u16), 2/3 for a zero, multicast or broadcast BGP Identifier,
/// 2/4 for an unknown optional parameter, 2/6 for hold time 1 or 2, 2/0 for a malformed
/// parameter or a malformed multiprotocol, graceful-restart or 4-octet AS capability.
pub fn decode_open(frame: &[u8]) -> Result<PeerOpen, Notification> {
    // netgauze checks the header and the fixed fields; its capability errors are collected,
    // not fatal, and its capability list is not used (see `capabilities`).
    let ctx = BgpParsingContext::new(
        true,
        HashMap::new(),
        HashMap::new(),
        false,
        false,
        false,
        false,
    );
    let mut codec = BgpCodec::new_from_ctx(true, ctx);
    let mut buf = BytesMut::from(frame);
    let bad_length = || {
        Notification::with_data(
            Reason::BadMessageLength,
            frame.get(16..18).unwrap_or_default().to_vec(),
        )
    };
    let open = match codec.decode(&mut buf) {
        Ok(Some((BgpMessage::Open(open), _))) if buf.is_empty() => open,
        Ok(Some((_, _))) if buf.is_empty() => {
            return Err(Notification::with_data(
                Reason::BadMessageType,
                frame.get(18..19).unwrap_or_default().to_vec(),
            ))
        }
        Ok(_) => return Err(bad_length()),
        Err(BgpCodecDecoderError::BgpMessageParsingError(e)) => return Err(notification(e)),
        Err(_) => return Err(bad_length()),
    };
    let mut p = PeerOpen {
        asn: Asn(u32::from(open.my_as())),
        hold_time: open.hold_time(),
        router_id: open.bgp_id(),
        families: Vec::new(),
        as4: false,
        route_refresh: false,
        enhanced_route_refresh: false,
        extended_message: false,
        graceful_restart: None,
    };
    let params = frame.get(29..).unwrap_or_default();
    capabilities(params, &mut p).ok_or(Reason::OpenError)?;
    Ok(p)
}

/// Reads the capabilities rovgate uses from the optional parameters into `p`; `None` when
/// one of them is malformed.
///
/// By hand rather than from netgauze's list: netgauze 0.13 loses its place after some
/// capabilities (Multiple Labels, RFC 8277, as real routers send it; fixed-length ones with
/// a wrong length) and drops a graceful-restart capability that lists a family it does not
/// know. The parameters' structure has already been checked by netgauze.
fn capabilities(params: &[u8], p: &mut PeerOpen) -> Option<()> {
    let mut mp_seen = false;
    for (kind, value) in tlvs(params)? {
        if kind != 2 {
            continue;
        }
        for (code, v) in tlvs(value)? {
            match (code, v.len()) {
                (1, 4) => {
                    mp_seen = true;
                    let f = family(u16::from_be_bytes([v[0], v[1]]), v[3]);
                    if let Some(f) = f.filter(|f| !p.families.contains(f)) {
                        p.families.push(f);
                    }
                }
                (2, _) => p.route_refresh = true,
                (6, _) => p.extended_message = true,
                (64, n) if n >= 2 && (n - 2) % 4 == 0 => p.graceful_restart = Some(graceful(v)),
                (65, 4) => {
                    p.as4 = true;
                    p.asn = Asn(u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
                }
                (70, _) => p.enhanced_route_refresh = true,
                (1 | 64 | 65, _) => return None,
                _ => {}
            }
        }
    }
    if !mp_seen {
        p.families.push(Family::Ipv4Unicast);
    }
    p.families.sort();
    Some(())
}

/// Splits type-length-value triples with 1-octet types and lengths; `None` if one overruns.
fn tlvs(mut b: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while let [kind, len, rest @ ..] = b {
        let value = rest.get(..usize::from(*len))?;
        out.push((*kind, value));
        b = &rest[value.len()..];
    }
    b.is_empty().then_some(out)
}

/// A graceful-restart capability's value (RFC 4724 §3), its length already checked.
fn graceful(v: &[u8]) -> GracefulRestart {
    let mut out = GracefulRestart {
        restart_time: u16::from_be_bytes([v[0] & 0x0f, v[1]]),
        restarting: v[0] & 0x80 != 0,
        families: Vec::new(),
        forwarding_preserved: Vec::new(),
    };
    for t in v[2..].chunks_exact(4) {
        if let Some(f) = family(u16::from_be_bytes([t[0], t[1]]), t[2]) {
            out.families.push(f);
            if t[3] & 0x80 != 0 {
                out.forwarding_preserved.push(f);
            }
        }
    }
    out
}

/// The NOTIFICATION for an OPEN netgauze could not parse (RFC 4271 §6.1, §6.2).
fn notification(e: BgpMessageParsingError) -> Notification {
    use BgpMessageParsingError as M;
    use BgpOpenMessageParsingError as O;
    match e {
        M::ConnectionNotSynchronized { .. } => Reason::ConnectionNotSynchronized.into(),
        M::UndefinedBgpMessageType { code, .. } => {
            Notification::with_data(Reason::BadMessageType, vec![code])
        }
        M::BadMessageLength { length, .. } | M::UnparseableBytes { length, .. } => {
            Notification::with_data(Reason::BadMessageLength, length.to_be_bytes().to_vec())
        }
        M::BgpOpenMessageParsingError(o) => match o {
            O::UnsupportedVersionNumber { .. } => {
                Notification::with_data(Reason::UnsupportedVersion, 4u16.to_be_bytes().to_vec())
            }
            O::UnacceptableHoldTime { .. } => Reason::UnacceptableHoldTime.into(),
            O::InvalidBgpId { .. } => Reason::BadBgpId.into(),
            O::ParameterError(BgpParameterParsingError::UndefinedParameterType { .. }) => {
                Reason::UnsupportedOptionalParameter.into()
            }
            O::Parse(_) | O::ParameterError(_) => Reason::OpenError.into(),
        },
        // A truncated header, or a message that is not an OPEN.
        M::Parse(_) => Reason::BadMessageLength.into(),
        _ => Reason::BadMessageType.into(),
    }
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
            .flat_map(|&f| [[1, 4].as_slice(), &mp_value(f)].concat())
            .collect();
        return Err(Notification::with_data(Reason::UnsupportedCapability, data));
    }
    let hold_time = local.hold_time.min(peer.hold_time);
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
    })
}

#[cfg(test)]
#[path = "open_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "open_capture_tests.rs"]
mod capture_tests;
