//! What the RIB needs to know of a configured peer: its identity, its limits and its
//! policy (ROV mode, import checks and what they check against).
//!
//! Where it sits: built by the daemon from the config, kept per peer by `peers.rs`.

use std::net::IpAddr;
use std::sync::Arc;

use crate::policy::{CheckModes, Filters, RovMode};
use crate::route::abuse::PeerAbuse;
use crate::route::Asn;

/// What the RIB needs to know of a configured peer.
#[derive(Clone, Debug)]
pub struct PeerInfo {
    /// The configured name, for logs.
    pub name: String,
    /// The peer's address (the last best-path tie-breaker).
    pub address: IpAddr,
    /// The peer's AS.
    pub asn: Asn,
    /// RFC 7947: drop routes whose AS_PATH does not start with the peer's AS.
    pub enforce_first_as: bool,
    /// Most prefixes accepted; `None`: no limit.
    pub max_prefixes: Option<u64>,
    /// What ROV does with the peer's routes (changes at run time).
    pub rov: RovMode,
    /// What each import check does with the peer's routes (changes at run time).
    pub checks: CheckModes,
    /// What the peer's routes are checked against (changes at run time).
    pub filters: Arc<Filters>,
    /// What its sessions count of its malformed UPDATEs and NOTIFICATIONs (the view shows
    /// them as they are when read).
    pub abuse: Arc<PeerAbuse>,
    /// A BMP-monitored router's neighbour (`bmp/`): its paths are validated and reported,
    /// never selected for or exported to anyone, and it is never sent anything.
    pub monitored: bool,
}

impl PeerInfo {
    /// A peer named `name` at `address` of AS `asn` in ROV mode `rov`: first AS enforced, no
    /// prefix limit, every import check off (with an IXP's bounds, should one be turned on).
    pub fn new(name: String, address: IpAddr, asn: Asn, rov: RovMode) -> Self {
        PeerInfo {
            name,
            address,
            asn,
            enforce_first_as: true,
            max_prefixes: None,
            rov,
            checks: CheckModes::default(),
            filters: Arc::new(Filters::ixp_defaults(asn, address)),
            abuse: Arc::default(),
            monitored: false,
        }
    }
}
