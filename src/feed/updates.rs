//! BGP4MP update files as feeds: each peer's UPDATEs applied in order, the routes announced
//! at the end of the file kept. Also the byte helpers `feed` shares: NLRI prefixes
//! and synthetic UPDATE messages.
//!
//! Where it sits: inside `feed::load`, for BGP4MP and BGP4MP_ET records. Messages
//! come out of the records through `bgp::wire::Bgp4mpMessages` and are decoded by
//! `bgp::wire::decode_update`, as a session would decode them; an UPDATE the codec refuses
//! (a session reset on a real session) is skipped. State changes are not applied.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgpkit_parser::RawMrtRecord;
use foldhash::HashMap;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use tracing::debug;

use super::FeedPeer;
use crate::bgp::wire::{self, Bgp4mpMessages, Caps, MessageType, HEADER_LEN, MAX_LEN_EXTENDED};
use crate::route::{Attrs, Family, Interner};

/// The routes of every BGP4MP peer seen so far.
#[derive(Default)]
pub(super) struct Streams {
    peers: Vec<Stream>,
    index: HashMap<(IpAddr, u32), usize>,
    distinct: Interner,
    refused: u64,
}

struct Stream {
    asn: u32,
    address: IpAddr,
    rib: HashMap<IpNet, Attrs>,
}

impl Streams {
    /// Applies the UPDATE messages of one BGP4MP record.
    pub(super) fn record(&mut self, record: &RawMrtRecord) {
        let bytes = record
            .header_bytes
            .as_ref()
            .chain(record.message_bytes.as_ref());
        for message in Bgp4mpMessages::new(bytes) {
            let Ok(m) = message else {
                debug!("malformed BGP4MP record skipped");
                return;
            };
            if m.bytes.get(HEADER_LEN - 1) != Some(&MessageType::Update.code()) {
                continue;
            }
            let caps = Caps {
                as4: m.as4,
                max_len: MAX_LEN_EXTENDED,
                rov_ext_community: false,
                extended_next_hop: false,
            };
            let Ok(update) = wire::decode_update(&m.bytes, &caps) else {
                self.refused += 1;
                continue;
            };
            let next = self.peers.len();
            let at = *self.index.entry((m.peer, m.peer_asn)).or_insert(next);
            if at == next {
                self.peers.push(Stream {
                    asn: m.peer_asn,
                    address: m.peer,
                    rib: HashMap::default(),
                });
            }
            let Some(stream) = self.peers.get_mut(at) else {
                continue;
            };
            for p in &update.withdrawn {
                stream.rib.remove(p);
            }
            for (set, prefixes) in update.announced {
                let set = self.distinct.intern(set);
                stream
                    .rib
                    .extend(prefixes.into_iter().map(|p| (p, set.clone())));
            }
        }
    }

    /// The feeds: per peer, its final routes grouped by attribute set.
    pub(super) fn finish(self) -> Vec<FeedPeer> {
        if self.refused > 0 {
            debug!(updates = self.refused, "UPDATEs the codec refuses skipped");
        }
        let feed = |s: Stream| {
            let mut group: HashMap<usize, usize> = HashMap::default();
            let mut batches: Vec<(Attrs, Vec<IpNet>)> = Vec::new();
            let mut routes: Vec<(IpNet, Attrs)> = s.rib.into_iter().collect();
            routes.sort_unstable_by_key(|(p, _)| *p);
            for (prefix, set) in routes {
                let at = *group
                    .entry(std::sync::Arc::as_ptr(&set) as usize)
                    .or_insert(batches.len());
                match batches.get_mut(at) {
                    Some((_, v)) => v.push(prefix),
                    None => batches.push((set, vec![prefix])),
                }
            }
            FeedPeer {
                asn: s.asn,
                address: s.address,
                batches,
            }
        };
        self.peers.into_iter().map(feed).collect()
    }
}

/// A prefix in NLRI form (length in bits, then the significant bytes); `None` if the
/// length does not fit the family or the bytes run short. Host bits are cleared.
pub(super) fn prefix(nlri: &[u8], family: Family) -> Option<IpNet> {
    let (&len, bytes) = nlri.split_first()?;
    let bytes = bytes.get(..usize::from(len).div_ceil(8))?;
    let net = match family {
        Family::Ipv4Unicast => {
            let mut a = [0u8; 4];
            a.get_mut(..bytes.len())?.copy_from_slice(bytes);
            IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), len).ok()?)
        }
        Family::Ipv6Unicast => {
            let mut a = [0u8; 16];
            a.get_mut(..bytes.len())?.copy_from_slice(bytes);
            IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), len).ok()?)
        }
    };
    Some(net.trunc())
}

/// An UPDATE message with no withdrawn routes, these path attributes and this NLRI;
/// `None` if it would exceed 65535 bytes.
pub(super) fn update_message(attrs: &[u8], nlri: &[u8]) -> Option<Vec<u8>> {
    let len = HEADER_LEN + 4 + attrs.len() + nlri.len();
    let total = u16::try_from(len).ok()?;
    let attr_len = u16::try_from(attrs.len()).ok()?;
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&[0xff; 16]);
    m.extend_from_slice(&total.to_be_bytes());
    m.extend_from_slice(&[MessageType::Update.code(), 0, 0]);
    m.extend_from_slice(&attr_len.to_be_bytes());
    m.extend_from_slice(attrs);
    m.extend_from_slice(nlri);
    Some(m)
}
