//! BMP messages (RFC 7854, RFC 9069) as the station reads them: framed by the common
//! header's length, then read into [`Message`].
//!
//! Where it sits: a router's task reads frames from its TCP stream with [`codec`] and turns
//! each into a [`Message`] with [`Reader::read`]. Route Monitoring's BGP UPDATE is not
//! decoded here: its bytes go to `bgp::wire::decode_update`, the sessions' own decoder, so
//! a route reads the same from BMP as from a session. Everything else (the per-peer header,
//! Peer Up with its OPENs, Peer Down, Initiation, Statistics, Termination) is read by
//! `netgauze-bmp-pkt`, whose parsing context also tells which neighbours use ADD-PATH.

use std::net::IpAddr;

use netgauze_bmp_pkt::wire::deserializer::v3::PeerHeaderParsingError;
use netgauze_bmp_pkt::wire::deserializer::{BmpMessageParsingError, BmpParsingContext};
use netgauze_bmp_pkt::{v3, BmpMessage, BmpPeerType, PeerHeader, PeerKey};
use netgauze_iana::address_family::AddressType;
use netgauze_parse_utils::reader::SliceReader;
use netgauze_parse_utils::traits::{ParseFrom, ParseFromWithOneInput};
use tokio_util::codec::LengthDelimitedCodec;

use crate::bgp::wire::PathIds;

/// The only BMP version read.
const VERSION: u8 = 3;
/// Version (1), message length (4), message type (1).
const COMMON_HEADER: usize = 6;
/// The largest message taken: a BGP message of RFC 8654's largest size, with the headers.
const MAX_MESSAGE: usize = 65535 + 1024;
/// The Route Monitoring message type.
const ROUTE_MONITORING: u8 = 0;
/// The BGP UPDATE message type, after the BGP header's marker and length.
const BGP_UPDATE: u8 = 2;
/// The BGP message header: marker, length, type.
const BGP_HEADER: usize = 19;

/// Frames a BMP stream: the common header's length counts the whole message.
pub fn codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_offset(1)
        .length_field_length(4)
        .length_adjustment(0)
        .num_skip(0)
        .max_frame_length(MAX_MESSAGE)
        .new_codec()
}

/// Which of a router's tables a Route Monitoring message shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum View {
    /// Adj-RIB-In before the router's import policy (what the neighbour sent).
    PrePolicy,
    /// Adj-RIB-In after the router's import policy.
    PostPolicy,
    /// The router's Loc-RIB (RFC 9069).
    LocRib,
    /// What the router sends the neighbour (RFC 8671), or an experimental peer type: not
    /// kept by the station.
    AdjRibOut,
}

/// A neighbour of the router, as its per-peer headers name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Neighbour {
    /// netgauze's key: address, peer type, distinguisher, AS, BGP identifier.
    pub key: PeerKey,
    /// Its address (none for Loc-RIB).
    pub address: Option<IpAddr>,
    /// Its AS.
    pub asn: u32,
}

impl Neighbour {
    fn of(header: &PeerHeader) -> Neighbour {
        Neighbour {
            key: PeerKey::from_peer_header(header),
            address: header.address(),
            asn: header.peer_as(),
        }
    }
}

/// One BMP message, as much of it as the station uses.
#[derive(Debug)]
pub enum Message<'a> {
    /// Route Monitoring: a BGP UPDATE (its header included) of `neighbour`'s `view`.
    Route {
        neighbour: Neighbour,
        view: View,
        /// The UPDATE's AS_PATH has 4-octet ASNs (the per-peer header's A flag clear).
        as4: bool,
        /// The families whose routes carry ADD-PATH identifiers (from the neighbour's Peer
        /// Up's OPENs, as netgauze's parsing context reads them).
        ids: PathIds,
        update: &'a [u8],
    },
    /// A neighbour's session came up.
    PeerUp { neighbour: Neighbour },
    /// A neighbour's session went down (`reason` for the log).
    PeerDown {
        neighbour: Neighbour,
        reason: String,
    },
    /// The router says who it is.
    Initiation { info: String },
    /// The router's counters for a neighbour.
    Statistics {
        neighbour: Neighbour,
        counters: String,
    },
    /// The router closes the stream.
    Termination { info: String },
    /// Route Mirroring and experimental messages: not used.
    Other,
}

