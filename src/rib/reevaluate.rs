//! Re-evaluation on VRP change (RFC 9324) and the mass-invalidation hold.
//!
//! Where it sits: the rpki task sends [`VrpsChanged`] (the VRP prefixes a snapshot added or
//! removed) to the RIB task, which walks only the routes those prefixes cover, in bounded
//! chunks between batches of session events:
//!
//! 1. **scan** — re-validate the covered paths against the newest snapshot without changing
//!    anything; note the prefixes whose verdicts change and how many routes would newly be
//!    dropped, from how many peers;
//! 2. **decide** — if that is a mass invalidation (`[rov] mass_invalidation_*`), the update
//!    is *held*: newly invalid routes under `drop` stay eligible (shadow) until an operator
//!    accepts or the hold time passes;
//! 3. **apply** — re-validate the noted prefixes, re-run best path and export what changed,
//!    emitting a [`RovChange`] per changed verdict.
//!
//! Changes that arrive while scanning join the scan; changes that arrive while applying wait
//! for the next pass.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use foldhash::HashSet;
use ipnet::IpNet;
use tokio::time::Instant;
use tracing::{info, warn};

use super::view::{ReevaluationView, RovChange};
use super::{checked, shape, Rib};
use crate::policy::RovMode;
use crate::route::{Family, PeerId, RovState};
use crate::rpki::{VrpSnapshot, VrpsChanged};

/// Paths re-validated per scan step.
const SCAN_CHUNK: usize = 16384;
/// Prefixes re-evaluated and exported per apply step.
const APPLY_CHUNK: usize = 2048;

/// One re-evaluation pass in progress, and totals over all passes.
pub(super) struct Pass {
    /// Changed VRP prefixes not yet scanned: sorted, none covering another.
    queue: VecDeque<IpNet>,
    /// Scanned prefixes holding a path whose verdict changes.
    found: Vec<IpNet>,
    /// How many of `found` are applied.
    applied: usize,
    /// Scanning is over; applying `found`.
    applying: bool,
    /// Whether this pass is held as a mass invalidation.
    held: bool,
    /// This pass brings the first VRPs: never held (routes learnt before the caches synced
    /// are not a mass invalidation).
    first: bool,
    /// Routes this pass would newly drop, and their peers.
    newly_dropped: usize,
    peers: HashSet<PeerId>,
    /// Changes that arrived while applying: the next pass (and whether they bring the
    /// first VRPs).
    next: Vec<IpNet>,
    next_first: bool,
    /// When the first change of this pass arrived.
    started: Option<Instant>,
    stats: ReevaluationView,
}

impl Pass {
    /// No pass running; routes are current with snapshot `serial`.
    pub fn new(serial: u64) -> Self {
        Pass {
            queue: VecDeque::new(),
            found: Vec::new(),
            applied: 0,
            applying: false,
            held: false,
            first: false,
            newly_dropped: 0,
            peers: HashSet::default(),
            next: Vec::new(),
            next_first: false,
            started: None,
            stats: ReevaluationView {
                serial,
                ..Default::default()
            },
        }
    }

    /// Progress and totals for the published view.
    pub fn view(&self) -> ReevaluationView {
        ReevaluationView {
            pending: self.queue.len() + self.next.len() + (self.found.len() - self.applied),
            ..self.stats.clone()
        }
    }
}

/// Adds `more` to a sorted queue of prefixes, dropping any prefix another one covers.
fn merge(queue: &mut VecDeque<IpNet>, more: impl IntoIterator<Item = IpNet>) {
    let mut all: Vec<IpNet> = queue.drain(..).chain(more).collect();
    all.sort_unstable();
    let mut last: Option<IpNet> = None;
    for p in all {
        if !last.is_some_and(|l| l.contains(&p)) {
            queue.push_back(p);
            last = Some(p);
        }
    }
}

impl Rib {
    /// Queues the routes a new VRP snapshot may affect for re-evaluation.
    pub fn vrps_changed(&mut self, changed: VrpsChanged) {
        if changed.aspas {
            self.reverify_aspa();
        }
        let pass = &mut self.pass;
        pass.started.get_or_insert_with(Instant::now);
        if pass.applying {
            pass.next.extend(changed.prefixes);
            pass.next_first |= changed.first;
        } else {
            pass.first |= changed.first;
            merge(&mut pass.queue, changed.prefixes);
        }
        if changed.complete {
            self.vrps_complete();
        }
    }

    /// Whether a re-evaluation is in progress.
    pub fn reevaluating(&self) -> bool {
        self.pass.applying || !self.pass.queue.is_empty() || !self.pass.next.is_empty()
    }

    /// Does one bounded chunk of the pass in progress.
    pub fn reevaluate_step(&mut self) {
        let snapshot = self.vrps.load();
        if self.pass.applying {
            self.apply_chunk(&snapshot);
        } else if self.pass.queue.is_empty() {
            // Only changes that arrived while applying: they start the next pass.
            let next = std::mem::take(&mut self.pass.next);
            self.pass.first = std::mem::take(&mut self.pass.next_first);
            merge(&mut self.pass.queue, next);
        } else {
            self.scan_chunk(&snapshot);
        }
    }

