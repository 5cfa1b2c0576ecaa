//! IXP members for `rovgate replay --members`: an arouteserver clients file read into
//! members, copied `--scale` times with synthetic ASNs, and each member's share of the MRT
//! table.
//!
//! Where it sits: the first step of member mode (`replay::ixp`), after the MRT file is
//! loaded; pure apart from reading the file. `ixp.rs` opens one session per [`Member`] and
//! `tally.rs` counts what each receives.
//!
//! The share rule: one member per distinct AS among the file's IPv4 clients (a second
//! router of the same AS announces the same routes, so it is not a second member); each
//! announces 60 % of its IPv4 max-prefix limit (none: it only receives). Shares are
//! consecutive, disjoint slices of the table's IPv4 routes in feed order, members in file
//! order. INEX's 83 members total 240,384 routes. Copies 2..K (`--scale K`) announce the
//! same slices as the original from private ASNs (RFC 6996), so a copy is a second path to
//! the same prefixes: K × the routes and sessions, the same prefixes.

use std::io;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use foldhash::HashSet;

use crate::feed::FeedPeer;

/// The share of its max-prefix limit each member announces, in percent.
pub const SHARE_PERCENT: usize = 60;
/// The first synthetic AS (RFC 6996 private 4-octet range) for copies 2..K.
pub const SYNTHETIC_AS: u32 = 4_200_000_000;

/// One client entry of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// `asn`.
    pub asn: u32,
    /// `ip`: its peering-LAN address (not used for sessions; they come from loopback).
    pub ip: IpAddr,
    /// `cfg.filtering.max_prefix.limit_ipv4`.
    pub limit_ipv4: Option<u32>,
    /// `cfg.filtering.max_prefix.limit_ipv6`.
    pub limit_ipv6: Option<u32>,
}

/// One member session of a replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Its AS: the file's, or a synthetic one for copies.
    pub asn: u32,
    /// Its IPv4 max-prefix limit (the device's `max_prefixes` for it).
    pub max_prefix: Option<u32>,
    /// Which slice it announces: the index of the original member in the list.
    pub group: usize,
    /// How many routes it announces.
    pub share: usize,
}

/// Why the members file or the members' shares do not work.
#[derive(Debug, thiserror::Error)]
pub enum MembersError {
    /// The file could not be read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        error: io::Error,
    },
    /// A line the reader does not understand, or a client without `asn` or `ip`.
    #[error("{path}:{line}: {what}")]
    Syntax {
        /// The file.
        path: String,
        /// The line (1-based).
        line: usize,
        /// What is wrong.
        what: String,
    },
    /// The shares add up to more routes than the table has.
    #[error("the members' shares total {needed} routes; the table has {have} IPv4 routes")]
    TableTooSmall {
        /// Routes the shares need.
        needed: usize,
        /// IPv4 routes in the table.
        have: usize,
    },
}

/// Reads the file's members (IPv4 clients, one per AS) and copies them `scale` times.
pub fn load(path: &Path, scale: usize) -> Result<Vec<Member>, MembersError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| MembersError::Io {
        path: name.clone(),
        error,
    })?;
    let clients = parse(&text).map_err(|(line, what)| MembersError::Syntax {
        path: name,
        line,
        what,
    })?;
    Ok(members(&clients, scale))
}

/// The routes a member with this max-prefix limit announces.
pub fn share(limit: Option<u32>) -> usize {
    limit.map_or(0, |l| l as usize * SHARE_PERCENT / 100)
}

/// The IPv4 clients, one per AS (the first entry), copied `scale` times: copy k ≥ 1 of
/// member i gets AS `SYNTHETIC_AS + (k - 1) × members + i`.
pub fn members(clients: &[Client], scale: usize) -> Vec<Member> {
    let mut seen = HashSet::default();
    let originals: Vec<&Client> = (clients.iter())
        .filter(|c| c.ip.is_ipv4() && seen.insert(c.asn))
        .collect();
    let n = originals.len();
    (0..scale.max(1))
        .flat_map(|copy| originals.iter().enumerate().map(move |(i, c)| (copy, i, c)))
        .map(|(copy, i, c)| Member {
            asn: match copy {
                0 => c.asn,
                k => SYNTHETIC_AS + ((k - 1) * n + i) as u32,
            },
            max_prefix: c.limit_ipv4,
            group: i,
            share: share(c.limit_ipv4),
        })
        .collect()
}

