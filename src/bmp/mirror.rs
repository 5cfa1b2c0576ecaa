//! What one station was sent, so each [`TableChanges`] turns into only the Route
//! Monitoring that changed: per prefix, each member's path pre-policy (as received),
//! post-policy (eligible paths only, with the verdict) and the Loc-RIB best path.
//!
//! Where it sits: `export.rs` feeds a station's mirror the RIB's snapshot, then every
//! change after it; the [`Routes`] it returns are encoded by `export_wire.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use smallvec::SmallVec;

use crate::rib::{Path, TableChanges};
use crate::route::{Attrs, Family, PeerId, RovState};

/// Which of rovgate's tables a Route Monitoring message shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Table {
    /// A member's Adj-RIB-In as received (pre-policy).
    Pre(PeerId),
    /// A member's Adj-RIB-In after ROV and the import checks (post-policy).
    Post(PeerId),
    /// The best path of each prefix (RFC 9069 Loc-RIB).
    Loc,
}

impl Table {
    /// The member whose table it is (none: Loc-RIB).
    pub fn peer(self) -> Option<PeerId> {
        match self {
            Table::Pre(p) | Table::Post(p) => Some(p),
            Table::Loc => None,
        }
    }
}

/// Announcements grouped by table and attribute set, and withdrawals by table.
#[derive(Default)]
pub struct Routes {
    /// (table, attributes, RPKI state) with the prefixes announced so.
    pub announced: Vec<(Table, Attrs, RovState, Vec<IpNet>)>,
    /// Prefixes withdrawn, by table.
    pub withdrawn: HashMap<Table, Vec<IpNet>>,
    /// Where in `announced` each (table, attribute set, state) is.
    at: HashMap<(Table, usize, RovState), usize>,
}

impl Routes {
    fn announce(&mut self, table: Table, attrs: &Attrs, state: RovState, prefix: IpNet) {
        let key = (table, Arc::as_ptr(attrs) as usize, state);
        let i = *self.at.entry(key).or_insert_with(|| {
            self.announced
                .push((table, attrs.clone(), state, Vec::new()));
            self.announced.len() - 1
        });
        self.announced[i].3.push(prefix);
    }

    fn withdraw(&mut self, table: Table, prefix: IpNet) {
        self.withdrawn.entry(table).or_default().push(prefix);
    }

    /// The members whose routes it names.
    pub fn peers(&self) -> HashSet<PeerId> {
        let tables = self.announced.iter().map(|a| a.0);
        let tables = tables.chain(self.withdrawn.keys().copied());
        tables.filter_map(Table::peer).collect()
    }
}

/// One member's routes in one family, as a Statistics Report gives them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FamilyCounts {
    /// In its Adj-RIB-In (pre-policy).
    pub adj_rib_in: u64,
    /// Not eligible: dropped by ROV or an import check.
    pub rejected: u64,
    /// In the post-policy view, by RPKI state.
    pub valid: u64,
    pub invalid: u64,
    pub not_found: u64,
}

/// One member path as sent.
#[derive(Clone)]
struct SentPath {
    peer: PeerId,
    /// In the post-policy view (eligible).
    post: bool,
    /// The set as stored (tagged); the pre-policy view got its received set.
    attrs: Attrs,
    /// The verdict the post-policy view carries.
    state: RovState,
}

impl SentPath {
    fn of(path: &Path) -> SentPath {
        SentPath {
            peer: path.peer,
            post: path.eligible,
            attrs: path.attrs.clone(),
            state: path.state,
        }
    }

    /// Whether the post-policy view would show `path` the same.
    fn same_post(&self, path: &Path) -> bool {
        self.post && Arc::ptr_eq(&self.attrs, &path.attrs) && self.state == path.state
    }
}

/// What a station holds of one prefix (48 bytes: one member's path inline, more on the
/// heap).
#[derive(Default)]
struct Sent {
    paths: SmallVec<[SentPath; 1]>,
    /// The Loc-RIB path sent.
    best: Option<SentPath>,
}

/// What a station holds, by prefix: one map per family, so that an IPv4 entry is keyed by
/// its 5-byte prefix (56 bytes an entry, not the 88 of an `IpNet` key and two inline paths).
#[derive(Default)]
struct ByPrefix {
    v4: HashMap<Ipv4Net, Sent>,
    v6: HashMap<Ipv6Net, Sent>,
}

impl ByPrefix {
    fn remove(&mut self, prefix: &IpNet) -> Option<Sent> {
        match prefix {
            IpNet::V4(p) => self.v4.remove(p),
            IpNet::V6(p) => self.v6.remove(p),
        }
    }

