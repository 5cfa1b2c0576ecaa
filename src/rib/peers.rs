//! The RIB's view of its peers: who is up, with which families, what each still has to be
//! sent, route counts against `max_prefixes` and graceful-restart stale deadlines
//! (`peers_limits.rs`); what it knows of each configured peer is `peer_info.rs`.
//!
//! Where it sits: inside the RIB task only; sessions learn of it through `Export`s.

use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::add_path::AddPaths;
use super::best::PeerOrder;
use super::export::{carries, Batch, Outgoing};
use super::pending::Pending;
use super::table::{Dirty, Receiver, Table};
use super::view::{PeerView, RovCounts};
use crate::policy::{CheckModes, Filters, RovMode};
use crate::route::{Export, Family, PeerId, SessionUp};
pub use info::PeerInfo;

/// A peer's counts as the view shows them: a monitored neighbour's invalid paths are not
/// selected, but none is dropped (its policy is shadow: every one would be).
fn monitored_counts(info: &PeerInfo, counts: &RovCounts) -> RovCounts {
    match info.monitored {
        true => RovCounts {
            dropped: 0,
            ..*counts
        },
        false => *counts,
    }
}

/// The family a marker follows the routes of; `None` for the prefix limit.
fn marker_family(marker: &Export) -> Option<Family> {
    match marker {
        Export::EndOfRib(f) | Export::BeginRefresh(f) | Export::EndOfRefresh(f) => Some(*f),
        _ => None,
    }
}

struct Session {
    out: mpsc::Sender<Outgoing>,
    /// Every negotiated family.
    families: Arc<[Family]>,
    /// The families it is sent the best path of: all but the ADD-PATH ones.
    best: Arc<[Family]>,
    /// What the peer still has to be sent of `best` beyond the shared batches in its
    /// channel; while anything waits here, the peer is not in step and new batches are
    /// noted here too.
    pending: Pending,
    /// For a session that negotiated ADD-PATH for some families: everything it is sent of
    /// them (it is never in step for those).
    paths: Option<AddPaths>,
}

impl Session {
    /// How many prefixes (paths, for ADD-PATH) wait.
    fn waiting(&self) -> usize {
        self.pending.len() + self.paths.as_ref().map_or(0, |p| p.pending.len())
    }
}

struct Slot {
    info: PeerInfo,
    session: Option<Session>,
    routes: u64,
    over_limit: bool,
    warned: bool,
    stale_deadline: Option<Instant>,
    last_down: Option<String>,
    /// The last established session's OPENs and ends (kept once it ends: its stale
    /// routes may still be shown).
    last_up: Option<Arc<SessionUp>>,
}

impl Slot {
    fn new(info: PeerInfo) -> Self {
        Slot {
            info,
            session: None,
            routes: 0,
            over_limit: false,
            warned: false,
            stale_deadline: None,
            last_down: None,
            last_up: None,
        }
    }
}

