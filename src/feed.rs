//! MRT files as feeds: each MRT peer's routes, grouped by attribute set, ready to be packed
//! into UPDATEs or validated.
//!
//! Where it sits: the first step of a replay (`replay::replay`) and of an offline report
//! (`report::offline`), above the codec whose attribute decoding it reuses. bgpkit-parser
//! cuts the file into raw records (`crate::mrt::records`, gzip/bzip2 by name); this module
//! reads the records itself so path attributes keep their wire bytes:
//! - TABLE_DUMP_V2 (RFC 6396 §4.3): the PEER_INDEX_TABLE (parsed by bgpkit) names the peers;
//!   each RIB_IPV4/IPV6_UNICAST entry (and the ADD-PATH variants, RFC 8050) carries the
//!   attributes as a 4-octet-AS BGP attribute list. Each distinct list is decoded once, by
//!   `bgp::wire::decode_update` on a synthetic UPDATE (`attrs`), so a feed holds what the
//!   codec would hold for a received route. Every later entry with the same bytes is a hash
//!   lookup.
//! - BGP4MP update files (`updates`): the messages are applied in order per peer and the
//!   routes announced at the end of the file form the feed.
//!
//! As from an eBGP peer, LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST are dropped (RFC 7606
//! §7.5); every other attribute is kept in `AttrSet::other` as wire bytes. Routes whose path
//! holds AS 0 are kept (see `attrs`), and [`deliverable`] says a conforming receiver drops
//! them.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;

use bgpkit_parser::models::{EntryType, MrtMessage, TableDumpV2Message};
use bgpkit_parser::RawMrtRecord;
use foldhash::HashMap;
use ipnet::IpNet;
use tracing::{debug, warn};

use crate::mrt::ReadError;
use crate::route::{AsPath, AttrSet, Attrs, Family, Interner, Segment};

mod attrs;
mod updates;

pub use attrs::deliverable;

/// One MRT peer's routes: prefixes that share an attribute set grouped together.
#[derive(Clone, Debug)]
pub struct FeedPeer {
    /// The peer's AS (the first AS of its paths).
    pub asn: u32,
    /// The peer's address in the MRT file.
    pub address: IpAddr,
    /// Attribute sets and the prefixes announced with each, in order of first appearance.
    pub batches: Vec<(Attrs, Vec<IpNet>)>,
}

impl FeedPeer {
    /// How many routes (prefixes) the peer has.
    pub fn routes(&self) -> usize {
        self.batches.iter().map(|(_, p)| p.len()).sum()
    }

    /// How many routes of this family the peer has.
    pub fn routes_of(&self, family: Family) -> usize {
        let of = |p: &[IpNet]| p.iter().filter(|p| Family::of(p) == family).count();
        self.batches.iter().map(|(_, p)| of(p)).sum()
    }

    /// Keeps only the prefixes of these families (and the batches left non-empty).
    pub fn retain_families(&mut self, families: &[Family]) {
        for (_, prefixes) in &mut self.batches {
            prefixes.retain(|p| families.contains(&Family::of(p)));
        }
        self.batches.retain(|(_, p)| !p.is_empty());
    }

    /// The same routes as announced by a peer of AS `asn`: the first AS of each path, when
    /// it is this peer's AS, becomes `asn`; other paths get `asn` prepended.
    pub fn with_asn(&self, asn: u32) -> FeedPeer {
        if asn == self.asn {
            return self.clone();
        }
        let batches = (self.batches.iter())
            .map(|(a, p)| {
                let path = rewrite_first_as(&a.as_path, self.asn, asn);
                let set = AttrSet::new(a.origin, path, a.next_hop, a.med, a.other.clone());
                (Arc::new(set), p.clone())
            })
            .collect();
        FeedPeer {
            asn,
            address: self.address,
            batches,
        }
    }
}

fn rewrite_first_as(path: &AsPath, old: u32, new: u32) -> AsPath {
    let mut path = path.clone();
    match path.0.first_mut() {
        Some(Segment::Sequence(v)) if v.first() == Some(&old) => v[0] = new,
        Some(Segment::Sequence(v)) => v.insert(0, new),
        _ => path.0.insert(0, Segment::Sequence(vec![new])),
    }
    path
}

/// Why an MRT file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MrtError {
    /// The file could not be opened, is empty, is not MRT, or is cut short.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A TABLE_DUMP_V2 RIB record came before the PEER_INDEX_TABLE, or names a peer the
    /// table does not have.
    #[error("{path}: RIB entry for peer index {index}, which the PEER_INDEX_TABLE does not have")]
    UnknownPeer {
        /// The file.
        path: String,
        /// The peer index.
        index: u16,
    },
}

