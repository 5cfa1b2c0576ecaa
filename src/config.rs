//! The TOML config file, turned into a validated [`Config`].
//!
//! Where it sits: `main.rs` loads the config (`run` and `check-config` alike) and hands the
//! parts out: [`ServerConfig`] to the listeners and HTTP, [`RpkiConfig`] to `rpki::spawn`,
//! [`PeerConfig`]s to the sessions and the RIB's policy, [`Defaults`] and [`RovConfig`] to
//! the RIB's policy and the VRP update guard. Raw `deny_unknown_fields` structs
//! deserialize first; conversion then checks values and meanings, so every [`Config`] is
//! valid. Every error names the file, the line and the dotted key (`peer[1].rov`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::bgp::sockopt::Security;
use crate::policy::{CheckModes, RovMode, TagValues, Tagging};
use crate::rib::MassInvalidation;
use crate::route::Asn;
use crate::rpki::RpkiConfig;
use serde::{Deserialize, Serialize};

mod add_path;
mod aspa;
mod bmp;
mod convert;
mod damping;
mod filters;
mod http;
mod http_limits;
pub mod members;
mod members_irr;
mod rtr_server;

pub use add_path::AddPath;
pub use bmp::{BmpConfig, BmpRouter, BmpStation};
pub use damping::IdleHold;
pub use filters::{read_irr, role_checks, FiltersConfig, ModeLayer, NextHopMode};
pub use http::{HostName, HostNameError, HttpAccess, HttpToken};
pub use http_limits::HttpConfig;
pub use members::{MemberFormat, MemberList};
pub use members_irr::MissingIrr;

/// A validated rovgate configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The `[server]` table: who rovgate is and where it listens.
    pub server: ServerConfig,
    /// The `[rpki]` table: VRP sources.
    pub rpki: RpkiConfig,
    /// The `[defaults]` table: what peers inherit.
    pub defaults: Defaults,
    /// The `[rov]` table: how validation states are tagged, and when a VRP update is held.
    pub rov: RovConfig,
    /// The `[filters]` table: bounds and lists of the IXP import checks.
    pub filters: FiltersConfig,
    /// The `[report]` table: what is kept of ROV changes.
    pub report: ReportConfig,
    /// The `[http]` table: the HTTP server's limits.
    pub http: HttpConfig,
    /// The `[[peer]]` tables, in file order, then the peers of the `[[members]]` lists.
    pub peers: Vec<PeerConfig>,
    /// The `[bmp]` table: the BMP station.
    pub bmp: BmpConfig,
    /// What each `[[members]]` table read.
    pub members: Vec<MemberList>,
    /// The `[[rtr_server]]` tables: RTR service for routers.
    pub rtr_servers: Vec<crate::rpki::server::RtrServerConfig>,
}

/// The `[server]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// rovgate's own AS (nonzero).
    pub asn: Asn,
    /// The BGP identifier (nonzero).
    pub router_id: Ipv4Addr,
    /// Addresses BGP listens on (at least one).
    pub listen: Vec<SocketAddr>,
    /// Where the HTTP API and metrics listen; none: no HTTP.
    pub http: Option<SocketAddr>,
    /// Who may use the HTTP API (`http_token_file`, `http_names`).
    pub http_access: HttpAccess,
    /// The hold time rovgate proposes, seconds (0, or 3 and more; default 90).
    pub hold_time: u16,
    /// How long, seconds, a peer's routes are kept as stale when its session drops and
    /// it announced graceful restart, at most (default 120; the peer's own restart time
    /// is used when shorter).
    pub graceful_restart_time: u16,
    /// RFC 9687: a peer that takes no data for this long is closed with NOTIFICATION 8;
    /// `None`: the RFC's default, the larger of 8 minutes and twice the hold time.
    pub send_hold_time: Option<Duration>,
    /// After a start, send no routes until every configured peer has sent its table
    /// (End-of-RIB), or for at most this long after the first session comes up; zero
    /// (the default): no delay.
    pub update_delay: Duration,
}

