//! IXP members for `rovgate replay --members`: an arouteserver clients file read into
//! members, copied `--scale` times with synthetic ASNs, and each member's share of the MRT
//! table.
//!
//! Where it sits: the first step of member mode (`replay::ixp`), after the MRT file is
//! loaded; pure apart from reading the file, which the config side's member-list reader
//! reads (`config::members::read`, format `arouteserver`, as `[[members]]` does). `ixp.rs`
//! opens one session per [`Member`] and `tally.rs` counts what each receives.
//!
//! The share rule: one member per distinct AS among the file's IPv4 clients (a second
//! router of the same AS announces the same routes, so it is not a second member); each
//! announces 60 % of its IPv4 max-prefix limit (none: it only receives). Shares are
//! consecutive, disjoint slices of the table's IPv4 routes in feed order, members in file
//! order. INEX's 83 members total 240,384 routes. Copies 2..K (`--scale K`) announce the
//! same slices as the original from private ASNs (RFC 6996), so a copy is a second path to
//! the same prefixes: K × the routes and sessions, the same prefixes.

use std::path::Path;
use std::sync::Arc;

use foldhash::HashSet;

use crate::config::members::{read, MemberFormat, MemberPeer};
use crate::config::ConfigError;
use crate::feed::FeedPeer;

/// The share of its max-prefix limit each member announces, in percent.
pub const SHARE_PERCENT: usize = 60;
/// The first synthetic AS (RFC 6996 private 4-octet range) for copies 2..K.
pub const SYNTHETIC_AS: u32 = 4_200_000_000;

/// One member session of a replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Its AS: the file's, or a synthetic one for copies.
    pub asn: u32,
    /// Its IPv4 max-prefix limit (the device's `max_prefixes` for it).
    pub max_prefix: Option<u64>,
    /// Which slice it announces: the index of the original member in the list.
    pub group: usize,
    /// How many routes it announces.
    pub share: usize,
}

/// Why the members file or the members' shares do not work.
#[derive(Debug, thiserror::Error)]
pub enum MembersError {
    /// The file could not be read, or is not an arouteserver clients file.
    #[error(transparent)]
    File(#[from] ConfigError),
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
    Ok(members(&read(path, MemberFormat::Arouteserver)?, scale))
}

/// The routes a member with this max-prefix limit announces.
pub fn share(limit: Option<u64>) -> usize {
    limit.map_or(0, |l| l as usize * SHARE_PERCENT / 100)
}

/// The clients' IPv4 addresses, one per AS (the first), copied `scale` times: copy k ≥ 1
/// of member i gets AS `SYNTHETIC_AS + (k - 1) × members + i`.
pub fn members(clients: &[MemberPeer], scale: usize) -> Vec<Member> {
    let mut seen = HashSet::default();
    let originals: Vec<&MemberPeer> = (clients.iter())
        .filter(|c| c.address.is_ipv4() && seen.insert(c.asn))
        .collect();
    let n = originals.len();
    (0..scale.max(1))
        .flat_map(|copy| originals.iter().enumerate().map(move |(i, c)| (copy, i, c)))
        .map(|(copy, i, c)| Member {
            asn: match copy {
                0 => c.asn,
                k => SYNTHETIC_AS + ((k - 1) * n + i) as u32,
            },
            max_prefix: c.max_prefixes,
            group: i,
            share: share(c.max_prefixes),
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

#[cfg(test)]
#[path = "members_tests.rs"]
mod tests;
