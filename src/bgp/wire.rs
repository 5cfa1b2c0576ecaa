//! The BGP wire codec: framing, UPDATE decode into `route::Update`, UPDATE encode from
//! `route::Export`, and the small messages (KEEPALIVE, NOTIFICATION, ROUTE-REFRESH).
//!
//! Where it sits: inside a session task, between the peer's TCP stream and the RIB. The
//! session reads [`Frame`]s with [`Framer`], hands UPDATE frames to [`decode_update`] and
//! sends the resulting `route::Update` to the RIB; it turns the RIB's `route::Export`s into
//! messages with [`encode_updates`]. OPEN is encoded and decoded by `bgp::open`.
//!
//! UPDATE is hand-written rather than taken from netgauze because a route server passes
//! attributes through: only ORIGIN, AS_PATH/AS4_PATH, NEXT_HOP, MED and MP_REACH/MP_UNREACH
//! are parsed, every other attribute keeps its wire bytes in `AttrSet::other`, and each
//! attribute set is encoded once per AS-number width for all peers (`AttrSet::encoded`).
//! Every function here is a pure function over bytes (easy to fuzz) and never panics on
//! peer input; errors are RFC 4271 §6 / RFC 7606 NOTIFICATIONs.
//!
//! Read [`decode_update`]'s doc for the RFC 7606 outcome of each malformed attribute.

mod actions;
mod aspath;
pub mod attr;
mod bgp4mp;
mod cursor;
mod decode;
mod encode;
mod frame;
mod tags;
pub use tags::scrub as scrub_tags;
mod nlri;
mod update_attrs;

#[cfg(test)]
mod tests;

use bytes::{BufMut, Bytes, BytesMut};

pub use actions::read_actions;
pub use bgp4mp::{Bgp4mpMessage, Bgp4mpMessages};
pub(crate) use cursor::Cursor;
pub use decode::{
    decode_update, decode_update_faults, decode_update_paths, update_prefixes, Fault, Faults,
};
pub use encode::encode_updates;
pub use frame::{Frame, FrameError, Framer, MessageType};

use super::{Notification, Reason};
use crate::route::Family;

/// The fixed BGP message header: 16-byte marker, 2-byte length, 1-byte type.
pub const HEADER_LEN: usize = 19;
/// The largest message without RFC 8654 extended messages.
pub const MAX_LEN: usize = 4096;
/// The largest message once RFC 8654 extended messages are negotiated.
pub const MAX_LEN_EXTENDED: usize = 65535;
/// AS_TRANS (RFC 6793): stands for a 4-octet ASN towards 2-octet peers.
pub const AS_TRANS: u32 = 23456;

/// What was negotiated with a peer and matters to the codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// Both sides advertised 4-octet AS numbers (RFC 6793): AS_PATH carries 4-octet ASNs.
    pub as4: bool,
    /// The largest message either way: [`MAX_LEN`], or [`MAX_LEN_EXTENDED`] after RFC 8654.
    pub max_len: usize,
    /// The peer is configured to get the RFC 8097 extended community on tagged routes.
    pub rov_ext_community: bool,
    /// RFC 8950 was negotiated: IPv4 unicast routes may carry IPv6 next hops, in
    /// MP_REACH_NLRI with AFI 1, both ways.
    pub extended_next_hop: bool,
}

/// The families whose prefixes a sender puts after ADD-PATH path identifiers (RFC 7911:
/// it advertised Send and its receiver Receive for them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathIds {
    /// IPv4 unicast prefixes carry path identifiers.
    pub ipv4: bool,
    /// IPv6 unicast prefixes carry path identifiers.
    pub ipv6: bool,
}

impl PathIds {
    /// Whether `family`'s prefixes carry path identifiers.
    pub fn of(self, family: Family) -> bool {
        match family {
            Family::Ipv4Unicast => self.ipv4,
            Family::Ipv6Unicast => self.ipv6,
        }
    }

    /// Whether any family's do.
    pub fn any(self) -> bool {
        self.ipv4 || self.ipv6
    }
}

