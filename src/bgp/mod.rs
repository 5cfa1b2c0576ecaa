//! BGP sessions: wire codec, the RFC 4271 FSM, OPEN negotiation, session and listener tasks.
//!
//! Where it sits: between peers' TCP connections and the RIB task. A session task reads
//! frames (`wire`), drives the sans-I/O FSM (`fsm`), decodes UPDATEs into
//! `route::Update`s for the RIB, and encodes the RIB's `route::Export`s for its peer.

pub mod abuse;
pub mod counters;
pub mod fsm;
pub mod link;
pub mod listener;
mod log_limit;
mod notification;
pub mod open;
pub mod session;
pub mod sockopt;
#[cfg(test)]
pub(crate) mod test_capture;
pub mod wire;
pub mod writer;

pub use notification::{Notification, Reason};