    fn insert(&mut self, prefix: IpNet, sent: Sent) {
        match prefix {
            IpNet::V4(p) => self.v4.insert(p, sent),
            IpNet::V6(p) => self.v6.insert(p, sent),
        };
    }

    fn iter(&self) -> impl Iterator<Item = (IpNet, &Sent)> {
        let v4 = self.v4.iter().map(|(p, s)| (IpNet::V4(*p), s));
        v4.chain(self.v6.iter().map(|(p, s)| (IpNet::V6(*p), s)))
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut Sent> {
        self.v4.values_mut().chain(self.v6.values_mut())
    }
}

/// What one station holds, by prefix.
#[derive(Default)]
pub struct Mirror {
    sent: ByPrefix,
    /// The table generation the mirror is at: older changes are in it already.
    pub generation: u64,
}

impl Mirror {
    /// The Route Monitoring that brings the station from what it holds to `changes`
    /// (nothing when the mirror is past them).
    pub fn apply(&mut self, changes: &TableChanges) -> Routes {
        let mut routes = Routes::default();
        if changes.generation <= self.generation {
            return routes;
        }
        self.generation = changes.generation;
        for (prefix, paths) in &changes.prefixes {
            let old = self.sent.remove(prefix).unwrap_or_default();
            let new = diff(*prefix, &old, paths, &mut routes);
            if !new.paths.is_empty() {
                self.sent.insert(*prefix, new);
            }
        }
        routes
    }

    /// What each member's Statistics Report says, counted from what the station holds.
    pub fn statistics(&self) -> HashMap<PeerId, [FamilyCounts; 2]> {
        let mut out: HashMap<PeerId, [FamilyCounts; 2]> = HashMap::new();
        for (prefix, sent) in self.sent.iter() {
            let family = Family::of(&prefix) as usize;
            for path in &sent.paths {
                let counts = &mut out.entry(path.peer).or_default()[family];
                counts.adj_rib_in += 1;
                if !path.post {
                    counts.rejected += 1;
                    continue;
                }
                *match path.state {
                    RovState::Valid => &mut counts.valid,
                    RovState::Invalid => &mut counts.invalid,
                    RovState::NotFound => &mut counts.not_found,
                } += 1;
            }
        }
        out
    }

    /// Forgets `peer`'s paths without withdrawing them: its Peer Down did (RFC 7854
    /// §4.9). Loc-RIB paths stay until the RIB replaces them.
    pub fn forget(&mut self, peer: PeerId) {
        for sent in self.sent.values_mut() {
            sent.paths.retain(|p| p.peer != peer);
        }
    }
}

/// Diffs one prefix: what was `old`, what `paths` say now; returns what is sent now.
fn diff(prefix: IpNet, old: &Sent, paths: &[Path], routes: &mut Routes) -> Sent {
    let mut new = Sent::default();
    for path in paths {
        let before = old.paths.iter().find(|p| p.peer == path.peer);
        let received = path.attrs.received();
        if before.is_none_or(|b| !Arc::ptr_eq(b.attrs.received(), received)) {
            routes.announce(Table::Pre(path.peer), received, path.state, prefix);
        }
        let was_post = before.is_some_and(|b| b.post);
        if path.eligible && !before.is_some_and(|b| b.same_post(path)) {
            routes.announce(Table::Post(path.peer), &path.attrs, path.state, prefix);
        } else if !path.eligible && was_post {
            routes.withdraw(Table::Post(path.peer), prefix);
        }
        new.paths.push(SentPath::of(path));
    }
    for gone in (old.paths.iter()).filter(|o| !paths.iter().any(|p| p.peer == o.peer)) {
        routes.withdraw(Table::Pre(gone.peer), prefix);
        if gone.post {
            routes.withdraw(Table::Post(gone.peer), prefix);
        }
    }
    // The paths come best first: the first eligible one is the best.
    let best = paths.iter().find(|p| p.eligible);
    match (&old.best, best) {
        (Some(_), None) => routes.withdraw(Table::Loc, prefix),
        (o, Some(b))
            if !o
                .as_ref()
                .is_some_and(|o| o.peer == b.peer && o.same_post(b)) =>
        {
            routes.announce(Table::Loc, &b.attrs, b.state, prefix);
        }
        _ => {}
    }
    new.best = best.map(SentPath::of);
    new
}

#[cfg(test)]
mod size_tests {
    use super::*;

    /// What a mirrored IPv4 prefix with one member path costs in the map (before the
    /// family split and one inline path: 88 bytes): see BENCHMARKS.md, issue 15.
    #[test]
    fn an_ipv4_entry_is_56_bytes() {
        assert_eq!(std::mem::size_of::<(Ipv4Net, Sent)>(), 56);
    }
}
