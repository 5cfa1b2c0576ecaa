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
//! members as any peer's do, and whichever comes last is the current state.

use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use tokio::time::Instant;

use super::export::Batch;
use super::table::{Dirty, Top2};
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
    /// The prefixes still to send, the next last.
    left: Vec<IpNet>,
    /// Whether a chunk went out (then nobody may join).
    started: bool,
    members: Vec<PeerId>,
    /// Since when a member's full channel holds the others up.
    blocked: Option<Instant>,
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
        let open = (self.dumps.iter_mut()).find(|d| d.family == family && !d.started);
        match open {
            Some(dump) => dump.members.push(peer),
            None => {
                let mut left: Vec<IpNet> = self.table.iter(family).map(|(p, _)| p).collect();
                left.reverse();
                self.dumps.push(Dump {
                    family,
                    left,
                    started: false,
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
            if dump.left.is_empty() || dump.members.is_empty() {
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
                    left: dump.left.clone(),
                    started: true,
                    members: slow,
                    blocked: None,
                });
                dump.members = rest;
                dump.blocked = None;
                continue;
            }
            let batch = Arc::new(Batch::new(self.dump_chunk(dump)));
            dump.started = true;
            dump.blocked = None;
            for &peer in &dump.members {
                self.peers.send_shared(peer, &batch);
            }
        }
    }

    /// The next chunk of a dump, as the table holds it now.
    fn dump_chunk(&self, dump: &mut Dump) -> Vec<Dirty> {
        let at = dump.left.len().saturating_sub(CHUNK);
        let chunk = dump.left.split_off(at);
        (chunk.into_iter().rev())
            .map(|prefix| Dirty {
                prefix,
                before: Top2::default(),
                after: Top2::of(self.table.paths(&prefix)),
            })
            .collect()
    }
}
