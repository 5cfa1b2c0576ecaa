//! rovgate: a BGP route server that validates every route's origin against RPKI.
//!
//! The whole data flow, one task per box (`daemon.rs` wires them):
//!
//! ```text
//!  RTR caches ─► rtr tasks  ─┐ SourceEvent            VrpStore: ArcSwap<VrpSnapshot>
//!  VRP files  ─► file tasks  ├──────────► rpki task ──publish──►  (readers never lock)
//!  SLURM      ─► slurm tasks ┘              │ VrpsChanged               │ load()
//!                                           ▼                           ▼
//!  peer ──TCP──► session task ──RibEvent──► RIB task ─── validate (rpki) + decide (policy)
//!  (listener,     reader + sans-I/O FSM       │ one owner of all routing state: table,
//!   one per peer) + timers                    │ best paths, per-peer pending state
//!                  ▲                          ├─► RibView (ArcSwap): status, metrics
//!  peer ◄──TCP── writer task ◄── pulls a shared Batch, or its own Pending when behind
//!                                             └─► what-if reports, looking glass ─► http task
//!  router ──BMP──► bmp router task ──RibEvent──► RIB (its neighbours: read-only peers)
//! ```
//!
//! Layers run one way: `bgp` → `rib` → `policy` → `rpki`, with the types they share in
//! `route`; `config`, `http`, `report`, `replay`, `metrics` and `daemon` sit above them.
//!
//! Read these first:
//! 1. `route.rs`: the types every layer shares (prefixes, attributes, peers, ROV state).
//! 2. `daemon.rs`: which tasks exist and how their channels connect.
//! 3. `rib/mod.rs` and `rib/export.rs`: the RIB task and how a peer's writer pulls its
//!    updates without the RIB ever waiting on a socket.
//! 4. `rpki/vrp.rs` (RFC 6811 validation) and `policy.rs` (mode × state → decision).
//! 5. `bgp/fsm.rs` (the sans-I/O session state machine) and `bgp/session.rs` (its I/O).
// `unsafe` is allowed in one module only, `bgp/sockopt.rs` (socket options with no safe
// binding), which says why.
#![deny(unsafe_code)]

pub mod accept;
pub mod bgp;
pub mod bmp;
pub mod config;
pub mod daemon;
pub mod feed;
pub mod history;
pub mod http;
#[cfg(test)]
mod layering_tests;
pub mod metrics;
pub mod mrt;
pub mod policy;
pub mod replay;
pub mod report;
pub mod rib;
pub mod route;
pub mod rpki;
