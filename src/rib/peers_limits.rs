//! The per-peer bookkeeping beside export: the RFC 7947 first-AS check, route counts
//! against `max_prefixes`, and graceful-restart stale deadlines.

use tokio::time::Instant;
use tracing::warn;

use super::Peers;
use crate::route::{Attrs, PeerId};

impl Peers {
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
        self.live().filter_map(|(_, s)| s.stale_deadline).min()
    }

    /// Peers whose stale deadline has passed.
    pub fn stale_expired(&self, now: Instant) -> Vec<PeerId> {
        (self.live())
            .filter(|(_, s)| s.stale_deadline.is_some_and(|t| t <= now))
            .map(|(id, _)| id)
            .collect()
    }
}
