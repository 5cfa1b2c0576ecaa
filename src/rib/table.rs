//! The route table: every peer's path for every prefix (Adj-RIB-In), kept sorted by the
//! decision process so the first eligible path is the best (Loc-RIB).
//!
//! Where it sits: owned by the RIB task (`rib/mod.rs`). Every change notes its prefix in a
//! dirty list, once per batch: the prefix's [`Top2`] before the batch's first change and
//! after its last. At the end of a batch `export.rs` turns each noted prefix into what each
//! peer must be sent; a prefix's paths are found once per change, never hashed again.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::{Prefix, PrefixMap};
use smallvec::SmallVec;

use super::best::{better, Path, PeerOrder};
use crate::route::{Asn, Family, PeerId};

/// A prefix's paths, best first; at most one per peer and path id.
pub type Paths = SmallVec<[Path; 1]>;

/// A peer as export sees it: which peer (never sent its own path) and its AS (what
/// members' action communities name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receiver {
    /// The peer.
    pub peer: PeerId,
    /// Its AS.
    pub asn: Asn,
}

/// The two best eligible paths of a prefix: what every peer is exported (the best), and
/// what a peer is exported that may not have the best (its own, or one its announcer's
/// action communities keep from it): the second best; and, only when one of these two is
/// kept from some peers, every other eligible path, for those peers.
#[derive(Clone, Debug, Default)]
pub struct Top2 {
    /// The best eligible path.
    pub best: Option<Path>,
    /// The best eligible path from another peer than `best`'s.
    pub second: Option<Path>,
    /// The other eligible paths, best first, when `best` or `second` is kept from some
    /// peers by its action communities; else empty.
    pub rest: Box<[Path]>,
}

impl Top2 {
    /// The top two eligible paths of a sorted path list (and the rest, if needed).
    pub fn of(paths: &[Path]) -> Top2 {
        let mut eligible = paths.iter().filter(|p| p.eligible).cloned();
        let (best, second) = (eligible.next(), eligible.next());
        let kept = |p: &Option<Path>| p.as_ref().is_some_and(|p| p.attrs.kept_from_some());
        let rest = match kept(&best) || kept(&second) {
            true => eligible.collect(),
            false => Box::default(),
        };
        Top2 { best, second, rest }
    }

    /// The eligible paths it holds, best first.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        let two = self.best.iter().chain(&self.second);
        two.chain(self.rest.iter())
    }

    /// The path `to` should have: the best unless it is its own or its action
    /// communities keep it from `to`; then the next best on the same terms (BIRD's
    /// `secondary`, arouteserver's path hiding mitigation).
    pub fn for_peer(&self, to: Receiver) -> Option<&Path> {
        self.paths().find(|p| to.may_have(p))
    }
}

impl Receiver {
    /// Whether the peer may be sent `path` (an eligible one): not its own, and not kept
    /// from it by the path's action communities.
    #[inline]
    pub fn may_have(&self, path: &Path) -> bool {
        path.peer != self.peer && path.attrs.announced_to(self.asn)
    }
}

/// A prefix changed since the dirty list was last taken.
#[derive(Debug)]
pub struct Dirty {
    /// The prefix.
    pub prefix: IpNet,
    /// Its top two paths before the first change (held, so no attribute set it names is
    /// freed and its address reused while the batch lasts).
    pub before: Top2,
    /// Its top two paths after the last change.
    pub after: Top2,
}

/// A prefix's paths and where the prefix is in the dirty list.
#[derive(Default)]
struct Entry {
    paths: Paths,
    /// Index + 1 into the dirty list; 0, or an index whose record names another prefix
    /// (the list was taken since): not in the list.
    dirty: u32,
}

/// Every stored path, in one prefix trie per family, and the prefixes changed since the
/// dirty list was last taken.
#[derive(Default)]
pub struct Table {
    v4: PrefixMap<Ipv4Net, Entry>,
    v6: PrefixMap<Ipv6Net, Entry>,
    dirty: Vec<Dirty>,
    /// How many changes of any prefix's paths there have been.
    generation: u64,
}

impl Table {
    /// Inserts or replaces `path.peer`'s path for `prefix` with `path.path_id`; returns the
    /// path replaced.
    pub fn upsert(&mut self, prefix: IpNet, path: Path, order: &impl PeerOrder) -> Option<Path> {
        self.modify(prefix, |paths| {
            let same = |p: &Path| p.peer == path.peer && p.path_id == path.path_id;
            let old = paths.iter().position(same);
            let old = old.map(|i| paths.remove(i));
            let at = paths
                .iter()
                .position(|p| better(&path, p, order).is_lt())
                .unwrap_or(paths.len());
            paths.insert(at, path);
            (true, old)
        })
    }

