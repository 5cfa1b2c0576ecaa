//! The what-if report of an MRT file against a VRP file, without a running rovgate.
//!
//! Where it sits: `rovgate report --mrt FILE --vrps FILE`. `feed::load_with` gives every
//! MRT peer's routes, `rpki::file::load` the VRPs; [`inputs`] computes every route's state
//! ([`VrpTable::state`]) and, for each invalid route, whether its destination stays
//! reachable without it; `report::build` does the rest. Nothing is dropped in a file, so
//! `dropped` is 0 everywhere and `would_drop` is every invalid route; no import check
//! is configured, so RPKI invalid is every route's one reason.

use std::path::Path;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixSet;

use super::{build, InvalidInput, PeerInput, Report, ReportError};
use crate::feed::{self, FeedPeer, Truncated};
use crate::policy::Failed;
use crate::route::RovState;
use crate::rpki::{self, VrpTable};

/// The report of every peer in the MRT file `mrt` (or only `only_peer`, a [`peer_name`])
/// against the VRP file `vrps` (rpki-client JSON, Routinator JSON or CSV; gzip too). The
/// two files load in parallel. An MRT file cut short is an error unless `truncated` says
/// to read it.
pub fn from_mrt(
    mrt: &Path,
    vrps: &Path,
    only_peer: Option<&str>,
    truncated: Truncated,
) -> Result<Report, ReportError> {
    let (feeds, table) = std::thread::scope(|s| {
        let vrps = s.spawn(|| rpki::file::load(vrps).map(VrpTable::from_iter));
        let feeds = feed::load_with(mrt, truncated);
        // The loader returns errors and does not panic; if it did, pass the panic on.
        let table = vrps.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (feeds, table)
    });
    let (feeds, table) = (feeds?, table?);
    if let Some(name) = only_peer {
        let known: Vec<String> = feeds.iter().map(peer_name).collect();
        if !known.iter().any(|k| k == name) {
            return Err(ReportError::UnknownPeer {
                name: name.to_string(),
                known,
            });
        }
    }
    let (peers, invalid) = inputs(&feeds, &table);
    Ok(build(&peers, &invalid, &table, only_peer))
}

/// The name of an MRT peer in a report: `AS<asn> <address>`, e.g. `AS64496 192.0.2.1`
/// (the address of its first PEER_INDEX_TABLE entry, for a speaker dumped with an IPv4 and
/// an IPv6 address).
pub fn peer_name(feed: &FeedPeer) -> String {
    format!("AS{} {}", feed.asn, feed.address)
}

/// The report's input from MRT feeds: per peer (named by [`peer_name`]) its counts, and
/// every invalid route. A route's destination stays reachable without it when any peer has a
/// route that is not invalid for the same prefix or a less-specific one covering it (a
/// default route, 0.0.0.0/0 or ::/0, covers every prefix of its family).
pub fn inputs(feeds: &[FeedPeer], vrps: &VrpTable) -> (Vec<PeerInput>, Vec<InvalidInput>) {
    let mut usable = Usable::default();
    let mut peers = Vec::with_capacity(feeds.len());
    let mut invalid = Vec::new();
    for (index, feed) in feeds.iter().enumerate() {
        let mut peer = PeerInput {
            name: peer_name(feed),
            valid: 0,
            invalid: 0,
            not_found: 0,
            dropped: 0,
        };
        for (attrs, prefixes) in &feed.batches {
            let origin = attrs.as_path.origin();
            let mut as_path = None;
            for prefix in prefixes {
                match vrps.state(prefix, origin) {
                    RovState::Valid => peer.valid += 1,
                    RovState::NotFound => peer.not_found += 1,
                    RovState::Invalid => {
                        peer.invalid += 1;
                        let path = as_path.get_or_insert_with(|| attrs.as_path.to_string());
                        invalid.push(InvalidInput {
                            peer: index,
                            prefix: *prefix,
                            origin,
                            as_path: path.clone(),
                            rpki_invalid: true,
                            failed: Failed::default(),
                            dropped: false,
                            aspa: None,
                            reachable: false,
                        });
                        continue;
                    }
                }
                usable.insert(prefix);
            }
        }
        peers.push(peer);
    }
    for route in &mut invalid {
        route.reachable = usable.covers(&route.prefix);
    }
    (peers, invalid)
}

/// The prefixes that have a route that is not invalid, from any peer.
#[derive(Default)]
struct Usable {
    v4: PrefixSet<Ipv4Net>,
    v6: PrefixSet<Ipv6Net>,
}

impl Usable {
    fn insert(&mut self, prefix: &IpNet) {
        match prefix {
            IpNet::V4(p) => self.v4.insert(p.trunc()),
            IpNet::V6(p) => self.v6.insert(p.trunc()),
        };
    }

    /// Whether the set holds `prefix` or a less-specific prefix covering it.
    fn covers(&self, prefix: &IpNet) -> bool {
        match prefix {
            IpNet::V4(p) => self.v4.is_covered(&p.trunc()),
            IpNet::V6(p) => self.v6.is_covered(&p.trunc()),
        }
    }
}
