//! Config conversion: raw TOML structs in, a validated [`Config`] out.
//!
//! Where it sits: inside `config.rs`'s [`Config::parse`]. The raw structs mirror the file
//! (`deny_unknown_fields`, values kept with their spans); conversion checks every value and
//! turns spans into the line and dotted key that [`ConfigError`] reports. Each part of the
//! file has its child module (`filters.rs`, `rov.rs`, `members.rs`, …); `expected.rs` says
//! what a bad string value should have been.

use std::collections::HashMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::de::DeTable;
use toml::Spanned;

use super::{AddPath, Config, ConfigError, Defaults, NextHopMode, PeerConfig, ServerConfig};
use crate::bgp::sockopt::{Password, Security};
use crate::route::Asn;
use crate::rpki::startup::DEFAULT_STARTUP_WAIT;
use crate::rpki::{CacheConfig, RpkiConfig};

mod damping;
mod expected;
mod files;
mod filters;
mod http;
mod keys;
mod members;
mod rov;

use expected::{check_host_port, Expected};

/// Parses config text: TOML syntax, then the raw structs, then conversion. With
/// `check_files`, the VRP and SLURM files it names must be readable files.
pub(super) fn parse(text: &str, path: &Path, check_files: bool) -> Result<Config, ConfigError> {
    let at = Source {
        text,
        path,
        check_files,
    };
    let (doc, errors) = DeTable::parse_recoverable(text);
    if let Some(e) = errors.first() {
        return Err(at.toml_error(e, &doc));
    }
    let raw = RawConfig::deserialize(toml::Deserializer::from(doc.clone()))
        .map_err(|e| at.toml_error(&e, &doc))?;
    at.convert(raw)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    server: RawServer,
    #[serde(default)]
    rpki: RawRpki,
    #[serde(default)]
    defaults: rov::RawDefaults,
    #[serde(default)]
    rov: rov::RawRov,
    #[serde(default)]
    filters: filters::RawFilters,
    #[serde(default)]
    report: rov::RawReport,
    #[serde(default)]
    http: super::http_limits::RawHttp,
    #[serde(default)]
    peer: Vec<RawPeer>,
    #[serde(default)]
    bmp: super::bmp::RawBmp,
    #[serde(default)]
    members: Vec<members::RawMembers>,
    #[serde(default)]
    rtr_server: Vec<super::rtr_server::RawRtrServer>,
}

