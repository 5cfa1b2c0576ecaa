//! The route table: every peer's path for every prefix (Adj-RIB-In), kept sorted by the
//! decision process so the first eligible path is the best (Loc-RIB).
//!
//! Where it sits: owned by the RIB task (`rib/mod.rs`); each change reports the prefix's
//! [`Top2`] before and after, which `export.rs` turns into per-peer announcements.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::{Prefix, PrefixMap};
use smallvec::SmallVec;
use std::sync::Arc;

use super::best::{better, Path, PeerOrder};
use crate::route::{Family, PeerId};

/// A prefix's paths, best first; at most one per peer.
pub type Paths = SmallVec<[Path; 1]>;

/// The two best eligible paths of a prefix: what every peer is exported (the best), and
/// what the best path's own peer is exported (the second best).
#[derive(Clone, Debug, Default)]
pub struct Top2 {
    /// The best eligible path.
    pub best: Option<Path>,
    /// The best eligible path from another peer than `best`'s.
    pub second: Option<Path>,
}

impl Top2 {
    /// The top two eligible paths of a sorted path list.
    pub fn of(paths: &[Path]) -> Top2 {
        let mut eligible = paths.iter().filter(|p| p.eligible).cloned();
        Top2 {
            best: eligible.next(),
            second: eligible.next(),
        }
    }

    /// The path `peer` should have: the best unless it is the peer's own.
    pub fn for_peer(&self, peer: PeerId) -> Option<&Path> {
        match &self.best {
            Some(best) if best.peer == peer => self.second.as_ref(),
            best => best.as_ref(),
        }
    }
}

/// The two best eligible paths of a prefix before a change, by identity only: which peer
/// and which attribute set (its address), so that taking it costs no reference counting.
/// The attribute sets stay alive while it is compared: the paths still hold them, or
/// `Change::old` does.
#[derive(Clone, Copy, Debug, Default)]
pub struct Top2Ids {
    best: Option<(PeerId, usize)>,
    second: Option<(PeerId, usize)>,
}

impl Top2Ids {
    fn of(paths: &[Path]) -> Top2Ids {
        let id = |p: &Path| (p.peer, Arc::as_ptr(&p.attrs) as usize);
        let mut eligible = paths.iter().filter(|p| p.eligible).map(id);
        Top2Ids {
            best: eligible.next(),
            second: eligible.next(),
        }
    }

    /// The best path's peer and attribute set (by address).
    pub fn best(&self) -> Option<(PeerId, usize)> {
        self.best
    }

    /// The attribute set (by address) `peer` had: the best unless it is the peer's own.
    pub fn for_peer(&self, peer: PeerId) -> Option<usize> {
        match self.best {
            Some((owner, _)) if owner == peer => self.second.map(|(_, a)| a),
            best => best.map(|(_, a)| a),
        }
    }
}

/// Every stored path, in one prefix trie per family.
#[derive(Default)]
pub struct Table {
    v4: PrefixMap<Ipv4Net, Paths>,
    v6: PrefixMap<Ipv6Net, Paths>,
}

/// The result of a change to one prefix.
pub struct Change {
    /// The top two paths before the change.
    pub before: Top2Ids,
    /// The top two paths after it.
    pub after: Top2,
    /// The peer's path replaced or removed by the change (`None`: a new route).
    pub old: Option<Path>,
}

impl Table {
    /// Inserts or replaces `path.peer`'s path for `prefix`.
    pub fn upsert(&mut self, prefix: IpNet, path: Path, order: &impl PeerOrder) -> Change {
        self.modify(prefix, |paths| {
            let old = paths.iter().position(|p| p.peer == path.peer);
            let old = old.map(|i| paths.remove(i));
            let at = paths
                .iter()
                .position(|p| better(&path, p, order).is_lt())
                .unwrap_or(paths.len());
            paths.insert(at, path);
            old
        })
    }