/// Every configured peer, indexed by `PeerId`. A removed peer leaves an empty slot behind
/// and its id is never given to another: events still on their way for it name nobody.
pub struct Peers(Vec<Option<Slot>>);

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
                .map(|info| Some(Slot::new(info)))
                .collect(),
        )
    }

    /// Adds a peer (not up) under a new id.
    pub fn add(&mut self, info: PeerInfo) -> PeerId {
        self.0.push(Some(Slot::new(info)));
        PeerId(self.0.len() as u32 - 1)
    }

    /// Removes a peer; its id stays taken. The caller withdrew its paths first.
    pub fn remove(&mut self, peer: PeerId) {
        self.0[peer.0 as usize] = None;
    }

    /// Whether `peer` names a peer (not one removed).
    pub fn exists(&self, peer: PeerId) -> bool {
        self.0.get(peer.0 as usize).is_some_and(Option::is_some)
    }

    /// Every peer with its id.
    fn live(&self) -> impl Iterator<Item = (PeerId, &Slot)> {
        let slots = self.0.iter().enumerate();
        slots.filter_map(|(i, s)| Some((PeerId(i as u32), s.as_ref()?)))
    }

    /// Every peer with its id, to change.
    fn live_mut(&mut self) -> impl Iterator<Item = (PeerId, &mut Slot)> {
        let slots = self.0.iter_mut().enumerate();
        slots.filter_map(|(i, s)| Some((PeerId(i as u32), s.as_mut()?)))
    }

    // The RIB hands these only ids of peers that exist (`Rib::handle` drops events for
    // removed ones), so a missing slot is a bug in the RIB, not something a peer can cause.
    fn slot(&self, peer: PeerId) -> &Slot {
        self.0[peer.0 as usize]
            .as_ref()
            .expect("a peer that exists")
    }

    fn slot_mut(&mut self, peer: PeerId) -> &mut Slot {
        self.0[peer.0 as usize]
            .as_mut()
            .expect("a peer that exists")
    }

    /// The peer's configured name.
    pub fn name(&self, peer: PeerId) -> &str {
        &self.slot(peer).info.name
    }

    /// The peer as export sees it.
    pub fn receiver(&self, peer: PeerId) -> Receiver {
        let asn = self.slot(peer).info.asn;
        Receiver { peer, asn }
    }

    /// The ROV mode for the peer's routes.
    pub fn rov(&self, peer: PeerId) -> RovMode {
        self.slot(peer).info.rov
    }

    /// Changes the ROV mode for the peer's routes; returns the previous one.
    pub fn set_rov(&mut self, peer: PeerId, rov: RovMode) -> RovMode {
        std::mem::replace(&mut self.slot_mut(peer).info.rov, rov)
    }

    /// The peer as configured, with the policy in force now.
    pub fn info(&self, peer: PeerId) -> &PeerInfo {
        &self.slot(peer).info
    }

    /// Changes the import checks' modes and data for the peer's routes (stored paths must
    /// then be checked again: a check in `accept` is not run).
    pub fn set_checks(&mut self, peer: PeerId, checks: CheckModes, filters: Arc<Filters>) {
        let info = &mut self.slot_mut(peer).info;
        info.checks = checks;
        info.filters = filters;
    }

    /// Every peer as the published view shows it, with its counts (indexed by id).
    pub fn view(&self, counts: &[RovCounts]) -> Vec<PeerView> {
        let peers = self
            .live()
            .map(|(id, slot)| (id, slot, &counts[id.0 as usize]));
        peers
            .map(|(id, slot, c)| (id, slot, monitored_counts(&slot.info, c)))
            .map(|(id, slot, c)| PeerView {
                id,
                name: slot.info.name.clone(),
                address: slot.info.address,
                asn: slot.info.asn,
                monitored: slot.info.monitored,
                checks: slot.info.checks,
                rov: slot.info.rov,
                // A monitored neighbour is up from its first route to its Peer Down.
                up: slot.session.is_some() || (slot.info.monitored && slot.last_down.is_none()),
                families: (slot.session.as_ref())
                    .map_or_else(|| Arc::from([]), |s| s.families.clone()),
                pending: slot.session.as_ref().map_or(0, Session::waiting),
                last_down: slot.last_down.clone(),
                session: slot.last_up.clone(),
                counts: c,
                would_drop: c.invalid - c.dropped,
                abuse: slot.info.abuse.clone(),
            })
            .collect()
    }

    /// The peer's session (`session`) is established with these families, sent every path
    /// of those in `add_path` and the best it may have of the others (RFC 7911 negotiates
    /// per family).
    pub fn up(
        &mut self,
        peer: PeerId,
        (families, add_path): (Vec<Family>, Vec<Family>),
        out: mpsc::Sender<Outgoing>,
        session: Arc<SessionUp>,
    ) {
        let best = (families.iter())
            .filter(|f| !add_path.contains(f))
            .copied()
            .collect();
        let slot = self.slot_mut(peer);
        slot.last_up = Some(session);
        slot.session = Some(Session {
            out,
            families: families.into(),
            best,
            pending: Pending::default(),
            paths: (!add_path.is_empty()).then(|| AddPaths::new(add_path)),
        });
    }

    /// The peer's session is gone (`reason`: why); its limit state resets for the next
    /// session.
    pub fn down(&mut self, peer: PeerId, reason: String) {
        let slot = self.slot_mut(peer);
        slot.session = None;
        slot.last_down = Some(reason);
        slot.over_limit = false;
        slot.warned = false;
    }

    /// Every established peer with its families.
    pub fn established(&self) -> Vec<(PeerId, Arc<[Family]>)> {
        (self.live())
            .filter_map(|(id, slot)| Some((id, slot.session.as_ref()?.families.clone())))
            .collect()
    }

    /// What an established peer still has to be sent.
    pub fn pending(&mut self, peer: PeerId) -> Option<&mut Pending> {
        self.slot_mut(peer).session.as_mut().map(|s| &mut s.pending)
    }

    /// What an established peer holds and still has to be sent of `family`, when it is
    /// sent every path of it (`None`: not established, or not ADD-PATH for `family`).
    pub fn add_paths(&mut self, peer: PeerId, family: Family) -> Option<&mut AddPaths> {
        let paths = self.slot_mut(peer).session.as_mut()?.paths.as_mut()?;
        paths.families.contains(&family).then_some(paths)
    }

    /// Whether an established peer is sent ADD-PATH in some family.
    pub fn any_add_path(&self) -> bool {
        let add_path = |s: &Slot| s.session.as_ref().is_some_and(|s| s.paths.is_some());
        self.live().any(|(_, s)| add_path(s))
    }

    /// How many free slots an established peer's channel has (`None`: not established).
    pub fn room(&self, peer: PeerId) -> Option<usize> {
        Some(self.slot(peer).session.as_ref()?.out.capacity())
    }

    /// Sends a shared batch to an established peer with room for it (or to nobody, if its
    /// writer is gone).
    pub fn send_shared(&mut self, peer: PeerId, batch: &Arc<Batch>) {
        let to = self.receiver(peer);
        if let Some(s) = self.slot_mut(peer).session.as_mut() {
            // Full cannot be (the caller saw room); Closed: its PeerDown is on the way.
            let _ = s.out.try_send(Outgoing::Shared {
                batch: batch.clone(),
                peer: to,
                families: s.best.clone(),
            });
        }
    }

    /// Queues a marker for an established peer after the routes of its family (those of
    /// an ADD-PATH family are pending apart); the prefix limit goes ahead of the routes.
    pub fn queue_marker(&mut self, peer: PeerId, marker: Export) {
        let Some(s) = self.slot_mut(peer).session.as_mut() else {
            return;
        };
        let family = marker_family(&marker);
        let paths = (s.paths.as_mut()).filter(|p| family.is_some_and(|f| p.families.contains(&f)));
        match paths {
            Some(paths) => paths.pending.queue(marker),
            None => s.pending.queue(marker),
        }
    }

    /// Sends a batch of changed prefixes to every established peer in step (one shared
    /// `Arc`), and diffs it into the pending state of every other; an ADD-PATH peer's
    /// from the prefixes' paths in `table` (as the batch left them).
    pub fn export(&mut self, dirty: Vec<Dirty>, table: &Table) {
        if dirty.is_empty() {
            return;
        }
        let batch = Arc::new(Batch::new(dirty));
        for (peer, slot) in self.live_mut() {
            let to = Receiver {
                peer,
                asn: slot.info.asn,
            };
            let Some(s) = slot.session.as_mut() else {
                continue;
            };
            if let Some(paths) = &mut s.paths {
                for d in batch.changes() {
                    if carries(&paths.families, &d.prefix) {
                        paths.note(to, d.prefix, table.paths(&d.prefix));
                    }
                }
                if s.best.is_empty() {
                    continue;
                }
            }
            if s.pending.is_empty() {
                let shared = Outgoing::Shared {
                    batch: batch.clone(),
                    peer: to,
                    families: s.best.clone(),
                };
                match s.out.try_send(shared) {
                    // Sent, or the writer is gone and its PeerDown on the way.
                    Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => continue,
                    Err(mpsc::error::TrySendError::Full(_)) => {}
                }
            }
            for d in batch.changes().filter(|d| carries(&s.best, &d.prefix)) {
                s.pending.diff(to, d.prefix, &d.before, &d.after);
            }
        }
    }

    /// Hands every established peer with something waiting as many chunks as its export
    /// channel has room for, never waiting; returns the peers whose writer is gone.
    pub fn send_ready(&mut self) -> Vec<PeerId> {
        let mut gone = Vec::new();
        for (peer, slot) in self.live_mut() {
            let Some(s) = slot.session.as_mut() else {
                continue;
            };
            let paths = s.paths.as_mut().map(|p| &mut p.pending);
            let sent = (paths.map_or(Ok(()), |p| p.send_chunks(&s.out, slot.info.asn)))
                .and_then(|()| s.pending.send_chunks(&s.out, slot.info.asn));
            if sent.is_err() {
                gone.push(peer);
            }
        }
        gone
    }
}

#[path = "peer_info.rs"]
mod info;
#[path = "peers_limits.rs"]
mod limits;
