//! Message framing (RFC 4271 §4.1, §6.1): cuts a peer's byte stream into whole messages
//! and checks each header.
//!
//! Where it sits: the session task wraps its TCP read half in
//! `FramedRead<_, Framer>`; each [`Frame`] then goes to the FSM or the UPDATE decoder.

use bytes::{Bytes, BytesMut};
use tokio_util::codec::Decoder;

use super::{HEADER_LEN, MAX_LEN};
use crate::bgp::{Notification, Reason};

/// The type of a BGP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// OPEN (1).
    Open,
    /// UPDATE (2).
    Update,
    /// NOTIFICATION (3).
    Notification,
    /// KEEPALIVE (4).
    Keepalive,
    /// ROUTE-REFRESH (5, RFC 2918).
    RouteRefresh,
}

impl MessageType {
    /// The type code on the wire.
    pub fn code(self) -> u8 {
        match self {
            MessageType::Open => 1,
            MessageType::Update => 2,
            MessageType::Notification => 3,
            MessageType::Keepalive => 4,
            MessageType::RouteRefresh => 5,
        }
    }

    /// The type of a code, if BGP defines it.
    pub fn from_code(code: u8) -> Option<MessageType> {
        Some(match code {
            1 => MessageType::Open,
            2 => MessageType::Update,
            3 => MessageType::Notification,
            4 => MessageType::Keepalive,
            5 => MessageType::RouteRefresh,
            _ => return None,
        })
    }

    /// Whether a message of this type may have this length (RFC 4271 §6.1; ROUTE-REFRESH
    /// length is checked by `decode_route_refresh`, which answers with 7/1).
    fn length_ok(self, len: usize) -> bool {
        match self {
            MessageType::Open => len >= 29,
            MessageType::Update => len >= 23,
            MessageType::Notification => len >= 21,
            MessageType::Keepalive => len == HEADER_LEN,
            MessageType::RouteRefresh => true,
        }
    }
}

/// One whole message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Its type.
    pub kind: MessageType,
    /// The whole message, 19-byte header included.
    pub bytes: Bytes,
}

/// Why reading frames stopped.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A bad header: send this NOTIFICATION and close.
    #[error(transparent)]
    Notification(#[from] Notification),
    /// The connection failed.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
}

/// Cuts a byte stream into [`Frame`]s, checking marker, length and type.
#[derive(Clone, Debug)]
pub struct Framer {
    max_len: usize,
}

impl Default for Framer {
    fn default() -> Self {
        Framer { max_len: MAX_LEN }
    }
}

impl Framer {
    /// A framer accepting messages up to 4096 bytes.
    pub fn new() -> Self {
        Framer::default()
    }

    /// Sets the largest accepted message: 65535 once RFC 8654 extended messages are
    /// negotiated (values are clamped to 4096..=65535).
    pub fn set_max_len(&mut self, max_len: usize) {
        self.max_len = max_len.clamp(MAX_LEN, super::MAX_LEN_EXTENDED);
    }

    /// The largest accepted message.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Checks a complete header; the message's type and length.
    fn header(&self, h: &[u8; HEADER_LEN]) -> Result<(MessageType, usize), Notification> {
        let [marker @ .., l0, l1, code] = *h;
        if marker != [0xff; 16] {
            return Err(Reason::ConnectionNotSynchronized.into());
        }
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let bad_len = || Notification::with_data(Reason::BadMessageLength, vec![l0, l1]);
        if !(HEADER_LEN..=self.max_len).contains(&len) {
            return Err(bad_len());
        }
        let kind = MessageType::from_code(code)
            .ok_or_else(|| Notification::with_data(Reason::BadMessageType, vec![code]))?;
        if !kind.length_ok(len) {
            return Err(bad_len());
        }
        Ok((kind, len))
    }
}

impl Decoder for Framer {
    type Item = Frame;
    type Error = FrameError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        let Some(header) = buf
            .get(..HEADER_LEN)
            .and_then(|h| <&[u8; HEADER_LEN]>::try_from(h).ok())
        else {
            return Ok(None);
        };
        let (kind, len) = self.header(header)?;
        if buf.len() < len {
            buf.reserve(len - buf.len());
            return Ok(None);
        }
        let bytes = buf.split_to(len).freeze();
        Ok(Some(Frame { kind, bytes }))
    }
}
