//! An established session as BMP export's Peer Up tells of it (RFC 7854 §4.10): the OPEN
//! messages as they were exchanged and the connection's two ends.
//!
//! Where it sits: the session task keeps them from its link (`bgp::link`) and hands them
//! to the RIB with `RibEvent::PeerUp`; the RIB shows them with the peer in its view
//! (`rib::view::PeerView`), where a BMP station's stream reads them (`bmp::export_wire`).

use std::net::{Ipv4Addr, SocketAddr};

use bytes::Bytes;

/// The OPENs and ends of an established session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionUp {
    /// The OPEN rovgate sent, whole (19-byte header included), byte for byte.
    pub sent_open: Bytes,
    /// The OPEN the peer sent, whole, byte for byte.
    pub received_open: Bytes,
    /// The peer's BGP Identifier, from its OPEN.
    pub peer_router_id: Ipv4Addr,
    /// rovgate's end of the connection (`None`: the socket could not tell).
    pub local: Option<SocketAddr>,
    /// The peer's end of the connection.
    pub remote: Option<SocketAddr>,
}

impl Default for SessionUp {
    /// Nothing known yet: no OPENs, identifier 0.0.0.0, no ends.
    fn default() -> Self {
        SessionUp {
            sent_open: Bytes::new(),
            received_open: Bytes::new(),
            peer_router_id: Ipv4Addr::UNSPECIFIED,
            local: None,
            remote: None,
        }
    }
}
