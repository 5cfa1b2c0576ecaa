//! The IXP import checks in the config: the `[filters]` table (bounds and lists for every
//! peer), each peer's `next_hop` and `irr` files, and the modes (`checks`, `check`) at each
//! level, resolved per peer.
//!
//! Where it sits: conversion (`convert/filters.rs`) fills these; the daemon turns each
//! peer's into the RIB's [`Filters`] with [`Config::filters_for`], which reads the peer's
//! IRR files (at start, on reload, and when a file changes).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::str::FromStr;

use super::{choose, ChoiceError, Config, Role};
use crate::policy::{CheckGroup, CheckModes, Filters, Irr, NextHopPolicy, RovMode};
use crate::route::Asn;

/// The `[filters]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FiltersConfig {
    /// Inclusive IPv4 prefix length bounds (`prefix_length_v4`, default `[8, 24]`).
    pub v4_lengths: (u8, u8),
    /// Inclusive IPv6 prefix length bounds (`prefix_length_v6`, default `[16, 48]`).
    pub v6_lengths: (u8, u8),
    /// The longest AS_PATH accepted (`max_as_path`, default 64).
    pub max_as_path: usize,
    /// Transit-free ASNs refused after a peer's own AS (`transit_free`, default
    /// [`TRANSIT_FREE`](crate::policy::TRANSIT_FREE)).
    pub transit_free: Vec<Asn>,
    /// A valid ROA admits a prefix missing from the peer's IRR data (`roa_as_route_object`,
    /// default true).
    pub roa_as_route_object: bool,
    /// Where RFC 7999 blackhole requests go (`blackhole_next_hop_v4`); none (the default):
    /// BLACKHOLE is an ordinary community.
    pub blackhole_v4: Option<Ipv4Addr>,
    /// The same for IPv6 (`blackhole_next_hop_v6`).
    pub blackhole_v6: Option<Ipv6Addr>,
}

impl Default for FiltersConfig {
    /// The IXP defaults, as the checks define them ([`Filters::ixp_defaults`]).
    fn default() -> Self {
        let f = Filters::ixp_defaults(Asn(0), IpAddr::from([0, 0, 0, 0]));
        FiltersConfig {
            v4_lengths: f.v4_lengths,
            v6_lengths: f.v6_lengths,
            max_as_path: f.max_as_path,
            transit_free: f.transit_free,
            roa_as_route_object: f.roa_as_route_object,
            blackhole_v4: f.blackhole_v4,
            blackhole_v6: f.blackhole_v6,
        }
    }
}

/// Which next hops a peer may announce (`next_hop`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NextHopMode {
    /// Its own address only (the default).
    #[default]
    Strict,
    /// The address of any configured peer of the same AS.
    SameAs,
    /// Any.
    Off,
}

/// The config names of the next-hop modes.
const NEXT_HOP_NAMES: [(&str, NextHopMode); 3] = [
    ("strict", NextHopMode::Strict),
    ("same-as", NextHopMode::SameAs),
    ("off", NextHopMode::Off),
];

impl FromStr for NextHopMode {
    type Err = ChoiceError;

    /// Parses `strict`, `same-as` or `off`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        choose(&NEXT_HOP_NAMES, s)
    }
}

/// Check modes as one level of the config sets them: `checks` for all, `check` per group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModeLayer {
    /// `checks = "..."`.
    pub all: Option<RovMode>,
    /// `check = { group = "..." }`, in file order.
    pub each: Vec<(CheckGroup, RovMode)>,
}

impl ModeLayer {
    /// `modes` with this level's settings over them.
    pub fn over(&self, mut modes: CheckModes) -> CheckModes {
        if let Some(all) = self.all {
            modes = modes.with_all(all);
        }
        for &(group, mode) in &self.each {
            modes.set(group, mode);
        }
        modes
    }
}

/// The built-in check modes of a role: every check in `drop` for route-server clients,
/// off for everyone else (a transit feed carries tier-1 ASNs in every path).
pub fn role_checks(role: Role) -> CheckModes {
    match role {
        Role::RsClient => CheckModes::ALL_DROP,
        Role::Customer | Role::Peer | Role::Upstream => CheckModes::default(),
    }
}

impl Config {
    /// What peer `i`'s routes are checked against, its IRR files read; an IRR file that
    /// cannot be read or parsed is the error (`file: why`).
    pub fn filters_for(&self, i: usize) -> Result<Filters, String> {
        let peer = &self.peers[i];
        let f = &self.filters;
        let same_as = self.peers.iter().filter(|p| p.asn == peer.asn);
        let irr = match peer.irr.is_empty() {
            true => None,
            false => Some(read_irr(&peer.irr)?),
        };
        let mut transit_free = f.transit_free.clone();
        transit_free.sort_unstable();
        transit_free.dedup();
        Ok(Filters {
            asn: peer.asn,
            address: peer.address,
            next_hop: match peer.next_hop {
                NextHopMode::Strict => NextHopPolicy::Strict,
                NextHopMode::SameAs => NextHopPolicy::SameAs(same_as.map(|p| p.address).collect()),
                NextHopMode::Off => NextHopPolicy::Off,
            },
            v4_lengths: f.v4_lengths,
            v6_lengths: f.v6_lengths,
            max_as_path: f.max_as_path,
            transit_free,
            irr,
            roa_as_route_object: f.roa_as_route_object,
            blackhole_v4: f.blackhole_v4,
            blackhole_v6: f.blackhole_v6,
            aspa: peer.role.aspa_procedure(),
        })
    }
}

/// One peer's AS-SET from its bgpq4 JSON files.
pub fn read_irr(files: &[PathBuf]) -> Result<Irr, String> {
    let mut irr = Irr::default();
    for file in files {
        let why = |e: &dyn std::fmt::Display| format!("{}: {e}", file.display());
        let text = std::fs::read_to_string(file).map_err(|e| why(&e))?;
        irr.add_file(&text).map_err(|e| why(&e))?;
    }
    Ok(irr)
}