/// A peer's relationship to rovgate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A customer: its routes go to everyone.
    Customer,
    /// A lateral peer.
    Peer,
    /// A transit provider.
    Upstream,
    /// A route-server client (RFC 7947).
    RsClient,
}

/// The config name of each role; `Display` and `FromStr` use these.
const ROLE_NAMES: [(&str, Role); 4] = [
    ("customer", Role::Customer),
    ("peer", Role::Peer),
    ("upstream", Role::Upstream),
    ("rs-client", Role::RsClient),
];

/// A name that is none of the allowed ones.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected one of {expected}, got {got:?}")]
pub struct ChoiceError {
    expected: String,
    got: String,
}

fn choose<T: Copy>(names: &[(&str, T)], s: &str) -> Result<T, ChoiceError> {
    match names.iter().find(|(name, _)| *name == s) {
        Some(&(_, value)) => Ok(value),
        None => Err(ChoiceError {
            expected: names.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
            got: s.to_string(),
        }),
    }
}

fn name_of<T: PartialEq>(names: &[(&'static str, T)], value: &T) -> &'static str {
    names
        .iter()
        .find(|(_, v)| v == value)
        .map_or("?", |(n, _)| n)
}

impl FromStr for Role {
    type Err = ChoiceError;

    /// Parses `customer`, `peer`, `upstream` or `rs-client`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        choose(&ROLE_NAMES, s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(name_of(&ROLE_NAMES, self))
    }
}

/// The `[defaults]` table: what a peer gets when it does not say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Defaults {
    /// ROV mode for peers without `rov` and without a role default (default `shadow`).
    pub rov: RovMode,
    /// Per-role defaults from `[defaults.role.<role>]` tables (`rov = "..."`), ahead of `rov`.
    /// In file order; each role at most once.
    pub role_rov: Vec<(Role, RovMode)>,
    /// The idle hold of peers that do not set theirs.
    pub idle_hold: IdleHold,
    /// `[defaults]` `checks` and `check`: the import checks' modes over the role's built-in
    /// ones ([`role_checks`]).
    pub checks: ModeLayer,
    /// `[defaults.role.<role>]` `checks` and `check`, over `checks`.
    pub role_checks: Vec<(Role, ModeLayer)>,
}

impl Defaults {
    /// The policy for a peer of `role` that has no `rov` of its own.
    pub fn rov_for(&self, role: Role) -> RovMode {
        self.role_rov
            .iter()
            .find(|(r, _)| *r == role)
            .map_or(self.rov, |&(_, rov)| rov)
    }

    /// The import checks' modes for a peer of `role` with its own `layer` over them.
    pub fn checks_for(&self, role: Role, layer: &ModeLayer) -> CheckModes {
        let role_layer = self.role_checks.iter().find(|(r, _)| *r == role);
        let modes = self.checks.over(role_checks(role));
        let modes = role_layer.map_or(modes, |(_, l)| l.over(modes));
        layer.over(modes)
    }
}

/// The `[rov]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RovConfig {
    /// The validation-state tags (keys `tag_valid`, `tag_not_found`, `tag_invalid`).
    pub tag: TagValues,
    /// Attach `rs_asn:1101:13` (Euro-IX "filtered: RPKI invalid") to routes dropped as
    /// RPKI-invalid (key `filtered_reason`, default true).
    pub filtered_reason: bool,
    /// When a VRP update is applied as shadow only, until an operator accepts it.
    pub mass: MassInvalidation,
}

impl RovConfig {
    /// The communities policy adds for a route server of AS `rs_asn` with these settings.
    pub fn tagging(&self, rs_asn: u32) -> Tagging {
        Tagging {
            rs_asn,
            tag: self.tag,
            filtered_reason: self.filtered_reason,
        }
    }
}

impl Default for RovConfig {
    /// The Euro-IX tags, the filtered reason attached, and the default guard.
    fn default() -> Self {
        RovConfig {
            tag: TagValues::default(),
            filtered_reason: true,
            mass: MassInvalidation::default(),
        }
    }
}

