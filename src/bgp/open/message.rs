//! OPEN messages on the wire (RFC 4271 §4.2, RFC 5492 capabilities, RFC 9072 extended
//! optional parameters): rovgate's OPEN encoded, a peer's decoded in one pass.
//!
//! Where it sits: part of `open.rs` (re-exported there). The session task writes
//! [`encode_open`]'s bytes and hands [`decode_open`]'s `PeerOpen` to the FSM.
//!
//! By hand rather than with netgauze-bgp-pkt: netgauze 0.13 neither reads nor writes the
//! RFC 9072 form, loses its place after some capabilities real routers send (Multiple Labels,
//! RFC 8277; fixed-length ones with a wrong length) and drops a graceful-restart capability
//! that lists a family it does not know.

use std::net::Ipv4Addr;

use bytes::{BufMut, Bytes, BytesMut};
use tokio_util::codec::Decoder;

use super::add_path::{self, ADD_PATH};
use super::ext_next_hop::{self, EXTENDED_NEXT_HOP};
use super::{GracefulRestart, LocalSpeaker, PeerOpen, AS_TRANS};
use crate::bgp::wire::{self, Cursor, FrameError, Framer, MessageType, HEADER_LEN};
use crate::bgp::{Notification, Reason};
use crate::route::{Asn, Family};

/// The BGP version rovgate speaks.
const VERSION: u8 = 4;
/// Optional parameter type: Capabilities (RFC 5492), the only one rovgate knows.
const CAPABILITIES: u8 = 2;
/// Non-Ext OP Type (RFC 9072): the optional parameters use the extended form.
const EXTENDED_LENGTH: u8 = 255;

/// Capability codes rovgate reads or sends.
const MULTIPROTOCOL: u8 = 1;
const ROUTE_REFRESH: u8 = 2;
const EXTENDED_MESSAGE: u8 = 6;
const GRACEFUL_RESTART: u8 = 64;
const FOUR_OCTET_AS: u8 = 65;
const ENHANCED_ROUTE_REFRESH: u8 = 70;

/// A multiprotocol capability (code, length, AFI, reserved, SAFI) for a family.
pub(super) fn multiprotocol(f: Family) -> [u8; 6] {
    let (afi, safi) = wire::afi_safi(f);
    let [a, b] = afi.to_be_bytes();
    [MULTIPROTOCOL, 4, a, b, 0, safi]
}

/// Encodes rovgate's OPEN (whole message, header included). Its capabilities go in one
/// Capabilities parameter: in the RFC 4271 form while the parameters fit 255 octets (they
/// always have so far), else in the RFC 9072 form.
///
/// Sent: multiprotocol per local family, extended next hop when configured (RFC 8950), route
/// refresh, enhanced route refresh, 4-octet AS, graceful restart as receiving speaker only
/// (restart time, no flags, no families, RFC 4724 §3: we keep a restarting peer's routes but
/// preserve nothing of our own), extended message, and ADD-PATH send for the local families
/// when configured (RFC 7911).
pub fn encode_open(local: &LocalSpeaker) -> Bytes {
    let mut caps: Vec<u8> = local
        .families
        .iter()
        .flat_map(|&f| multiprotocol(f))
        .collect();
    caps.extend(
        ext_next_hop::capability(local.extended_next_hop, &local.families)
            .into_iter()
            .flatten(),
    );
    caps.extend([
        ROUTE_REFRESH,
        0,
        ENHANCED_ROUTE_REFRESH,
        0,
        FOUR_OCTET_AS,
        4,
    ]);
    caps.extend(local.asn.0.to_be_bytes());
    let [t0, t1] = local.graceful_restart_time.min(0x0fff).to_be_bytes();
    caps.extend([GRACEFUL_RESTART, 2, t0, t1, EXTENDED_MESSAGE, 0]);
    if local.add_path {
        caps.extend(add_path::capability(&local.families));
    }
    let mut body = BytesMut::with_capacity(16 + caps.len());
    body.put_u8(VERSION);
    body.put_u16(u16::try_from(local.asn.0).unwrap_or(AS_TRANS));
    body.put_u16(local.hold_time);
    body.put_slice(&local.router_id.octets());
    match u8::try_from(caps.len() + 2) {
        Ok(params_len) => body.put_slice(&[params_len, CAPABILITIES, caps.len() as u8]),
        Err(_) => {
            let caps_len = u16::try_from(caps.len()).unwrap_or(u16::MAX);
            body.put_slice(&[EXTENDED_LENGTH, EXTENDED_LENGTH]);
            body.put_u16(caps_len.saturating_add(3));
            body.put_u8(CAPABILITIES);
            body.put_u16(caps_len);
        }
    }
    body.put_slice(&caps);
    wire::encode_message(MessageType::Open, &body)
}

