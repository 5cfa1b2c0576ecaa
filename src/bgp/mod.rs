//! BGP sessions: wire codec, the RFC 4271 FSM, OPEN negotiation, session and listener tasks.
//!
//! Where it sits: between peers' TCP connections and the RIB task. A session task reads
//! frames (`wire`), drives the sans-I/O FSM (`fsm`), decodes UPDATEs into
//! `route::Update`s for the RIB, and encodes the RIB's `route::Export`s for its peer.

pub mod abuse;
pub mod fsm;
pub mod link;
pub mod listener;
mod log_limit;
pub mod open;
pub mod session;
#[cfg(test)]
pub(crate) mod test_capture;
pub mod wire;
pub mod writer;

use bytes::Bytes;

/// A NOTIFICATION to send (or received): code, subcode and data (RFC 4271 §4.5).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("NOTIFICATION {code}/{subcode} ({})", describe(*code, *subcode))]
pub struct Notification {
    /// Error code.
    pub code: u8,
    /// Error subcode.
    pub subcode: u8,
    /// Data, as the RFC for the code says.
    pub data: Bytes,
}

impl Notification {
    /// A NOTIFICATION with the given code, subcode and data.
    pub fn new(code: u8, subcode: u8, data: impl Into<Bytes>) -> Self {
        Notification {
            code,
            subcode,
            data: data.into(),
        }
    }
}

/// The name of a NOTIFICATION code/subcode, for logs.
pub fn describe(code: u8, subcode: u8) -> &'static str {
    match (code, subcode) {
        (1, 1) => "message header: connection not synchronized",
        (1, 2) => "message header: bad message length",
        (1, 3) => "message header: bad message type",
        (1, _) => "message header error",
        (2, 1) => "OPEN: unsupported version number",
        (2, 2) => "OPEN: bad peer AS",
        (2, 3) => "OPEN: bad BGP identifier",
        (2, 4) => "OPEN: unsupported optional parameter",
        (2, 6) => "OPEN: unacceptable hold time",
        (2, 7) => "OPEN: unsupported capability",
        (2, 11) => "OPEN: role mismatch",
        (2, _) => "OPEN message error",
        (3, 1) => "UPDATE: malformed attribute list",
        (3, 2) => "UPDATE: unrecognized well-known attribute",
        (3, 3) => "UPDATE: missing well-known attribute",
        (3, 4) => "UPDATE: attribute flags error",
        (3, 5) => "UPDATE: attribute length error",
        (3, 6) => "UPDATE: invalid ORIGIN attribute",
        (3, 8) => "UPDATE: invalid NEXT_HOP attribute",
        (3, 9) => "UPDATE: optional attribute error",
        (3, 10) => "UPDATE: invalid network field",
        (3, 11) => "UPDATE: malformed AS_PATH",
        (3, _) => "UPDATE message error",
        (4, _) => "hold timer expired",
        (5, _) => "finite state machine error",
        (6, 1) => "cease: maximum number of prefixes reached",
        (6, 2) => "cease: administrative shutdown",
        (6, 3) => "cease: peer de-configured",
        (6, 4) => "cease: administrative reset",
        (6, 5) => "cease: connection rejected",
        (6, 6) => "cease: other configuration change",
        (6, 7) => "cease: connection collision resolution",
        (6, 8) => "cease: out of resources",
        (6, 9) => "cease: hard reset",
        (6, 10) => "cease: BFD down",
        (6, _) => "cease",
        (7, _) => "ROUTE-REFRESH message error",
        (8, _) => "send hold timer expired",
        _ => "unknown error code",
    }
}
