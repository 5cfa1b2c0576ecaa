//! Adj-RIB-Out as pending state: for a peer that fell out of step, the prefixes it still
//! has to be sent, each with what the peer holds now and what it should hold.
//!
//! Where it sits: a peer in step takes each batch of changes as a shared `Batch`
//! (`export.rs`); once its channel is full, the RIB (`peers.rs`) notes here each change
//! it must hear of instead, until its writer has pulled all of it, a chunk whenever its
//! socket has taken the previous one. The RIB never waits for a peer: a prefix noted again
//! before it is taken keeps its place and only its final state is sent, so a slow or stuck
//! peer costs memory bounded by the table and nothing else. [`exports_of`] is a peer's
//! view of a shared batch, grouped the same way.

use std::collections::hash_map::Entry as Slot;
use std::collections::VecDeque;
use std::hash::Hash;
use std::sync::Arc;

use foldhash::HashMap;
use ipnet::IpNet;
use tokio::sync::mpsc;

use super::export::{carries, Outgoing};
use super::table::{Dirty, Receiver, Top2};
use crate::route::{Asn, Attrs, Export, Family, PathNlri};

/// What pending state is kept by: a prefix, or one path of a prefix for a peer that gets
/// every path (ADD-PATH, `add_path.rs`); and the exports a chunk of them makes.
pub trait Nlri: Copy + Eq + Hash {
    /// Announces these with `attrs`.
    fn announce(attrs: Attrs, nlri: Vec<Self>) -> Export;
    /// Withdraws these.
    fn withdraw(nlri: Vec<Self>) -> Export;
}

impl Nlri for IpNet {
    fn announce(attrs: Attrs, nlri: Vec<Self>) -> Export {
        Export::Announce(attrs, nlri)
    }

    fn withdraw(nlri: Vec<Self>) -> Export {
        Export::Withdraw(nlri)
    }
}

impl Nlri for PathNlri {
    fn announce(attrs: Attrs, nlri: Vec<Self>) -> Export {
        Export::AnnouncePaths(attrs, nlri)
    }

    fn withdraw(nlri: Vec<Self>) -> Export {
        Export::WithdrawPaths(nlri)
    }
}

/// How many prefixes one chunk pulled by a writer carries at most.
const CHUNK: usize = 4096;

/// What a peer holds for a prefix (or path), as far as rovgate knows.
pub(super) enum Held {
    /// Nothing: a withdrawal would be news to nobody.
    Nothing,
    /// This attribute set (by identity).
    Path(Attrs),
    /// Unknown (a ROUTE-REFRESH asks for everything again): always send.
    Unknown,
}

impl Held {
    /// Whether the peer holds exactly `now` (`None`: nothing), so sending it is no news.
    fn is(&self, now: Option<&Attrs>) -> bool {
        match (self, now) {
            (Held::Path(had), Some(now)) => Arc::ptr_eq(had, now),
            (Held::Nothing, None) => true,
            _ => false,
        }
    }
}

/// A prefix waiting to be sent.
struct Waiting {
    held: Held,
    /// What the peer should hold (`None`: nothing, withdraw).
    now: Option<Attrs>,
    /// Its place in the stream of noted prefixes; an earlier entry of the prefix in
    /// `order` (left by a move to the back) is skipped.
    at: u64,
}

/// What one peer still has to be sent, in the order it was first noted: prefixes, or for
/// an ADD-PATH peer paths.
pub struct Pending<K = IpNet> {
    waiting: HashMap<K, Waiting>,
    order: VecDeque<K>,
    /// Markers (End-of-RIB, BoRR, EoRR, the prefix limit) and how many prefixes must be
    /// taken before each.
    markers: VecDeque<(u64, Export)>,
    /// Prefixes ever put in `order`, and ever taken from it.
    noted: u64,
    taken: u64,
}

impl<K> Default for Pending<K> {
    fn default() -> Self {
        Pending {
            waiting: HashMap::default(),
            order: VecDeque::new(),
            markers: VecDeque::new(),
            noted: 0,
            taken: 0,
        }
    }
}

