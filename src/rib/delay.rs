//! The update delay (as FRR's and Cisco's `bgp update-delay`): after a start, send no
//! routes until every configured peer has sent its table (End-of-RIB for each family it
//! negotiated) or the delay has passed since the first session came up; then every peer
//! gets one table dump. Members of a restarted route server then get each prefix once, in
//! its final state, instead of every best path it went through while the tables came in.
//!
//! Where it sits: the RIB holds an [`UpdateDelay`] from `[server] update_delay` until it is
//! over; while it lasts, changes are not exported and sessions that come up wait for
//! their dump.

use std::time::Duration;

use tokio::time::Instant;

use crate::route::{Family, PeerId};

/// The update delay in progress.
pub(super) struct UpdateDelay {
    length: Duration,
    /// When it ends at the latest: `length` after the first session came up.
    deadline: Option<Instant>,
    /// Per configured peer, the families whose End-of-RIB has not come (`None`: not up).
    waiting: Vec<Option<Vec<Family>>>,
}

impl UpdateDelay {
    /// A delay of at most `length` for `peers` configured peers.
    pub(super) fn new(length: Duration, peers: usize) -> Self {
        UpdateDelay {
            length,
            deadline: None,
            waiting: vec![None; peers],
        }
    }

    /// A peer was added: its table is expected too.
    pub(super) fn add(&mut self) {
        self.waiting.push(None);
    }

    /// A peer was removed: its table is not expected any more.
    pub(super) fn remove(&mut self, peer: PeerId) {
        self.waiting[peer.0 as usize] = Some(Vec::new());
    }

    /// A session came up with these families.
    pub(super) fn up(&mut self, peer: PeerId, families: &[Family]) {
        self.deadline.get_or_insert(Instant::now() + self.length);
        self.waiting[peer.0 as usize] = Some(families.to_vec());
    }

    /// A session went down: its table is expected again.
    pub(super) fn down(&mut self, peer: PeerId) {
        self.waiting[peer.0 as usize] = None;
    }

    /// The peer sent End-of-RIB for `family`.
    pub(super) fn end_of_rib(&mut self, peer: PeerId, family: Family) {
        if let Some(families) = &mut self.waiting[peer.0 as usize] {
            families.retain(|&f| f != family);
        }
    }

    /// Whether every configured peer has sent its whole table.
    pub(super) fn all_in(&self) -> bool {
        self.waiting
            .iter()
            .all(|w| w.as_ref().is_some_and(Vec::is_empty))
    }

    /// How many configured peers have not sent their whole table.
    pub(super) fn missing(&self) -> usize {
        let done = |w: &&Option<Vec<Family>>| w.as_ref().is_some_and(Vec::is_empty);
        self.waiting.iter().filter(|w| !done(w)).count()
    }

    /// When it ends at the latest (`None`: no session came up yet).
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}