/// What to do with an MRT file that ends inside a record or a compressed stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Truncated {
    /// It is an error ([`ReadError::Truncated`]).
    #[default]
    Refuse,
    /// Its whole records are read, with a warning (for a file cut on purpose, such as the
    /// first MiB of a dump).
    Read,
}

/// Loads an MRT file (TABLE_DUMP_V2 RIB or BGP4MP updates; gzip or bzip2 by name) into one
/// feed per MRT peer that has routes, in the file's peer order. An empty file, one that is
/// not MRT and one cut short are errors.
///
/// RIB entries whose attributes do not decode are skipped and counted in a warning.
pub fn load(path: &Path) -> Result<Vec<FeedPeer>, MrtError> {
    load_with(path, Truncated::Refuse)
}

/// [`load`], with a choice for a file cut short.
pub fn load_with(path: &Path, truncated: Truncated) -> Result<Vec<FeedPeer>, MrtError> {
    let name = path.display().to_string();
    let mut loader = Loader::default();
    for record in crate::mrt::records(path)? {
        let record = match record {
            Err(ReadError::Truncated { records, why, .. }) if truncated == Truncated::Read => {
                warn!(file = %name, records, error = %why, "MRT file cut short: its whole records are read");
                break;
            }
            read => read?,
        };
        loader
            .record(record)
            .map_err(|index| MrtError::UnknownPeer {
                path: name.clone(),
                index,
            })?;
    }
    if loader.skipped > 0 {
        warn!(file = %name, entries = loader.skipped, "RIB entries with undecodable attributes skipped");
    }
    Ok(loader.finish())
}

/// The state of one load.
#[derive(Default)]
struct Loader {
    /// TABLE_DUMP_V2 peers: one per AS and BGP Identifier (a speaker dumped with an IPv4
    /// and an IPv6 address is one feed).
    peers: Vec<PeerRib>,
    /// The index in `peers` of each PEER_INDEX_TABLE entry.
    slot: Vec<usize>,
    /// BGP4MP update streams.
    updates: updates::Streams,
    /// Decoded attribute lists, by family and wire bytes (`None`: does not decode).
    interned: [HashMap<Vec<u8>, Option<Attrs>>; 2],
    /// One `Arc` per distinct attribute set, whatever bytes it came from.
    distinct: Interner,
    /// RIB entries skipped because their attributes do not decode.
    skipped: u64,
}

/// One TABLE_DUMP_V2 peer's routes as they are read.
struct PeerRib {
    asn: u32,
    address: IpAddr,
    /// Batch index by attribute set (its `Arc` address).
    group: HashMap<usize, usize>,
    batches: Vec<(Attrs, Vec<IpNet>)>,
}

const PEER_INDEX_TABLE: u16 = 1;
const RIB_IPV4_UNICAST: u16 = 2;
const RIB_IPV6_UNICAST: u16 = 4;
const RIB_IPV4_UNICAST_ADDPATH: u16 = 8;
const RIB_IPV6_UNICAST_ADDPATH: u16 = 10;

impl Loader {
    /// Takes one record; `Err(index)` for a RIB entry of an unknown peer.
    fn record(&mut self, record: RawMrtRecord) -> Result<(), u16> {
        let subtype = record.common_header.entry_subtype;
        match record.common_header.entry_type {
            EntryType::TABLE_DUMP_V2 => match subtype {
                PEER_INDEX_TABLE => self.peer_index(record),
                RIB_IPV4_UNICAST | RIB_IPV4_UNICAST_ADDPATH => {
                    let add_path = subtype == RIB_IPV4_UNICAST_ADDPATH;
                    return self.rib(&record.message_bytes, Family::Ipv4Unicast, add_path);
                }
                RIB_IPV6_UNICAST | RIB_IPV6_UNICAST_ADDPATH => {
                    let add_path = subtype == RIB_IPV6_UNICAST_ADDPATH;
                    return self.rib(&record.message_bytes, Family::Ipv6Unicast, add_path);
                }
                _ => debug!(subtype, "TABLE_DUMP_V2 record skipped"),
            },
            EntryType::BGP4MP | EntryType::BGP4MP_ET => self.updates.record(&record),
            kind => debug!(?kind, "MRT record skipped"),
        }
        Ok(())
    }