impl Pending {
    /// Notes that `prefix` went from `before` to `after`, as `to` sees it
    /// ([`Top2::for_peer`]).
    pub fn diff(&mut self, to: Receiver, prefix: IpNet, before: &Top2, after: &Top2) {
        let had = before.for_peer(to).map(|p| &p.attrs);
        let now = after.for_peer(to).map(|p| &p.attrs);
        if had.map(Arc::as_ptr) != now.map(Arc::as_ptr) {
            let held = had.map_or(Held::Nothing, |a| Held::Path(a.clone()));
            self.note(prefix, held, now);
        }
    }
}

impl<K: Nlri> Pending<K> {
    /// Notes a prefix of a re-export on ROUTE-REFRESH: `now` is what the peer should hold,
    /// sent even if it may hold it already, after every marker queued so far (the BoRR of
    /// the refresh: a route sent before it would be purged as stale at the EoRR). A prefix
    /// the peer should not hold needs nothing: if it still holds one, that withdrawal
    /// already waits here.
    pub fn resend(&mut self, prefix: K, now: Option<&Attrs>) {
        if now.is_some() {
            self.waiting.remove(&prefix);
            self.note(prefix, Held::Unknown, now);
        }
    }

    /// Notes that `prefix` should hold `now`, and held `held` unless it was noted before.
    pub(super) fn note(&mut self, prefix: K, held: Held, now: Option<&Attrs>) {
        match self.waiting.entry(prefix) {
            // Still waiting: the peer holds what it held when first noted.
            Slot::Occupied(mut w) => {
                let w = w.get_mut();
                w.now = now.cloned();
                if matches!(held, Held::Unknown) {
                    w.held = held;
                }
            }
            Slot::Vacant(v) => {
                v.insert(Waiting {
                    held,
                    now: now.cloned(),
                    at: self.noted,
                });
                self.order.push_back(prefix);
                self.noted += 1;
            }
        }
    }

    /// Queues a marker to follow every prefix noted so far.
    pub fn queue_marker(&mut self, marker: Export) {
        self.markers.push_back((self.noted, marker));
    }

    /// Queues a signal (the prefix limit) ahead of everything still waiting.
    pub fn signal(&mut self, signal: Export) {
        self.markers.push_front((self.taken, signal));
    }

    /// Queues a marker; the prefix limit goes ahead of the routes.
    pub fn queue(&mut self, marker: Export) {
        match marker {
            Export::LimitReached(_) => self.signal(marker),
            marker => self.queue_marker(marker),
        }
    }

    /// Hands a writer as many chunks as its channel has room for, never waiting; `Err`
    /// when the writer is gone (its PeerDown is on the way; nothing more to send it).
    pub fn send_chunks(&mut self, out: &mpsc::Sender<Outgoing>, asn: Asn) -> Result<(), ()> {
        while !self.is_empty() {
            match out.try_reserve() {
                Ok(permit) => permit.send(Outgoing::Own(self.take(CHUNK, asn))),
                Err(mpsc::error::TrySendError::Full(())) => break,
                Err(mpsc::error::TrySendError::Closed(())) => {
                    *self = Pending::default();
                    return Err(());
                }
            }
        }
        Ok(())
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty() && self.markers.is_empty()
    }

    /// How many prefixes wait.
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// Takes up to `max` waiting prefixes (and the markers due among them) as exports for
    /// a peer of AS `to`: withdrawals, then one announcement per attribute set, then the
    /// markers.
    pub fn take(&mut self, max: usize, to: Asn) -> Vec<Export> {
        let mut chunk = Chunk::default();
        for _ in 0..max {
            self.take_markers(&mut chunk, to);
            let Some(prefix) = self.order.pop_front() else {
                break;
            };
            let at = self.taken;
            self.taken += 1;
            let Slot::Occupied(w) = self.waiting.entry(prefix) else {
                continue;
            };
            if w.get().at != at {
                continue; // moved to the back: sent from there
            }
            let w = w.remove();
            if !w.held.is(w.now.as_ref()) {
                chunk.add(prefix, w.now.as_ref());
            }
        }
        self.take_markers(&mut chunk, to);
        chunk.seal(to);
        chunk.exports
    }

    fn take_markers(&mut self, chunk: &mut Chunk<K>, to: Asn) {
        while self
            .markers
            .front()
            .is_some_and(|(at, _)| *at <= self.taken)
        {
            if let Some((_, marker)) = self.markers.pop_front() {
                chunk.seal(to);
                chunk.exports.push(marker);
            }
        }
    }
}

