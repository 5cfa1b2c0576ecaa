//! The TOML config file, turned into a validated [`Config`].
//!
//! Where it sits: `main.rs` loads the config (`run` and `check-config` alike) and hands the
//! parts out: [`ServerConfig`] to the listeners and HTTP, [`RpkiConfig`] to `rpki::spawn`,
//! [`PeerConfig`]s to the sessions and the RIB's policy. Raw `deny_unknown_fields` structs
//! deserialize first; conversion then checks values and meanings, so every [`Config`] is
//! valid. Every error names the file, the line and the dotted key (`peer[1].rov`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::rpki::vrp::Asn;

mod convert;

/// A validated rovgate configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The `[server]` table: who rovgate is and where it listens.
    pub server: ServerConfig,
    /// The `[rpki]` table: VRP sources.
    pub rpki: RpkiConfig,
    /// The `[defaults]` table: what peers inherit.
    pub defaults: Defaults,
    /// The `[[peer]]` tables, in file order.
    pub peers: Vec<PeerConfig>,
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
    /// The hold time rovgate proposes, seconds (0, or 3 and more; default 90).
    pub hold_time: u16,
    /// How long, seconds, a peer's routes are kept as stale when its session drops and
    /// it announced graceful restart, at most (default 120; the peer's own restart time
    /// is used when shorter).
    pub graceful_restart_time: u16,
}

/// The `[rpki]` table: where VRPs come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpkiConfig {
    /// VRP files (rpki-client or Routinator JSON, CSV), resolved against the config's directory.
    pub vrp_files: Vec<PathBuf>,
    /// RFC 8416 SLURM files, resolved against the config's directory.
    pub slurm: Vec<PathBuf>,
    /// RTR caches (`[[rpki.cache]]`).
    pub caches: Vec<CacheConfig>,
    /// How often files are checked for changes (key `reload_seconds`, default 5).
    pub reload: Duration,
}

/// One `[[rpki.cache]]`: an RTR cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// `host:port` (IPv6 as `[addr]:port`), checked for shape, resolved on connect.
    pub address: String,
    /// Lower is preferred; defaults to the cache's position in the file.
    pub preference: u32,
}

/// What to do with RPKI-invalid routes from a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RovPolicy {
    /// Pass every route, unmarked.
    Accept,
    /// Pass every route, marked with its validation state.
    Tag,
    /// Pass every route unchanged, but count and report what dropping would do.
    Shadow,
    /// Drop invalid routes (they stay in Adj-RIB-In for re-evaluation).
    Drop,
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

/// The config name of each choice; `Display` and `FromStr` use these.
const ROV_NAMES: [(&str, RovPolicy); 4] = [
    ("accept", RovPolicy::Accept),
    ("tag", RovPolicy::Tag),
    ("shadow", RovPolicy::Shadow),
    ("drop", RovPolicy::Drop),
];
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

impl FromStr for RovPolicy {
    type Err = ChoiceError;

    /// Parses `accept`, `tag`, `shadow` or `drop`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        choose(&ROV_NAMES, s)
    }
}

impl fmt::Display for RovPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(name_of(&ROV_NAMES, self))
    }
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
    /// ROV policy for peers without `rov` (default `shadow`).
    pub rov: RovPolicy,
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
    /// The peer's own `rov`, else `defaults.rov`.
    pub rov: RovPolicy,
    /// Most prefixes accepted from the peer; none: no limit.
    pub max_prefixes: Option<u64>,
    /// How long the session stays idle after the peer exceeded `max_prefixes` (default 60 s).
    pub max_prefixes_idle: Duration,
    /// Only accept the peer's connections; never connect to it (default false).
    pub passive: bool,
    /// The TCP port rovgate connects to (default 179).
    pub port: u16,
    /// RFC 7947: drop routes whose AS_PATH does not start with the peer's AS (default true).
    pub enforce_first_as: bool,
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
    /// Reads and parses the config file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            line: None,
            key: None,
            message: e.to_string(),
        })?;
        Config::parse(&text, path)
    }

    /// Parses config text; `path` names the file in errors and is the base for relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        convert::parse(text, path)
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