    /// Removes `peer`'s path `path_id` for `prefix`; returns it (`None`: it had none).
    pub fn remove(&mut self, prefix: IpNet, peer: PeerId, path_id: u32) -> Option<Path> {
        self.modify(prefix, |paths| {
            let i = paths
                .iter()
                .position(|p| p.peer == peer && p.path_id == path_id);
            let old = i.map(|i| paths.remove(i));
            (old.is_some(), old)
        })
    }

    /// Runs `f` on every path of `prefix` (an existing one); when `f` reports a change to
    /// any, the paths are sorted again; returns whether any changed.
    pub fn reshape(
        &mut self,
        prefix: IpNet,
        order: &impl PeerOrder,
        mut f: impl FnMut(&mut Path) -> bool,
    ) -> bool {
        self.modify(prefix, |paths| {
            let mut changed = false;
            for path in paths.iter_mut() {
                changed |= f(path);
            }
            if changed {
                paths.sort_by(|a, b| better(a, b, order));
            }
            (changed, changed)
        })
    }

    /// The table's generation: it moves with every change of a stored path (added,
    /// replaced, removed, re-validated, made eligible or not), so what was read from the
    /// table at one generation holds as long as it stays.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// How many prefixes changed since the dirty list was last taken.
    pub fn dirty_len(&self) -> usize {
        self.dirty.len()
    }

    /// Takes the prefixes changed since the last time, each once, in the order of their
    /// first change.
    pub fn take_dirty(&mut self) -> Vec<Dirty> {
        std::mem::take(&mut self.dirty)
    }

    /// Runs `f` on the prefix's paths (created empty if absent; removed when left empty);
    /// `f` says whether it changed them (then the prefix is noted in the dirty list) and
    /// what to return.
    fn modify<R>(&mut self, prefix: IpNet, f: impl FnOnce(&mut Paths) -> (bool, R)) -> R {
        let generation = &mut self.generation;
        let f = |paths: &mut Paths| {
            let (changed, result) = f(paths);
            *generation += u64::from(changed);
            (changed, result)
        };
        match prefix {
            IpNet::V4(p) => modify_in(&mut self.v4, &mut self.dirty, p, prefix, f),
            IpNet::V6(p) => modify_in(&mut self.v6, &mut self.dirty, p, prefix, f),
        }
    }

    /// The paths of one prefix, best first.
    pub fn paths(&self, prefix: &IpNet) -> &[Path] {
        let entry = match prefix {
            IpNet::V4(p) => self.v4.get(p),
            IpNet::V6(p) => self.v6.get(p),
        };
        entry.map_or(&[], |e| e.paths.as_slice())
    }