type Text = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    asn: Spanned<u32>,
    router_id: Text,
    listen: Spanned<Vec<Text>>,
    http: Option<Text>,
    http_token_file: Option<Text>,
    #[serde(default)]
    http_names: Vec<Text>,
    hold_time: Option<Spanned<u16>>,
    graceful_restart_time: Option<u16>,
    send_hold_time: Option<Spanned<u32>>,
    update_delay: Option<u32>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRpki {
    #[serde(default)]
    vrp_files: Vec<Text>,
    #[serde(default)]
    slurm: Vec<Text>,
    #[serde(default)]
    cache: Vec<RawCache>,
    reload_seconds: Option<Spanned<u64>>,
    startup_wait: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCache {
    address: Text,
    preference: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeer {
    name: Text,
    address: Text,
    asn: Spanned<u32>,
    role: Text,
    rov: Option<Text>,
    max_prefixes: Option<Spanned<u64>>,
    max_prefixes_idle_seconds: Option<u64>,
    passive: Option<bool>,
    port: Option<u16>,
    enforce_first_as: Option<bool>,
    rov_ext_community: Option<bool>,
    extended_next_hop: Option<bool>,
    idle_hold_seconds: Option<Spanned<u64>>,
    idle_hold_max_seconds: Option<Spanned<u64>>,
    checks: Option<Text>,
    #[serde(default)]
    check: filters::RawCheck,
    aspa: Option<Text>,
    next_hop: Option<Text>,
    #[serde(default)]
    irr: Vec<Text>,
    password: Option<Text>,
    ttl_security: Option<bool>,
    add_path: Option<Text>,
}

const DEFAULT_RELOAD_SECONDS: u64 = 5;

/// The text being parsed and its file name: turns spans into lines.
pub(super) struct Source<'a> {
    text: &'a str,
    path: &'a Path,
    check_files: bool,
}

impl Source<'_> {
    fn error(
        &self,
        span: Option<Range<usize>>,
        key: Option<String>,
        message: String,
    ) -> ConfigError {
        let line = span.map(|s| {
            let end = s.start.min(self.text.len());
            1 + self.text.as_bytes()[..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
        });
        ConfigError {
            file: self.path.to_path_buf(),
            line,
            key,
            message,
        }
    }

    pub(super) fn at<T>(
        &self,
        value: &Spanned<T>,
        key: impl Into<String>,
        message: impl fmt::Display,
    ) -> ConfigError {
        self.error(Some(value.span()), Some(key.into()), message.to_string())
    }

    /// A TOML syntax or shape error; the key is found from the error's place in `doc`. An
    /// error about the whole document (a missing table) has neither line nor key.
    fn toml_error(&self, e: &toml::de::Error, doc: &Spanned<DeTable>) -> ConfigError {
        let span = e.span().filter(|s| *s != doc.span());
        let key = span.as_ref().and_then(|s| keys::key_at(doc.get_ref(), s));
        self.error(span, key, e.message().trim_end().to_string())
    }

    fn convert(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let defaults = self.defaults(&raw.defaults)?;
        let peers = raw
            .peer
            .iter()
            .enumerate()
            .map(|(i, p)| self.peer(i, p, &defaults))
            .collect::<Result<Vec<_>, _>>()?;
        self.check_unique(&raw.peer, &peers)?;
        let (peers, members) = self.members(&raw.members, peers, &defaults)?;
        Ok(Config {
            server: self.server(&raw.server)?,
            rpki: self.rpki(&raw.rpki)?,
            defaults,
            rov: self.rov(&raw.rov)?,
            filters: self.filters(&raw.filters)?,
            report: self.report(&raw.report)?,
            http: self.http(&raw.http)?,
            peers,
            bmp: self.bmp(&raw.bmp)?,
            members,
            rtr_servers: self.rtr_servers(&raw.rtr_server)?,
        })
    }

    fn server(&self, raw: &RawServer) -> Result<ServerConfig, ConfigError> {
        let router_id: Ipv4Addr = self.parse(&raw.router_id, "server.router_id")?;
        if router_id.is_unspecified() {
            return Err(self.at(
                &raw.router_id,
                "server.router_id",
                "expected a nonzero IPv4 address",
            ));
        }
        if raw.listen.get_ref().is_empty() {
            return Err(self.at(
                &raw.listen,
                "server.listen",
                "expected at least one address:port",
            ));
        }
        let hold_time = raw.hold_time.as_ref();
        if let Some(h) = hold_time.filter(|h| matches!(*h.get_ref(), 1 | 2)) {
            return Err(self.at(h, "server.hold_time", "expected 0 or at least 3 seconds"));
        }
        let send_hold = raw.send_hold_time.as_ref();
        if let Some(h) = send_hold.filter(|h| *h.get_ref() == 0) {
            return Err(self.at(h, "server.send_hold_time", "expected at least 1 second"));
        }
        let listen = raw.listen.get_ref().iter().enumerate();
        Ok(ServerConfig {
            send_hold_time: send_hold.map(|h| Duration::from_secs((*h.get_ref()).into())),
            update_delay: Duration::from_secs(raw.update_delay.unwrap_or(0).into()),
            hold_time: hold_time.map_or(90, |h| *h.get_ref()),
            graceful_restart_time: raw.graceful_restart_time.unwrap_or(120),
            asn: self.asn(&raw.asn, "server.asn")?,
            router_id,
            listen: listen
                .map(|(i, a)| self.parse(a, format!("server.listen[{i}]")))
                .collect::<Result<_, _>>()?,
            http: raw
                .http
                .as_ref()
                .map(|h| self.parse(h, "server.http"))
                .transpose()?,
            http_access: self.http_access(raw.http_token_file.as_ref(), &raw.http_names)?,
        })
    }

    fn rpki(&self, raw: &RawRpki) -> Result<RpkiConfig, ConfigError> {
        let reload = raw.reload_seconds.as_ref();
        if let Some(r) = reload.filter(|r| *r.get_ref() == 0) {
            return Err(self.at(r, "rpki.reload_seconds", "expected at least 1 second"));
        }
        let caches = raw.cache.iter().enumerate().map(|(i, c)| {
            let key = format!("rpki.cache[{i}].address");
            check_host_port(c.address.get_ref()).map_err(|m| self.at(&c.address, key, m))?;
            Ok(CacheConfig {
                address: c.address.get_ref().clone(),
                preference: c.preference.unwrap_or(i as u32),
            })
        });
        Ok(RpkiConfig {
            vrp_files: self.input_files(&raw.vrp_files, "rpki.vrp_files")?,
            slurm: self.input_files(&raw.slurm, "rpki.slurm")?,
            caches: caches.collect::<Result<_, _>>()?,
            reload: Duration::from_secs(reload.map_or(DEFAULT_RELOAD_SECONDS, |r| *r.get_ref())),
            startup_wait: raw
                .startup_wait
                .map_or(DEFAULT_STARTUP_WAIT, Duration::from_secs),
        })
    }

    fn peer(
        &self,
        i: usize,
        raw: &RawPeer,
        defaults: &Defaults,
    ) -> Result<PeerConfig, ConfigError> {
        let key = |k: &str| format!("peer[{i}].{k}");
        if raw.name.get_ref().trim().is_empty() {
            return Err(self.at(&raw.name, key("name"), "expected a nonempty name"));
        }
        if let Some(m) = raw.max_prefixes.as_ref().filter(|m| *m.get_ref() == 0) {
            return Err(self.at(
                m,
                key("max_prefixes"),
                "expected at least 1 (omit for no limit)",
            ));
        }
        let role = self.parse(&raw.role, key("role"))?;
        Ok(PeerConfig {
            name: raw.name.get_ref().clone(),
            address: self.parse(&raw.address, key("address"))?,
            asn: self.asn(&raw.asn, &key("asn"))?,
            role,
            rov: match &raw.rov {
                Some(rov) => self.parse(rov, key("rov"))?,
                None => defaults.rov_for(role),
            },
            max_prefixes: raw.max_prefixes.as_ref().map(|m| *m.get_ref()),
            max_prefixes_idle: Duration::from_secs(raw.max_prefixes_idle_seconds.unwrap_or(60)),
            idle_hold: self.idle_hold(raw, &key(""), defaults.idle_hold)?,
            passive: raw.passive.unwrap_or(false),
            port: raw.port.unwrap_or(179),
            enforce_first_as: raw.enforce_first_as.unwrap_or(true),
            rov_ext_community: raw.rov_ext_community.unwrap_or(false),
            extended_next_hop: raw.extended_next_hop.unwrap_or(false),
            checks: defaults.checks_for(
                role,
                &self.mode_layer(
                    (raw.checks.as_ref(), &raw.check, raw.aspa.as_ref()),
                    &key(""),
                )?,
            ),
            next_hop: match &raw.next_hop {
                Some(n) => self.parse(n, key("next_hop"))?,
                None => NextHopMode::default(),
            },
            irr: self.irr_files(&raw.irr, &key("irr"))?,
            security: Security {
                password: (raw.password.as_ref())
                    .map(|p| {
                        Password::new(p.get_ref().clone())
                            .map_err(|m| self.at(p, key("password"), m))
                    })
                    .transpose()?,
                ttl_security: raw.ttl_security.unwrap_or(false),
            },
            add_path: (raw.add_path.as_ref())
                .map_or(Ok(AddPath::Off), |a| self.parse(a, key("add_path")))?,
        })
    }

    /// Peer names and addresses must be unique; the later duplicate is the error.
    fn check_unique(&self, raw: &[RawPeer], peers: &[PeerConfig]) -> Result<(), ConfigError> {
        let mut names = HashMap::new();
        let mut addresses = HashMap::new();
        for (i, (r, p)) in raw.iter().zip(peers).enumerate() {
            if let Some(first) = names.insert(p.name.as_str(), i) {
                let message = format!("duplicate name {:?}, already used by peer[{first}]", p.name);
                return Err(self.at(&r.name, format!("peer[{i}].name"), message));
            }
            if let Some(first) = addresses.insert(p.address, i) {
                let message = format!(
                    "duplicate address {}, already used by peer[{first}]",
                    p.address
                );
                return Err(self.at(&r.address, format!("peer[{i}].address"), message));
            }
        }
        Ok(())
    }

    fn asn(&self, raw: &Spanned<u32>, key: &str) -> Result<Asn, ConfigError> {
        match *raw.get_ref() {
            0 => Err(self.at(raw, key, "expected a nonzero AS number")),
            n => Ok(Asn(n)),
        }
    }

    /// Parses a string value with `FromStr`; the message says what was expected.
    fn parse<T: Expected>(&self, raw: &Text, key: impl Into<String>) -> Result<T, ConfigError> {
        T::from_str(raw.get_ref()).map_err(|e| self.at(raw, key, T::expected(raw.get_ref(), e)))
    }
}