/// The `[report]` table: the history of ROV changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportConfig {
    /// How many recent RovChange events are kept in memory (key `history_size`, default
    /// 10000).
    pub history_size: usize,
    /// A JSON-lines file every RovChange is appended to (key `history_file`), resolved
    /// against the config's directory; none: memory only.
    pub history_file: Option<PathBuf>,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            history_size: 10_000,
            history_file: None,
        }
    }
}

/// One `[[peer]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerConfig {
    /// A unique name, used in logs, metrics and reports.
    pub name: String,
    /// The peer's address (unique); rovgate accepts its session from there.
    pub address: IpAddr,
    /// The peer's AS (nonzero).
    pub asn: Asn,
    /// The peer's relationship to rovgate.
    pub role: Role,
    /// The peer's own `rov`, else `[defaults.role.<role>] rov`, else `[defaults] rov`.
    pub rov: RovMode,
    /// Send the peer the RFC 8097 extended community (0x43/0x00, non-transitive) on routes
    /// rovgate tagged (default false).
    pub rov_ext_community: bool,
    /// Offer RFC 8950 extended next hop (IPv4 routes with IPv6 next hops) on the session
    /// (default false); a change resets the session.
    pub extended_next_hop: bool,
    /// Most prefixes accepted from the peer; none: no limit.
    pub max_prefixes: Option<u64>,
    /// How long the session stays idle after the peer exceeded `max_prefixes` (default 60 s).
    pub max_prefixes_idle: Duration,
    /// How long the session waits after it went down: its own keys over `[defaults]`.
    pub idle_hold: IdleHold,
    /// Only accept the peer's connections; never connect to it (default false).
    pub passive: bool,
    /// The TCP port rovgate connects to (default 179).
    pub port: u16,
    /// RFC 7947: drop routes whose AS_PATH does not start with the peer's AS (default true).
    pub enforce_first_as: bool,
    /// The import checks' modes: its own `checks`/`check`, then the role's, then
    /// `[defaults]`, then the role's built-in ones.
    pub checks: CheckModes,
    /// Which next hops it may announce (default strict).
    pub next_hop: NextHopMode,
    /// bgpq4 JSON files with its AS-SET's prefixes and origin ASNs; none: no IRR check.
    pub irr: Vec<PathBuf>,
    /// TCP-MD5 (`password`) and GTSM (`ttl_security`).
    pub security: Security,
    /// ADD-PATH on export (key `add_path`, default off).
    pub add_path: AddPath,
}

/// A config that cannot be used: where (file, line, dotted key) and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ConfigError {
    /// The config file.
    pub file: PathBuf,
    /// The 1-based line, when the error has a place in the file.
    pub line: Option<usize>,
    /// The dotted key, such as `peer[1].rov` or `rpki.cache[0].address`.
    pub key: Option<String>,
    /// What was wrong or expected.
    pub message: String,
}

impl ConfigError {
    fn render(&self) -> String {
        let mut s = self.file.display().to_string();
        if let Some(line) = self.line {
            s += &format!(":{line}");
        }
        if let Some(key) = &self.key {
            s += &format!(": key {key}");
        }
        format!("{s}: {}", self.message)
    }
}

impl Config {
    /// Reads and parses the config file at `path`; the VRP and SLURM files it names must be
    /// there and readable.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            line: None,
            key: None,
            message: e.to_string(),
        })?;
        convert::parse(&text, path, true)
    }

    /// Parses config text; `path` names the file in errors and is the base for relative paths.
    /// The files the config names are not looked at.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        convert::parse(text, path, false)
    }

    /// The embedded default (`configs/default.toml`), as if read from the repository.
    pub fn embedded() -> Config {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/default.toml");
        Config::parse(include_str!("../configs/default.toml"), Path::new(path))
            .expect("configs/default.toml is valid (tested)")
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