/// A message the station cannot read: the router's stream is closed.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// Not BMP version 3.
    #[error("BMP version {0}, expected 3")]
    Version(u8),
    /// Shorter than its headers.
    #[error("message too short")]
    Short,
    /// A Route Monitoring message whose BGP PDU is not an UPDATE.
    #[error("Route Monitoring carries BGP message type {0}, expected an UPDATE")]
    NotUpdate(u8),
    /// The per-peer header is malformed.
    #[error("per-peer header: {0}")]
    PeerHeader(#[from] PeerHeaderParsingError),
    /// netgauze found the message malformed.
    #[error("{0}")]
    Malformed(#[from] BmpMessageParsingError),
}

/// Reads one router's messages; keeps what Peer Up said of each neighbour.
#[derive(Debug, Default)]
pub struct Reader {
    ctx: BmpParsingContext,
}

impl Reader {
    /// Reads one framed message (common header included).
    pub fn read<'a>(&mut self, frame: &'a [u8]) -> Result<Message<'a>, MessageError> {
        let (&version, kind) = match frame {
            [v, _, _, _, _, kind, ..] => (v, *kind),
            _ => return Err(MessageError::Short),
        };
        if version != VERSION {
            return Err(MessageError::Version(version));
        }
        if kind == ROUTE_MONITORING {
            return self.route(&frame[COMMON_HEADER..]);
        }
        let message = BmpMessage::parse(&mut SliceReader::new(frame), &mut self.ctx)?;
        let BmpMessage::V3(value) = message else {
            return Err(MessageError::Version(version));
        };
        Ok(self.other(value))
    }

    /// Route Monitoring, read by hand past the per-peer header: the UPDATE stays bytes.
    fn route<'a>(&mut self, body: &'a [u8]) -> Result<Message<'a>, MessageError> {
        let mut cursor = SliceReader::new(body);
        let header = PeerHeader::parse(&mut cursor)?;
        let update = cursor.as_slice();
        match update.get(BGP_HEADER - 1) {
            None => return Err(MessageError::Short),
            Some(&BGP_UPDATE) => {}
            Some(&other) => return Err(MessageError::NotUpdate(other)),
        }
        let neighbour = Neighbour::of(&header);
        let mut ids = PathIds::default();
        if let Some(peer) = self.ctx.get_peer(&neighbour.key) {
            let mut on = |t| peer.add_path_mut().get(&t).copied().unwrap_or(false);
            ids.ipv4 = on(AddressType::Ipv4Unicast);
            ids.ipv6 = on(AddressType::Ipv6Unicast);
        }
        Ok(Message::Route {
            neighbour,
            view: view(header.peer_type()),
            as4: header.is_asn4(),
            ids,
            update,
        })
    }

    fn other(&mut self, value: v3::BmpMessageValue) -> Message<'static> {
        use v3::BmpMessageValue as V;
        match value {
            V::PeerUpNotification(up) => {
                self.ctx
                    .update(&BmpMessage::V3(V::PeerUpNotification(up.clone())));
                Message::PeerUp {
                    neighbour: Neighbour::of(up.peer_header()),
                }
            }
            V::PeerDownNotification(down) => {
                let neighbour = Neighbour::of(down.peer_header());
                self.ctx.delete_peer(&neighbour.key);
                Message::PeerDown {
                    neighbour,
                    reason: format!("{:?}", down.reason().get_type()),
                }
            }
            V::Initiation(i) => Message::Initiation {
                info: format!("{:?}", i.information()),
            },
            V::Termination(t) => Message::Termination {
                info: format!("{:?}", t.information()),
            },
            V::StatisticsReport(s) => Message::Statistics {
                neighbour: Neighbour::of(s.peer_header()),
                counters: format!("{:?}", s.counters()),
            },
            _ => Message::Other,
        }
    }
}

fn view(peer_type: BmpPeerType) -> View {
    match peer_type {
        BmpPeerType::GlobalInstancePeer {
            adj_rib_out: true, ..
        }
        | BmpPeerType::RdInstancePeer {
            adj_rib_out: true, ..
        }
        | BmpPeerType::LocalInstancePeer {
            adj_rib_out: true, ..
        } => View::AdjRibOut,
        BmpPeerType::GlobalInstancePeer { post_policy, .. }
        | BmpPeerType::RdInstancePeer { post_policy, .. }
        | BmpPeerType::LocalInstancePeer { post_policy, .. } => match post_policy {
            true => View::PostPolicy,
            false => View::PrePolicy,
        },
        BmpPeerType::LocRibInstancePeer { .. } => View::LocRib,
        _ => View::AdjRibOut,
    }
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
