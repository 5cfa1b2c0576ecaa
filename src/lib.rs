//! rovgate: a BGP route server that validates every route's origin against RPKI.
//!
//! ```text
//!  RTR caches ──► rtr task ─┐
//!  VRP files  ──► file task ├─► rpki task (owns VrpSources) ──► VrpStore (ArcSwap<VrpSnapshot>)
//!  SLURM      ──► slurm task┘                                      │ readers never lock
//!                                           validate CLI, HTTP ◄───┘
//! ```
//!
//! Read these first: `rpki/vrp.rs` (RFC 6811 validation), `rpki/sources.rs` (how sources
//! merge), `rpki/mod.rs` (the rpki task), `daemon.rs` (how tasks are wired).
#![forbid(unsafe_code)]

pub mod accept;
pub mod bgp;
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
