//! Table dumps shared by the peers that come up together: each chunk of the table is
//! looked up and sent once, as a [`Batch`] every member of the dump shares (and, with its
//! encoding, most of them share the UPDATEs too).
//!
//! Where it sits: a session reaching Established (or the end of the update delay, for
//! every session up then) starts a dump of each of its families, or joins one that has
//! not sent anything yet. At the end of every batch the RIB hands each dump's members the
//! next chunk while all of them have room. Members whose channel stays full for a second
//! while another waits go on in a dump of their own from where they are, so the others go
//! on at their pace. End-of-RIB follows each member's last chunk. A chunk is looked up
//! when it is sent, so it carries the table as it is then; changes meanwhile reach the
//! members as any peer's do, and whichever comes last is the current state. The prefixes
//! to send are listed once, as the first chunk goes out, not when the dump begins: a peer
//! that joins meanwhile was not sent the changes from before it was up. The list is
//! compact (an IPv4 prefix in 5 bytes, not an `IpNet`'s 18) and shared by the dumps split
//! from it: at 83 IXP members the list as `IpNet`s and its copies for split dumps were 7
//! MiB of the peak. It is grouped by the peer whose path is best, so that a chunk holds
//! few peers' paths: only those peers see it in a view of their own, and every other
//! member shares one encoding (in table order each chunk of an IXP's table holds nearly
//! every member's paths, and each member encoded its own).

use std::sync::Arc;
use std::time::Duration;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use tokio::time::Instant;

use super::export::Batch;
use super::table::{Dirty, Table, Top2};
use super::Rib;
use crate::route::{Export, Family, PeerId};

/// How many prefixes one dump chunk carries.
const CHUNK: usize = 4096;
/// How long the members of a dump wait for one whose channel is full before it goes on
/// alone: long enough for a busy writer to get its turn on the CPU.
const SPLIT_AFTER: Duration = Duration::from_secs(1);

/// One walk over a family's table for the peers that share it.
pub(super) struct Dump {
    family: Family,
    /// The family's prefixes when the first chunk went out, in table order (shared with
    /// the dumps split from it); `None` before, while peers may still join. Listed then,
    /// not when the dump began: routes learned in between went out as changes only to
    /// the peers up then, not to those that joined later.
    prefixes: Option<Arc<Prefixes>>,
    /// How many of them were sent.
    sent: usize,
    members: Vec<PeerId>,
    /// Since when a member's full channel holds the others up.
    blocked: Option<Instant>,
}

/// A family's prefixes in table order.
enum Prefixes {
    V4(Box<[Ipv4Net]>),
    V6(Box<[Ipv6Net]>),
}

impl Prefixes {
    /// The prefixes of `family` in `table` now, grouped by the peer whose path is best
    /// (those without an eligible path last), in table order within a group.
    fn of(table: &Table, family: Family) -> Prefixes {
        // Per prefix, its group: the best path's peer, or past every peer's.
        let mut owners = Vec::new();
        let all = table.iter(family).map(|(p, paths)| {
            let best = paths.iter().find(|p| p.eligible);
            owners.push(best.map_or(u32::MAX, |p| p.peer.0));
            p
        });
        match family {
            Family::Ipv4Unicast => {
                let all: Vec<Ipv4Net> = all
                    .filter_map(|p| match p {
                        IpNet::V4(p) => Some(p),
                        IpNet::V6(_) => None,
                    })
                    .collect();
                Prefixes::V4(grouped(all, &owners))
            }
            Family::Ipv6Unicast => {
                let all: Vec<Ipv6Net> = all
                    .filter_map(|p| match p {
                        IpNet::V6(p) => Some(p),
                        IpNet::V4(_) => None,
                    })
                    .collect();
                Prefixes::V6(grouped(all, &owners))
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Prefixes::V4(all) => all.len(),
            Prefixes::V6(all) => all.len(),
        }
    }

    fn get(&self, i: usize) -> IpNet {
        match self {
            Prefixes::V4(all) => IpNet::V4(all[i]),
            Prefixes::V6(all) => IpNet::V6(all[i]),
        }
    }
}

/// `items` ordered by their `groups` (one per item; a peer id, or `u32::MAX` for none),
/// in their order within a group: a counting sort, as peer ids are dense and few.
fn grouped<T: Copy>(items: Vec<T>, groups: &[u32]) -> Box<[T]> {
    let Some(&first) = items.first() else {
        return Box::default();
    };
    let none = groups
        .iter()
        .filter(|&&g| g != u32::MAX)
        .max()
        .map_or(0, |&g| g + 1);
    let index = |g: u32| g.min(none) as usize;
    // Where each group starts in the result.
    let mut next = vec![0usize; none as usize + 1];
    groups.iter().for_each(|&g| next[index(g)] += 1);
    let mut start = 0;
    for slot in &mut next {
        (*slot, start) = (start, start + *slot);
    }
    let mut out = vec![first; items.len()];
    for (item, &g) in items.into_iter().zip(groups) {
        out[next[index(g)]] = item;
        next[index(g)] += 1;
    }
    out.into_boxed_slice()
}

impl Dump {
    /// When the members that hold the others up go on alone.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.blocked.map(|t| t + SPLIT_AFTER)
    }
}