/// One pull's exports, grouped by attribute set.
struct Chunk<K> {
    exports: Vec<Export>,
    withdrawn: Vec<K>,
    announced: Vec<(Attrs, Vec<K>)>,
    /// Attribute set (by address) → its group in `announced`.
    groups: HashMap<usize, usize>,
}

impl<K> Default for Chunk<K> {
    fn default() -> Self {
        Chunk {
            exports: Vec::new(),
            withdrawn: Vec::new(),
            announced: Vec::new(),
            groups: HashMap::default(),
        }
    }
}

/// The exports one peer takes from a batch shared by every peer that keeps up: each
/// changed prefix of its families as the peer sees it ([`Top2::for_peer`]), if that
/// changed.
pub fn exports_of(batch: &[Dirty], to: Receiver, families: &[Family]) -> Vec<Export> {
    let mut chunk = Chunk::default();
    for d in batch.iter().filter(|d| carries(families, &d.prefix)) {
        let had = d.before.for_peer(to).map(|p| Arc::as_ptr(&p.attrs));
        let now = d.after.for_peer(to).map(|p| &p.attrs);
        if had != now.map(Arc::as_ptr) {
            chunk.add(d.prefix, now);
        }
    }
    chunk.seal(to.asn);
    chunk.exports
}

impl<K: Nlri> Chunk<K> {
    /// Adds a prefix to announce with `now`, or to withdraw (`None`).
    fn add(&mut self, prefix: K, now: Option<&Attrs>) {
        match now {
            Some(attrs) => self.announce(prefix, attrs),
            None => self.withdrawn.push(prefix),
        }
    }

    fn announce(&mut self, prefix: K, attrs: &Attrs) {
        let key = Arc::as_ptr(attrs);
        // Prefixes sharing attributes mostly come one after another: try the last group.
        if let Some((last, prefixes)) = self.announced.last_mut() {
            if Arc::as_ptr(last) == key {
                prefixes.push(prefix);
                return;
            }
        }
        let next = self.announced.len();
        let i = *self.groups.entry(key as usize).or_insert(next);
        if i == next {
            self.announced.push((attrs.clone(), Vec::new()));
        }
        self.announced[i].1.push(prefix);
    }

    /// Turns what was added so far into exports for a peer of AS `to` (with the prepends
    /// the paths ask for towards it): withdrawals first, then the announcements (a prefix
    /// in both was withdrawn and then added again within one batch).
    fn seal(&mut self, to: Asn) {
        if !self.withdrawn.is_empty() {
            let withdrawn = std::mem::take(&mut self.withdrawn);
            self.exports.push(K::withdraw(withdrawn));
        }
        self.groups.clear();
        let groups = self.announced.drain(..);
        let announce = |(attrs, prefixes): (Attrs, _)| K::announce(attrs.towards(to), prefixes);
        self.exports.extend(groups.map(announce));
    }
}

#[cfg(test)]
mod tests {
    use super::super::table_tests::{path, to};
    use super::*;

    /// Expected: whether it is in step (a shared batch) or behind (pending), a receiver gets
    /// the path prepended as its communities ask towards it, and the second best where the
    /// best is kept from it.
    #[test]
    fn each_receiver_gets_its_own_view_in_step_or_behind() {
        let best = path(0, &[[64500, 101, 64498], [64500, 0, 64499]]);
        let after = Top2::of(&[best, path(1, &[])]);
        let prefix: IpNet = "192.0.2.0/24".parse().unwrap();
        let batch = [Dirty {
            prefix,
            before: Top2::default(),
            after: after.clone(),
        }];
        let as_path = |exports: Vec<Export>| match exports.as_slice() {
            [Export::Announce(attrs, prefixes)] if prefixes[..] == [prefix] => {
                attrs.as_path.to_string()
            }
            other => panic!("not one announcement: {other:?}"),
        };
        // (receiver, the AS_PATH it gets)
        let cases = [(2, "64496 64496"), (3, "64497"), (4, "64496")];
        for (receiver, expected) in cases {
            let to = to(receiver);
            let in_step = exports_of(&batch, to, &[Family::Ipv4Unicast]);
            assert_eq!(as_path(in_step), expected, "AS{} in step", to.asn.0);
            let mut behind = Pending::default();
            behind.diff(to, prefix, &Top2::default(), &after);
            assert_eq!(
                as_path(behind.take(8, to.asn)),
                expected,
                "AS{} behind",
                to.asn.0
            );
        }
    }
}
