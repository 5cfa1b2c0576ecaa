//! The RIB's view of its peers: who is up, with which families, their outboxes, route
//! counts against `max_prefixes`, and graceful-restart stale deadlines.
//!
//! Where it sits: inside the RIB task only; sessions learn of it through `Export`s.

use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::warn;

use super::best::PeerOrder;
use super::export::{carries, Outbox};
use super::table::{Dirty, Top2};
use super::view::{PeerView, RovCounts};
use crate::config::RovPolicy;
use crate::route::{Attrs, Export, Family, PeerId};
use crate::rpki::Asn;

/// What the RIB needs to know of a configured peer.
#[derive(Clone, Debug)]
pub struct PeerInfo {
    /// The configured name, for logs.
    pub name: String,
    /// The peer's address (the last best-path tie-breaker).
    pub address: IpAddr,
    /// The peer's AS.
    pub asn: Asn,
    /// RFC 7947: drop routes whose AS_PATH does not start with the peer's AS.
    pub enforce_first_as: bool,
    /// Most prefixes accepted; `None`: no limit.
    pub max_prefixes: Option<u64>,
    /// What ROV does with the peer's routes (changes at run time).
    pub rov: RovPolicy,
}

struct Session {
    out: mpsc::Sender<Vec<Export>>,
    families: Vec<Family>,
    outbox: Outbox,
}

struct Slot {
    info: PeerInfo,
    session: Option<Session>,
    routes: u64,
    over_limit: bool,
    warned: bool,
    stale_deadline: Option<Instant>,
}

/// Every configured peer, indexed by `PeerId`.
pub struct Peers(Vec<Slot>);

impl PeerOrder for Peers {
    fn address(&self, peer: PeerId) -> IpAddr {
        self.slot(peer).info.address
    }
}

impl Peers {
    /// Peers as configured; none is up.
    pub fn new(infos: Vec<PeerInfo>) -> Self {
        Peers(
            infos
                .into_iter()
                .map(|info| Slot {
                    info,
                    session: None,
                    routes: 0,
                    over_limit: false,
                    warned: false,
                    stale_deadline: None,
                })
                .collect(),
        )
    }

    fn slot(&self, peer: PeerId) -> &Slot {
        &self.0[peer.0 as usize]
    }

    fn slot_mut(&mut self, peer: PeerId) -> &mut Slot {
        &mut self.0[peer.0 as usize]
    }

    /// The peer's configured name.
    pub fn name(&self, peer: PeerId) -> &str {
        &self.slot(peer).info.name
    }

    /// The ROV policy for the peer's routes.
    pub fn rov(&self, peer: PeerId) -> RovPolicy {
        self.slot(peer).info.rov
    }

    /// Changes the ROV policy for the peer's routes; returns the previous one.
    pub fn set_rov(&mut self, peer: PeerId, rov: RovPolicy) -> RovPolicy {
        std::mem::replace(&mut self.slot_mut(peer).info.rov, rov)
    }

    /// Every peer as the published view shows it, with its counts.
    pub fn view(&self, counts: &[RovCounts]) -> Vec<PeerView> {
        let peers = self.0.iter().zip(counts);
        peers
            .map(|(slot, c)| PeerView {
                name: slot.info.name.clone(),
                address: slot.info.address,
                asn: slot.info.asn,
                rov: slot.info.rov,
                up: slot.session.is_some(),
                counts: *c,
                would_drop: c.invalid - c.dropped,
            })
            .collect()
    }

    /// The peer's session is established with these families.
    pub fn up(&mut self, peer: PeerId, families: Vec<Family>, out: mpsc::Sender<Vec<Export>>) {
        self.slot_mut(peer).session = Some(Session {
            out,
            families,
            outbox: Outbox::default(),
        });
    }

    /// The peer's session is gone; its limit state resets for the next session.
    pub fn down(&mut self, peer: PeerId) {
        let slot = self.slot_mut(peer);
        slot.session = None;
        slot.over_limit = false;
        slot.warned = false;
    }

    /// The outbox of an established peer.
    pub fn outbox(&mut self, peer: PeerId) -> Option<&mut Outbox> {
        self.slot_mut(peer).session.as_mut().map(|s| &mut s.outbox)
    }