impl Rib {
    /// Starts the table dump of `family` for `peer`, joining one nothing was sent of yet.
    pub(super) fn start_dump(&mut self, peer: PeerId, family: Family) {
        if self.peers.add_paths(peer, family).is_some() {
            return self.dump_paths(peer, family);
        }
        let open = (self.dumps.iter_mut()).find(|d| d.family == family && d.prefixes.is_none());
        match open {
            Some(dump) => dump.members.push(peer),
            None => {
                self.dumps.push(Dump {
                    family,
                    prefixes: None,
                    sent: 0,
                    members: vec![peer],
                    blocked: None,
                });
            }
        }
    }

    /// Takes `peer` out of every dump (its session is gone).
    pub(super) fn leave_dumps(&mut self, peer: PeerId) {
        for dump in &mut self.dumps {
            dump.members.retain(|&m| m != peer);
        }
        self.dumps.retain(|d| !d.members.is_empty());
    }

    /// Hands every dump's members their next chunks while all have room; ends finished
    /// dumps with End-of-RIB.
    pub(super) fn send_dumps(&mut self) {
        let mut dumps = std::mem::take(&mut self.dumps);
        let mut forks = Vec::new();
        dumps.retain_mut(|dump| self.advance(dump, &mut forks));
        self.dumps.append(&mut dumps);
        self.dumps.append(&mut forks);
    }

    /// Sends a dump's chunks while every member has room; false when it is over. Members
    /// that hold the others up for too long go on in a dump of their own, in `forks`.
    fn advance(&mut self, dump: &mut Dump, forks: &mut Vec<Dump>) -> bool {
        loop {
            let mut free = Vec::with_capacity(dump.members.len());
            // Members whose session is gone drop out.
            dump.members.retain(|&peer| match self.peers.room(peer) {
                Some(room) => {
                    free.push(room);
                    true
                }
                None => false,
            });
            let done = dump.prefixes.as_ref().is_some_and(|p| dump.sent == p.len());
            if done || dump.members.is_empty() {
                for &peer in &dump.members {
                    self.peers.queue_marker(peer, Export::EndOfRib(dump.family));
                }
                return false;
            }
            if free.iter().all(|&n| n == 0) {
                // Nobody waits for anybody: the next writer to take a chunk wakes the RIB.
                dump.blocked = None;
                return true;
            }
            if free.contains(&0) {
                // Wait for the writers to wake the RIB; once a member with room has waited
                // for a while, the full ones go on alone.
                let now = Instant::now();
                let since = *dump.blocked.get_or_insert(now);
                if now < since + SPLIT_AFTER {
                    return true;
                }
                let mut full = free.iter().map(|&n| n == 0);
                let (slow, rest) = (dump.members.iter()).partition(|_| full.next() == Some(true));
                forks.push(Dump {
                    family: dump.family,
                    prefixes: dump.prefixes.clone(),
                    sent: dump.sent,
                    members: slow,
                    blocked: None,
                });
                dump.members = rest;
                dump.blocked = None;
                continue;
            }
            let Some(prefixes) = &dump.prefixes else {
                let prefixes = Prefixes::of(&self.table, dump.family);
                dump.prefixes = Some(Arc::new(prefixes));
                continue;
            };
            let batch = Arc::new(Batch::new(self.dump_chunk(prefixes, &mut dump.sent)));
            dump.blocked = None;
            for &peer in &dump.members {
                self.peers.send_shared(peer, &batch);
            }
        }
    }

    /// The chunk of `prefixes` after the `sent` first, as the table holds it now.
    fn dump_chunk(&self, prefixes: &Prefixes, sent: &mut usize) -> Vec<Dirty> {
        let end = (*sent + CHUNK).min(prefixes.len());
        let chunk = (*sent..end)
            .map(|i| {
                let prefix = prefixes.get(i);
                Dirty {
                    prefix,
                    before: Top2::default(),
                    after: Top2::of(self.table.paths(&prefix)),
                }
            })
            .collect();
        *sent = end;
        chunk
    }
}