    fn peer_index(&mut self, record: RawMrtRecord) {
        let table = match record.parse().map(|r| r.message) {
            Ok(MrtMessage::TableDumpV2Message(TableDumpV2Message::PeerIndexTable(t))) => t,
            Ok(_) | Err(_) => {
                warn!("unreadable PEER_INDEX_TABLE skipped");
                return;
            }
        };
        let count = table
            .id_peer_map
            .keys()
            .max()
            .map_or(0, |&m| usize::from(m) + 1);
        let mut speakers: HashMap<(u32, Ipv4Addr), usize> = HashMap::default();
        self.peers.clear();
        self.slot = (0..count)
            .map(|i| {
                let peer = u16::try_from(i)
                    .ok()
                    .and_then(|i| table.id_peer_map.get(&i));
                let asn = peer.map_or(0, |p| p.peer_asn.to_u32());
                let key = (asn, peer.map_or(Ipv4Addr::UNSPECIFIED, |p| p.peer_bgp_id));
                *speakers.entry(key).or_insert_with(|| {
                    self.peers.push(PeerRib {
                        asn,
                        address: peer.map_or(IpAddr::from([0, 0, 0, 0]), |p| p.peer_ip),
                        group: HashMap::default(),
                        batches: Vec::new(),
                    });
                    self.peers.len() - 1
                })
            })
            .collect();
    }

    /// A RIB_IPV4/IPV6_UNICAST record (RFC 6396 §4.3.2; RFC 8050 path identifiers).
    fn rib(&mut self, body: &[u8], family: Family, add_path: bool) -> Result<(), u16> {
        let Some((nlri, mut entries)) = rib_header(body) else {
            warn!("truncated RIB record skipped");
            return Ok(());
        };
        let Some(prefix) = updates::prefix(nlri, family) else {
            warn!("RIB record with a bad prefix skipped");
            return Ok(());
        };
        while let Some((index, attrs, rest)) = rib_entry(entries, add_path) {
            entries = rest;
            let &slot = self.slot.get(usize::from(index)).ok_or(index)?;
            match self.attrs(family, attrs, nlri) {
                Some(a) => self.add(slot, a, prefix),
                None => self.skipped += 1,
            }
        }
        Ok(())
    }

    fn add(&mut self, peer: usize, attrs: Attrs, prefix: IpNet) {
        let Some(rib) = self.peers.get_mut(peer) else {
            return;
        };
        let key = Arc::as_ptr(&attrs) as usize;
        let next = rib.batches.len();
        let at = *rib.group.entry(key).or_insert(next);
        match rib.batches.get_mut(at) {
            Some((_, prefixes)) => prefixes.push(prefix),
            None => rib.batches.push((attrs, vec![prefix])),
        }
    }

    /// The interned attribute set of a TABLE_DUMP_V2 attribute list.
    fn attrs(&mut self, family: Family, raw: &[u8], nlri: &[u8]) -> Option<Attrs> {
        let cache = &mut self.interned[usize::from(family == Family::Ipv6Unicast)];
        if let Some(found) = cache.get(raw) {
            return found.clone();
        }
        let decoded = attrs::decode(family, raw, nlri).map(|set| self.distinct.intern(set));
        cache.insert(raw.to_vec(), decoded.clone());
        decoded
    }

    fn finish(self) -> Vec<FeedPeer> {
        let ribs = self.peers.into_iter().map(|r| FeedPeer {
            asn: r.asn,
            address: r.address,
            batches: r.batches,
        });
        (ribs.chain(self.updates.finish()))
            .filter(|p| !p.batches.is_empty())
            .collect()
    }
}

/// A RIB record's prefix (length byte and bytes) and its entries.
fn rib_header(body: &[u8]) -> Option<(&[u8], &[u8])> {
    let (_seq, rest) = body.split_at_checked(4)?;
    let bits = usize::from(*rest.first()?);
    let (nlri, rest) = rest.split_at_checked(1 + bits.div_ceil(8))?;
    let (_count, entries) = rest.split_at_checked(2)?;
    Some((nlri, entries))
}

/// One RIB entry: peer index, attribute list and what follows it.
fn rib_entry(b: &[u8], add_path: bool) -> Option<(u16, &[u8], &[u8])> {
    let (head, rest) = b.split_at_checked(if add_path { 12 } else { 8 })?;
    let index = u16::from_be_bytes([head[0], head[1]]);
    let len = usize::from(u16::from_be_bytes([
        head[head.len() - 2],
        head[head.len() - 1],
    ]));
    let (attrs, rest) = rest.split_at_checked(len)?;
    Some((index, attrs, rest))
}

#[cfg(test)]
#[path = "feed_tests.rs"]
mod tests;