    /// Removes `peer`'s path for `prefix`; `None` if it had none.
    pub fn remove(&mut self, prefix: IpNet, peer: PeerId) -> Option<Change> {
        let change = self.modify(prefix, |paths| {
            let i = paths.iter().position(|p| p.peer == peer);
            i.map(|i| paths.remove(i))
        });
        change.old.is_some().then_some(change)
    }

    /// Runs `f` on every path of `prefix` (an existing one); when `f` reports a change to
    /// any, the paths are sorted again and the change returned (its `old` is `None`).
    pub fn reshape(
        &mut self,
        prefix: IpNet,
        order: &impl PeerOrder,
        mut f: impl FnMut(&mut Path) -> bool,
    ) -> Option<Change> {
        let mut changed = false;
        let change = self.modify(prefix, |paths| {
            for path in paths.iter_mut() {
                changed |= f(path);
            }
            if changed {
                paths.sort_by(|a, b| better(a, b, order));
            }
            None
        });
        changed.then_some(change)
    }

    /// Runs `f` on the prefix's paths (created empty if absent; removed when left empty);
    /// `f`'s result becomes `Change::old`.
    fn modify(&mut self, prefix: IpNet, f: impl FnOnce(&mut Paths) -> Option<Path>) -> Change {
        match prefix {
            IpNet::V4(p) => modify_in(&mut self.v4, p, f),
            IpNet::V6(p) => modify_in(&mut self.v6, p, f),
        }
    }

    /// The paths of one prefix, best first.
    #[cfg(test)]
    pub fn paths(&self, prefix: &IpNet) -> &[Path] {
        let paths = match prefix {
            IpNet::V4(p) => self.v4.get(p),
            IpNet::V6(p) => self.v6.get(p),
        };
        paths.map_or(&[], |p| p.as_slice())
    }

    /// Every prefix of `family` with its paths.
    pub fn iter(&self, family: Family) -> Box<dyn Iterator<Item = (IpNet, &Paths)> + '_> {
        match family {
            Family::Ipv4Unicast => Box::new(self.v4.iter().map(|(p, v)| (IpNet::V4(p), v))),
            Family::Ipv6Unicast => Box::new(self.v6.iter().map(|(p, v)| (IpNet::V6(p), v))),
        }
    }

    /// `prefix` and every more-specific prefix in the table, with their paths.
    pub fn covered(&self, prefix: &IpNet) -> Box<dyn Iterator<Item = (IpNet, &Paths)> + '_> {
        match prefix {
            IpNet::V4(p) => Box::new(self.v4.children(p).map(|(p, v)| (IpNet::V4(p), v))),
            IpNet::V6(p) => Box::new(self.v6.children(p).map(|(p, v)| (IpNet::V6(p), v))),
        }
    }

    /// Every prefix in the table that covers `prefix` (itself included), shortest first.
    pub fn cover(&self, prefix: &IpNet) -> Vec<(IpNet, &Paths)> {
        match prefix {
            IpNet::V4(p) => (self.v4.cover(p).map(|(p, v)| (IpNet::V4(p), v))).collect(),
            IpNet::V6(p) => (self.v6.cover(p).map(|(p, v)| (IpNet::V6(p), v))).collect(),
        }
    }

    /// The prefixes of `family` that hold a path from `peer` matching `pred`.
    pub fn prefixes_of(
        &self,
        family: Family,
        peer: PeerId,
        pred: impl Fn(&Path) -> bool,
    ) -> Vec<IpNet> {
        self.iter(family)
            .filter(|(_, paths)| paths.iter().any(|p| p.peer == peer && pred(p)))
            .map(|(prefix, _)| prefix)
            .collect()
    }
}

fn modify_in<P: Prefix + Copy>(
    map: &mut PrefixMap<P, Paths>,
    p: P,
    f: impl FnOnce(&mut Paths) -> Option<Path>,
) -> Change {
    let paths = map.entry(p).or_default();
    let before = Top2Ids::of(paths);
    let old = f(paths);
    let after = Top2::of(paths);
    if paths.is_empty() {
        map.remove(&p);
    }
    Change { before, after, old }
}