    fn scan_chunk(&mut self, snapshot: &VrpSnapshot) {
        let mut visited = 0;
        while visited < SCAN_CHUNK {
            let Some(vrp_prefix) = self.pass.queue.pop_front() else {
                break;
            };
            for (prefix, paths) in self.table.covered(&vrp_prefix) {
                let mut changed = false;
                for path in paths {
                    visited += 1;
                    let state = snapshot.table.state(&prefix, path.attrs.as_path.origin());
                    if state == path.state {
                        continue;
                    }
                    changed = true;
                    let drop = self.peers.rov(path.peer) == RovMode::Drop;
                    if drop && state == RovState::Invalid && path.eligible {
                        self.pass.newly_dropped += 1;
                        self.pass.peers.insert(path.peer);
                    }
                }
                if changed {
                    self.pass.found.push(prefix);
                }
            }
        }
        if self.pass.queue.is_empty() {
            self.decide_hold(snapshot.serial);
            self.pass.applying = true;
        }
    }

    fn decide_hold(&mut self, serial: u64) {
        let pass = &mut self.pass;
        let total = self.counts.iter().map(|c| c.routes).sum();
        let (routes, peers) = (pass.newly_dropped, pass.peers.len());
        pass.held = !pass.first && self.mass.holds(routes, peers, total);
        if pass.held {
            warn!(
                serial,
                routes,
                peers,
                total,
                "mass invalidation: this VRP update would newly drop too many routes; applying \
                 it as shadow until an operator accepts it (rovgate vrps accept)"
            );
            self.start_hold(serial);
        }
    }

    fn apply_chunk(&mut self, snapshot: &VrpSnapshot) {
        let end = self.pass.found.len().min(self.pass.applied + APPLY_CHUNK);
        for i in self.pass.applied..end {
            let prefix = self.pass.found[i];
            self.revalidate(prefix, snapshot);
        }
        self.pass.applied = end;
        if end == self.pass.found.len() {
            self.finish_pass(snapshot.serial);
        }
    }

    /// Re-validates every path of `prefix` against `snapshot`; paths whose verdict changed
    /// get their policy decided again and a `RovChange`; what changed is exported.
    fn revalidate(&mut self, prefix: IpNet, snapshot: &VrpSnapshot) {
        let Rib {
            table,
            peers,
            interned,
            tagging,
            counts,
            pass,
            hold,
            changes,
            wait,
            ..
        } = self;
        table.reshape(prefix, &*peers, |path| {
            let origin = path.attrs.as_path.origin();
            let state = snapshot.table.state(&prefix, origin);
            if state == path.state {
                return false;
            }
            let counts = &mut counts[path.peer.0 as usize];
            counts.count(path, -1);
            let mode = peers.rov(path.peer);
            let newly_dropped = mode == RovMode::Drop && state == RovState::Invalid;
            if let Some(hold) = hold.as_mut() {
                if pass.held && newly_dropped && path.eligible {
                    path.held = true;
                    hold.insert(prefix, path.peer);
                } else if state != RovState::Invalid {
                    // Valid or not-found again: nothing of the hold is left for this path.
                    hold.remove(prefix, path.peer);
                }
            }
            let before = std::mem::replace(&mut path.state, state);
            let peer = peers.info(path.peer);
            let valid_either = before == RovState::Valid || state == RovState::Valid;
            if peer.filters.roa_stands_in() && valid_either {
                path.failed = checked(peer, &snapshot.aspas, prefix, path);
            }
            shape(
                path,
                Family::of(&prefix),
                peer,
                tagging,
                interned,
                wait.holds(),
            );
            counts.count(path, 1);
            let verdict = snapshot.table.validate(&prefix, origin);
            pass.stats.changes += 1;
            changes.push(RovChange {
                time: Some(SystemTime::now()),
                peer: path.peer,
                prefix,
                origin,
                before,
                after: state,
                vrps: [verdict.matched, verdict.bad_asn, verdict.bad_length].concat(),
            });
            true
        });
    }

    fn finish_pass(&mut self, serial: u64) {
        let pass = &mut self.pass;
        let took = pass.started.take().map(|t| t.elapsed());
        info!(
            serial,
            prefixes = pass.found.len(),
            ms = took.map(|d| d.as_secs_f64() * 1e3),
            "routes re-evaluated after a VRP change"
        );
        pass.stats.serial = serial;
        pass.stats.passes += 1;
        pass.stats.last_ms = took.map(|d: Duration| d.as_secs_f64() * 1e3);
        self.timings.reevaluation.record(took.unwrap_or_default());
        pass.found.clear();
        (pass.applied, pass.applying, pass.held, pass.first) = (0, false, false, false);
        pass.newly_dropped = 0;
        pass.peers.clear();
        if !pass.next.is_empty() {
            pass.started = Some(Instant::now());
        }
        self.release_empty_hold();
        self.release_when_validated();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_queue_is_sorted_without_covered_prefixes() {
        let nets = |v: &[&str]| -> Vec<IpNet> { v.iter().map(|s| s.parse().unwrap()).collect() };
        let mut queue: VecDeque<IpNet> = nets(&["10.1.0.0/16", "2001:db8::/32"]).into();
        merge(
            &mut queue,
            nets(&[
                "10.0.0.0/8",
                "192.0.2.0/24",
                "2001:db8:1::/48",
                "10.1.2.0/24",
            ]),
        );
        let expected = nets(&["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"]);
        assert_eq!(Vec::from(queue), expected);
    }
}