/// Cuts `feed` into consecutive slices of these sizes, in feed order: slice i holds the
/// routes of the original member i (`shares[i]`). Batches keep their attribute sets.
pub fn slices(feed: &FeedPeer, shares: &[usize]) -> Result<Vec<FeedPeer>, MembersError> {
    let (needed, have) = (shares.iter().sum(), feed.routes());
    if needed > have {
        return Err(MembersError::TableTooSmall { needed, have });
    }
    let mut routes = (feed.batches.iter()).flat_map(|(a, p)| p.iter().map(move |p| (a, *p)));
    let mut slice = |size: usize| {
        let mut batches: Vec<(Arc<_>, Vec<_>)> = Vec::new();
        for (attrs, p) in routes.by_ref().take(size) {
            match batches.last_mut() {
                Some((a, prefixes)) if Arc::ptr_eq(a, attrs) => prefixes.push(p),
                _ => batches.push((attrs.clone(), vec![p])),
            }
        }
        FeedPeer {
            asn: feed.asn,
            address: feed.address,
            batches,
        }
    };
    Ok(shares.iter().map(|&s| slice(s)).collect())
}

/// The clients of an arouteserver clients file, as its block-style YAML has them: a
/// top-level `clients:` list whose items hold `asn`, `ip` and, under
/// `cfg.filtering.max_prefix`, `limit_ipv4` / `limit_ipv6`. Other keys are skipped; flow
/// style (`{...}`, `[...]`) is not read. Errors are (line, what).
pub fn parse(text: &str) -> Result<Vec<Client>, (usize, String)> {
    // The mapping keys open above the current line, with their indentation.
    let mut open: Vec<(usize, &str)> = Vec::new();
    let mut clients = Vec::new();
    let mut item: Option<Item> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let mut body = raw.trim_start();
        let mut indent = raw.len() - body.len();
        if body.is_empty() || body.starts_with('#') || body == "---" {
            continue;
        }
        if let Some(rest) = body.strip_prefix('-') {
            open.retain(|(i, _)| *i <= indent);
            if open.iter().map(|(_, k)| *k).eq(["clients"]) {
                clients.extend(item.take().map(Item::finish).transpose()?);
                item = Some(Item::new(line));
            }
            let rest_trimmed = rest.trim_start();
            indent += 1 + rest.len() - rest_trimmed.len();
            body = rest_trimmed;
            if !body.contains(": ") && !body.ends_with(':') {
                continue; // a scalar list item (an AS-SET name)
            }
        }
        open.retain(|(i, _)| *i < indent);
        let Some((key, value)) = body.split_once(':') else {
            return Err((line, format!("expected `key: value`, found {body:?}")));
        };
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        if value.is_empty() {
            open.push((indent, key.trim()));
        } else if let Some(item) = &mut item {
            let path: Vec<&str> = open.iter().skip(1).map(|(_, k)| *k).collect();
            item.set(&path, key.trim(), value, line)?;
        }
    }
    clients.extend(item.map(Item::finish).transpose()?);
    Ok(clients)
}

/// A client item being read.
struct Item {
    line: usize,
    asn: Option<u32>,
    ip: Option<IpAddr>,
    limit_ipv4: Option<u32>,
    limit_ipv6: Option<u32>,
}

impl Item {
    fn new(line: usize) -> Item {
        Item {
            line,
            asn: None,
            ip: None,
            limit_ipv4: None,
            limit_ipv6: None,
        }
    }

    /// Takes `key: value` found under `path` (keys below the item).
    fn set(
        &mut self,
        path: &[&str],
        key: &str,
        value: &str,
        line: usize,
    ) -> Result<(), (usize, String)> {
        let bad = |what: &str| (line, format!("{key}: {value:?} is not {what}"));
        let number = || value.parse::<u32>().map_err(|_| bad("a number"));
        match (path, key) {
            ([], "asn") => self.asn = Some(number()?),
            ([], "ip") => self.ip = Some(value.parse().map_err(|_| bad("an IP address"))?),
            (["cfg", "filtering", "max_prefix"], "limit_ipv4") => self.limit_ipv4 = Some(number()?),
            (["cfg", "filtering", "max_prefix"], "limit_ipv6") => self.limit_ipv6 = Some(number()?),
            _ => {}
        }
        Ok(())
    }

    fn finish(self) -> Result<Client, (usize, String)> {
        let missing = |key| (self.line, format!("client without `{key}`"));
        Ok(Client {
            asn: self.asn.ok_or_else(|| missing("asn"))?,
            ip: self.ip.ok_or_else(|| missing("ip"))?,
            limit_ipv4: self.limit_ipv4,
            limit_ipv6: self.limit_ipv6,
        })
    }
}

#[cfg(test)]
#[path = "members_tests.rs"]
mod tests;