/// The 19-byte KEEPALIVE message.
pub fn keepalive() -> Bytes {
    const KEEPALIVE: [u8; HEADER_LEN] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0, 19, 4,
    ];
    Bytes::from_static(&KEEPALIVE)
}

/// A whole message of this type with this body (header added); `bgp::open` uses it for
/// OPEN. The body must fit the length field: callers keep it under the negotiated maximum.
pub fn encode_message(kind: MessageType, body: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(HEADER_LEN + body.len());
    out.put_bytes(0xff, 16);
    out.put_u16(u16::try_from(HEADER_LEN + body.len()).unwrap_or(u16::MAX));
    out.put_u8(kind.code());
    out.put_slice(body);
    out.freeze()
}

/// A NOTIFICATION message (RFC 4271 §4.5). Data is cut so the message fits 4096 bytes,
/// the size every peer accepts.
pub fn notification(n: &Notification) -> Bytes {
    let room = MAX_LEN - HEADER_LEN - 2;
    let data = n.data.get(..room).unwrap_or(&n.data);
    let mut body = Vec::with_capacity(2 + data.len());
    body.extend_from_slice(&[n.code, n.subcode]);
    body.extend_from_slice(data);
    encode_message(MessageType::Notification, &body)
}

/// Reads a NOTIFICATION frame (header included). A frame too short to hold code and
/// subcode (the [`Framer`] never yields one) reads as code 0.
pub fn decode_notification(frame: &[u8]) -> Notification {
    let body = frame.get(HEADER_LEN..).unwrap_or_default();
    Notification::new(
        body.first().copied().unwrap_or(0),
        body.get(1).copied().unwrap_or(0),
        Bytes::copy_from_slice(body.get(2..).unwrap_or_default()),
    )
}

/// ROUTE-REFRESH subtypes (RFC 7313): a plain request.
pub const REFRESH_NORMAL: u8 = 0;
/// ROUTE-REFRESH subtype: beginning of a route refresh.
pub const REFRESH_BORR: u8 = 1;
/// ROUTE-REFRESH subtype: end of a route refresh.
pub const REFRESH_EORR: u8 = 2;

/// A ROUTE-REFRESH message (RFC 2918) for this family with this subtype (RFC 7313:
/// [`REFRESH_NORMAL`], [`REFRESH_BORR`], [`REFRESH_EORR`]).
pub fn route_refresh(family: Family, subtype: u8) -> Bytes {
    let (afi, safi) = afi_safi(family);
    let [a, b] = afi.to_be_bytes();
    encode_message(MessageType::RouteRefresh, &[a, b, subtype, safi])
}

/// Reads a ROUTE-REFRESH frame: `Some((family, subtype))`, or `None` for an AFI/SAFI
/// rovgate does not route or an unknown subtype, which RFC 2918 §4 and RFC 7313 §5 say to
/// ignore. A body that is not 4 bytes is NOTIFICATION 7/1 with the message as data.
pub fn decode_route_refresh(frame: &[u8]) -> Result<Option<(Family, u8)>, Notification> {
    let Some(&[a, b, subtype, safi]) = frame.get(HEADER_LEN..) else {
        return Err(Notification::with_data(
            Reason::BadRouteRefreshLength,
            Bytes::copy_from_slice(frame),
        ));
    };
    let family = family(u16::from_be_bytes([a, b]), safi);
    Ok(family
        .filter(|_| subtype <= REFRESH_EORR)
        .map(|f| (f, subtype)))
}

/// AFI and SAFI of a family.
pub(crate) fn afi_safi(family: Family) -> (u16, u8) {
    match family {
        Family::Ipv4Unicast => (1, 1),
        Family::Ipv6Unicast => (2, 1),
    }
}

/// The family of an AFI/SAFI pair, if rovgate routes it (unicast only).
pub(crate) fn family(afi: u16, safi: u8) -> Option<Family> {
    match (afi, safi) {
        (1, 1) => Some(Family::Ipv4Unicast),
        (2, 1) => Some(Family::Ipv6Unicast),
        _ => None,
    }
}