    /// Every prefix of `family` with its paths.
    pub fn iter(&self, family: Family) -> Box<dyn Iterator<Item = (IpNet, &Paths)> + '_> {
        match family {
            Family::Ipv4Unicast => Box::new(self.v4.iter().map(|(p, e)| (IpNet::V4(p), &e.paths))),
            Family::Ipv6Unicast => Box::new(self.v6.iter().map(|(p, e)| (IpNet::V6(p), &e.paths))),
        }
    }

    /// `prefix` and every more-specific prefix in the table, with their paths.
    pub fn covered(&self, prefix: &IpNet) -> Box<dyn Iterator<Item = (IpNet, &Paths)> + '_> {
        match prefix {
            IpNet::V4(p) => Box::new(self.v4.children(p).map(|(p, e)| (IpNet::V4(p), &e.paths))),
            IpNet::V6(p) => Box::new(self.v6.children(p).map(|(p, e)| (IpNet::V6(p), &e.paths))),
        }
    }

    /// Every prefix in the table that covers `prefix` (itself included), shortest first.
    pub fn cover(&self, prefix: &IpNet) -> Vec<(IpNet, &Paths)> {
        match prefix {
            IpNet::V4(p) => (self.v4.cover(p).map(|(p, e)| (IpNet::V4(p), &e.paths))).collect(),
            IpNet::V6(p) => (self.v6.cover(p).map(|(p, e)| (IpNet::V6(p), &e.paths))).collect(),
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

    /// The paths of `family` from `peer` matching `pred`: their prefixes and path ids.
    pub fn paths_of(
        &self,
        family: Family,
        peer: PeerId,
        pred: impl Fn(&Path) -> bool,
    ) -> Vec<(IpNet, u32)> {
        let pred = &pred;
        let mine = move |p: &&Path| p.peer == peer && pred(p);
        (self.iter(family))
            .flat_map(|(prefix, paths)| paths.iter().filter(mine).map(move |p| (prefix, p.path_id)))
            .collect()
    }
}

fn modify_in<P: Prefix + Copy, R>(
    map: &mut PrefixMap<P, Entry>,
    dirty: &mut Vec<Dirty>,
    p: P,
    prefix: IpNet,
    f: impl FnOnce(&mut Paths) -> (bool, R),
) -> R {
    let entry = map.entry(p).or_default();
    let noted = (entry.dirty as usize)
        .checked_sub(1)
        .filter(|&i| dirty.get(i).is_some_and(|d| d.prefix == prefix));
    let before = noted.is_none().then(|| Top2::of(&entry.paths));
    let (changed, result) = f(&mut entry.paths);
    if changed {
        let after = Top2::of(&entry.paths);
        match noted {
            Some(i) => dirty[i].after = after,
            None => {
                dirty.push(Dirty {
                    prefix,
                    before: before.unwrap_or_default(),
                    after,
                });
                // The list holds one record per prefix changed in one batch: far fewer
                // than u32::MAX.
                entry.dirty = dirty.len() as u32;
            }
        }
    }
    if entry.paths.is_empty() {
        // Its dirty record, if any, keeps `after` empty: a later re-add is a new record,
        // which export sends after this one's withdrawal.
        map.remove(&p);
    }
    result
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::Arc;

    use super::super::export::Batch;
    use super::*;
    use crate::route::{Actions, AsPath, AttrSet, NextHop, RovState, Segment};

    /// Peer N (AS 64496 + N)'s path, with these large communities.
    pub(in crate::rib) fn path(peer: u32, large: &[[u32; 3]]) -> Path {
        let as_path = AsPath(vec![Segment::Sequence(vec![64496 + peer])]);
        let nh = NextHop::V4([192, 0, 2, 1].into());
        let mut attrs = AttrSet::new(0, as_path, nh, None, Default::default());
        attrs.actions = Actions::read(64500, [], large.iter().copied()).map(Box::new);
        Path {
            peer: PeerId(peer),
            path_id: 0,
            attrs: Arc::new(attrs),
            state: RovState::NotFound,
            eligible: true,
            stale: false,
            held: false,
            failed: Default::default(),
        }
    }

    /// Peer N (AS 64496 + N) as a receiver.
    pub(in crate::rib) fn to(peer: u32) -> Receiver {
        let asn = Asn(64496 + peer);
        Receiver {
            peer: PeerId(peer),
            asn,
        }
    }

    #[test]
    fn a_receiver_kept_from_the_best_path_gets_the_next_best() {
        let not_to_2 = Top2::of(&[path(0, &[[64500, 0, 64498]]), path(1, &[])]);
        let none_but_own = [path(0, &[[64500, 0, 0]]), path(1, &[[64500, 0, 64498]])];
        let three = [none_but_own.to_vec(), vec![path(2, &[])]].concat();
        let (none_but_own, three) = (Top2::of(&none_but_own), Top2::of(&three));
        // (name, paths, receiver, the peer whose path it gets)
        let cases = [
            ("the best's owner gets the second", &not_to_2, 0, Some(1)),
            ("the second's owner gets the best", &not_to_2, 1, Some(0)),
            ("kept from the best: the second", &not_to_2, 2, Some(1)),
            ("anyone else: the best", &not_to_2, 3, Some(0)),
            ("never its own path", &none_but_own, 1, None),
            ("kept from both: nothing", &none_but_own, 2, None),
            ("the best to none: the second", &none_but_own, 3, Some(1)),
            (
                "the best to none, its own second: the third",
                &three,
                1,
                Some(2),
            ),
            (
                "kept from the first two, its own third: nothing",
                &three,
                2,
                None,
            ),
        ];
        for (name, top, receiver, expected) in cases {
            let got = top.for_peer(to(receiver)).map(|p| p.peer.0);
            assert_eq!(got, expected, "{name}");
        }
        assert!(Top2::of(&[path(0, &[]), path(1, &[]), path(2, &[])])
            .rest
            .is_empty());
        assert_eq!(three.rest.len(), 1, "kept from some: the rest is kept");
    }

    /// Expected: the owners of the best and, while a path goes to nobody unnamed, of the
    /// next, and the ASes the communities of those paths name, see the batch apart; the
    /// others share one encoding.
    #[test]
    fn receivers_named_by_action_communities_see_the_batch_apart() {
        // (the two paths' large communities, whether peers 0 to 4 share the encoding)
        let cases = [
            (
                [&[[64500, 0, 0], [64500, 1, 64499]][..], &[]],
                [false, false, true, false, true],
            ),
            (
                [&[[64500, 0, 64499]], &[]],
                [false, true, true, false, true],
            ),
            ([&[], &[[64500, 0, 64498]]], [false, true, true, true, true]),
        ];
        for ([first, second], expected) in cases {
            let after = Top2::of(&[path(0, first), path(1, second)]);
            let prefix = "192.0.2.0/24".parse().unwrap();
            let before = Top2::default();
            let batch = Batch::new(vec![Dirty {
                prefix,
                before,
                after,
            }]);
            let families = [Family::Ipv4Unicast];
            let shared = |r| batch.encoded(to(r), &families, 1, |_| Vec::new()).is_some();
            assert_eq!(
                [0, 1, 2, 3, 4].map(shared),
                expected,
                "{first:?} {second:?}"
            );
        }
    }
}