/// Decodes a peer's OPEN frame (whole message, header included).
///
/// Errors are the NOTIFICATION to send: 1/x for a bad header or length (bytes after the
/// optional parameters included), 2/1 for a version other than 4 (data: 4 as a u16), 2/6
/// for hold time 1 or 2, 2/3 for a zero, multicast or broadcast BGP Identifier (stricter
/// than RFC 6286), 2/4 for an optional parameter other than Capabilities, 2/0 for a
/// parameter that overruns the optional parameters or the message, in either form (RFC 4271
/// §6.2), or a malformed multiprotocol, graceful-restart, 4-octet AS, extended next hop or
/// ADD-PATH capability.
pub fn decode_open(frame: &[u8]) -> Result<PeerOpen, Notification> {
    let mut c = Cursor::new(body(frame)?);
    let (Some(version), Some(my_as), Some(hold_time), Some(id)) =
        (c.u8(), c.u16(), c.u16(), c.u32())
    else {
        return Err(bad_length(frame));
    };
    if version != VERSION {
        let data = u16::from(VERSION).to_be_bytes().to_vec();
        return Err(Notification::with_data(Reason::UnsupportedVersion, data));
    }
    if matches!(hold_time, 1 | 2) {
        return Err(Reason::UnacceptableHoldTime.into());
    }
    let router_id = Ipv4Addr::from(id);
    if router_id.is_unspecified() || router_id.is_multicast() || router_id.is_broadcast() {
        return Err(Reason::BadBgpId.into());
    }
    let params = parameters(&mut c)?;
    if !c.rest().is_empty() {
        return Err(bad_length(frame));
    }
    let mut p = PeerOpen {
        asn: Asn(u32::from(my_as)),
        hold_time,
        router_id,
        families: Vec::new(),
        as4: false,
        route_refresh: false,
        enhanced_route_refresh: false,
        extended_message: false,
        graceful_restart: None,
        extended_next_hop: false,
        add_path_receive: Vec::new(),
    };
    capabilities(&params, &mut p).ok_or(Reason::OpenError)?;
    Ok(p)
}

/// The body of an OPEN frame, its header checked as the [`Framer`] checks it: 1/1 for a bad
/// marker, 1/2 for a bad length or a frame longer or shorter than it, 1/3 for another type.
fn body(frame: &[u8]) -> Result<&[u8], Notification> {
    let mut buf = BytesMut::from(frame);
    match Framer::new().decode(&mut buf) {
        Ok(Some(_)) if !buf.is_empty() => Err(bad_length(frame)),
        Ok(Some(f)) if f.kind != MessageType::Open => {
            let kind = frame.get(18..19).unwrap_or_default();
            Err(Notification::with_data(
                Reason::BadMessageType,
                kind.to_vec(),
            ))
        }
        Ok(Some(_)) => Ok(frame.get(HEADER_LEN..).unwrap_or_default()),
        Ok(None) | Err(FrameError::Io(_)) => Err(bad_length(frame)),
        Err(FrameError::Notification(n)) => Err(n),
    }
}

/// 1/2 Bad Message Length, with the frame's length field as data.
fn bad_length(frame: &[u8]) -> Notification {
    let length = frame.get(16..18).unwrap_or_default();
    Notification::with_data(Reason::BadMessageLength, length.to_vec())
}

/// Reads the optional parameters: the values of the Capabilities parameters. The RFC 4271
/// form has 1-octet lengths; a non-zero length followed by type 255 announces the RFC 9072
/// form: a 2-octet length of all parameters, then each parameter with a 2-octet length.
fn parameters<'a>(c: &mut Cursor<'a>) -> Result<Vec<&'a [u8]>, Notification> {
    let malformed = || Notification::from(Reason::OpenError);
    let len = c.u8().ok_or_else(malformed)?;
    let extended = len != 0 && c.rest().first() == Some(&EXTENDED_LENGTH);
    let len = if extended {
        c.u8();
        c.u16().ok_or_else(malformed)?
    } else {
        u16::from(len)
    };
    let mut params = Cursor::new(c.take(usize::from(len)).ok_or_else(malformed)?);
    let mut values = Vec::new();
    while let Some(kind) = params.u8() {
        if kind != CAPABILITIES {
            return Err(Reason::UnsupportedOptionalParameter.into());
        }
        let len = if extended {
            params.u16()
        } else {
            params.u8().map(u16::from)
        };
        let value = len.and_then(|len| params.take(usize::from(len)));
        values.push(value.ok_or_else(malformed)?);
    }
    Ok(values)
}

/// Reads the capabilities rovgate uses from the Capabilities parameters into `p`; `None`
/// when one of them is malformed. Unknown capabilities and families other than IPv4/IPv6
/// unicast are ignored (RFC 5492); no multiprotocol capability means IPv4 unicast only (RFC
/// 4760 §8).
fn capabilities(params: &[&[u8]], p: &mut PeerOpen) -> Option<()> {
    let mut mp_seen = false;
    for &param in params {
        for (code, v) in tlvs(param)? {
            match (code, v.len()) {
                (MULTIPROTOCOL, 4) => {
                    mp_seen = true;
                    let f = wire::family(u16::from_be_bytes([v[0], v[1]]), v[3]);
                    if let Some(f) = f.filter(|f| !p.families.contains(f)) {
                        p.families.push(f);
                    }
                }
                (ROUTE_REFRESH, _) => p.route_refresh = true,
                (EXTENDED_MESSAGE, _) => p.extended_message = true,
                (GRACEFUL_RESTART, n) if n >= 2 && (n - 2) % 4 == 0 => {
                    p.graceful_restart = Some(graceful(v));
                }
                (FOUR_OCTET_AS, 4) => {
                    p.as4 = true;
                    p.asn = Asn(u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
                }
                (ENHANCED_ROUTE_REFRESH, _) => p.enhanced_route_refresh = true,
                (EXTENDED_NEXT_HOP, _) => p.extended_next_hop |= ext_next_hop::advertises(v)?,
                (ADD_PATH, n) if n % 4 == 0 => add_path::receivers(v, &mut p.add_path_receive),
                (MULTIPROTOCOL | GRACEFUL_RESTART | FOUR_OCTET_AS | ADD_PATH, _) => return None,
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

/// Splits capabilities (1-octet code and length, in either parameter form); `None` if one
/// overruns.
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
        if let Some(f) = wire::family(u16::from_be_bytes([t[0], t[1]]), t[2]) {
            out.families.push(f);
            if t[3] & 0x80 != 0 {
                out.forwarding_preserved.push(f);
            }
        }
    }
    out
}