    /// Queues a marker for an established peer.
    pub fn mark(&mut self, peer: PeerId, marker: Export) {
        if let Some(outbox) = self.outbox(peer) {
            outbox.mark(marker);
        }
    }

    /// Diffs each changed prefix into the outbox of every established peer carrying its
    /// family, then seals the outboxes (what follows comes after these routes).
    pub fn export(&mut self, dirty: impl Iterator<Item = Dirty>) {
        let id = |t: &Top2| (t.best.as_ref()).map(|p| (p.peer, Arc::as_ptr(&p.attrs)));
        for Dirty {
            prefix,
            before,
            after,
        } in dirty
        {
            let best = id(&after);
            if let Some((owner, _)) = best.filter(|_| id(&before) == best) {
                // The best path stayed: only its owner, who gets the second best, may need news.
                if let Some(s) = (self.slot_mut(owner).session.as_mut())
                    .filter(|s| carries(&s.families, &prefix))
                {
                    s.outbox.diff(owner, prefix, &before, &after);
                }
                continue;
            }
            for (i, slot) in self.0.iter_mut().enumerate() {
                if let Some(s) = (slot.session.as_mut()).filter(|s| carries(&s.families, &prefix)) {
                    s.outbox.diff(PeerId(i as u32), prefix, &before, &after);
                }
            }
        }
        for s in self.0.iter_mut().filter_map(|slot| slot.session.as_mut()) {
            s.outbox.seal();
        }
    }

    /// Whether a path from `peer` passes the RFC 7947 first-AS check.
    pub fn first_as_ok(&self, peer: PeerId, attrs: &Attrs) -> bool {
        let info = &self.slot(peer).info;
        !info.enforce_first_as || attrs.as_path.first() == Some(info.asn)
    }

    /// Whether the peer went past its limit this session (further routes are ignored).
    pub fn over_limit(&self, peer: PeerId) -> bool {
        self.slot(peer).over_limit
    }

    /// Counts a new route; returns the limit when this route exceeds it (once per session).
    pub fn count_route(&mut self, peer: PeerId) -> Option<u64> {
        let slot = self.slot_mut(peer);
        slot.routes += 1;
        let limit = slot.info.max_prefixes?;
        if !slot.warned && slot.routes * 10 >= limit * 9 {
            slot.warned = true;
            warn!(peer = %slot.info.name, routes = slot.routes, limit, "90% of maximum prefixes reached");
        }
        if slot.routes > limit && !slot.over_limit {
            slot.over_limit = true;
            return Some(limit);
        }
        None
    }

    /// Uncounts a removed route.
    pub fn uncount_route(&mut self, peer: PeerId) {
        let slot = self.slot_mut(peer);
        slot.routes = slot.routes.saturating_sub(1);
    }

    /// Sets or clears when the peer's stale routes are dropped.
    pub fn set_stale_deadline(&mut self, peer: PeerId, deadline: Option<Instant>) {
        self.slot_mut(peer).stale_deadline = deadline;
    }

    /// The earliest stale deadline.
    pub fn next_stale_deadline(&self) -> Option<Instant> {
        self.0.iter().filter_map(|s| s.stale_deadline).min()
    }

    /// Peers whose stale deadline has passed.
    pub fn stale_expired(&self, now: Instant) -> Vec<PeerId> {
        let expired = self.0.iter().enumerate();
        expired
            .filter(|(_, s)| s.stale_deadline.is_some_and(|t| t <= now))
            .map(|(i, _)| PeerId(i as u32))
            .collect()
    }

    /// Empties every non-empty outbox: (peer, its session's sender, the exports).
    pub fn take_outboxes(&mut self) -> Vec<(PeerId, mpsc::Sender<Vec<Export>>, Vec<Export>)> {
        let mut batches = Vec::new();
        for (i, slot) in self.0.iter_mut().enumerate() {
            if let Some(s) = slot.session.as_mut().filter(|s| !s.outbox.is_empty()) {
                batches.push((PeerId(i as u32), s.out.clone(), s.outbox.take()));
            }
        }
        batches
    }
}
