//! The route table: every peer's path for every prefix (Adj-RIB-In), kept sorted by the
//! decision process so the first eligible path is the best (Loc-RIB).
//!
//! Where it sits: owned by the RIB task (`rib/mod.rs`). Every change that may change a
//! prefix's [`Top2`] notes the prefix in a dirty list, once per batch: its [`Top2`] before
//! the batch's first change and after its last. A change below the two best paths (the
//! third of ten feeders' paths, say) is noted only while someone reads every path, and
//! nothing is noted while nobody is sent changes ([`Noting`]). At the end of a batch
//! `export.rs` turns each noted prefix into what each peer must be sent; a prefix's paths
//! are found once per change, never hashed again.

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
    /// Which changes the dirty list notes.
    noting: Noting,
}

/// Which changes of the table the dirty list notes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Noting {
    /// None: nobody is sent changes (during the update delay, whose end sends the table).
    Nothing,
    /// Those that may change a prefix's [`Top2`]: what peers are sent.
    #[default]
    Top,
    /// Every change of any path, for readers of every path (ADD-PATH and BMP export).
    Every,
}

/// How many paths at the head of a prefix's list make its [`Top2`] when both are eligible
/// and neither is kept from any peer.
const TOP: usize = 2;

/// Whether and how the change a table operation is making to one prefix's paths goes into
/// the dirty list.
struct Note {
    /// The prefix is in the dirty list already (this batch changed it before).
    listed: bool,
    /// Which changes are noted.
    noting: Noting,
    /// The change is noted.
    noted: bool,
    /// The prefix's top before the change, when it is noted and not listed yet.
    before: Option<Top2>,
}

impl Note {
    /// Called before the change is made to `paths`: `reaches` whether it touches one of
    /// the first [`TOP`] paths (replaces, removes or goes before one).
    fn change(&mut self, paths: &[Path], reaches: bool) {
        self.noted = match self.noting {
            Noting::Nothing => false,
            Noting::Top => reaches || !plain_top(paths),
            Noting::Every => true,
        };
        if self.noted && !self.listed {
            self.before = Some(Top2::of(paths));
        }
    }
}

/// Whether the first [`TOP`] paths are exactly the prefix's [`Top2`]: both eligible, and
/// neither kept from some peers (which makes every other path count).
fn plain_top(paths: &[Path]) -> bool {
    let plain = |p: &Path| p.eligible && !p.attrs.kept_from_some();
    paths.len() >= TOP && paths[..TOP].iter().all(plain)
}

impl Table {
    /// Inserts or replaces `path.peer`'s path for `prefix` with `path.path_id`; returns the
    /// path replaced.
    pub fn upsert(&mut self, prefix: IpNet, path: Path, order: &impl PeerOrder) -> Option<Path> {
        self.modify(prefix, |paths, note| {
            let same = |p: &Path| p.peer == path.peer && p.path_id == path.path_id;
            let old_at = paths.iter().position(same);
            // Where it goes among the paths as they are; one place earlier once the old
            // path, if before it, is gone (the list is sorted: a path better than the old
            // one is better than every path after it too).
            let at = paths
                .iter()
                .position(|p| better(&path, p, order).is_lt())
                .unwrap_or(paths.len());
            note.change(paths, at < TOP || old_at.is_some_and(|i| i < TOP));
            let old = old_at.map(|i| paths.remove(i));
            // One more place, not twice as many: ten feeders' paths take ten, not sixteen
            // (the allocator grows a block in place while its size class has room).
            paths.reserve_exact(1);
            paths.insert(at - usize::from(old_at.is_some_and(|i| i < at)), path);
            (true, old)
        })
    }

    /// Removes `peer`'s path `path_id` for `prefix`; returns it (`None`: it had none).
    pub fn remove(&mut self, prefix: IpNet, peer: PeerId, path_id: u32) -> Option<Path> {
        self.modify(prefix, |paths, note| {
            let i = paths
                .iter()
                .position(|p| p.peer == peer && p.path_id == path_id);
            let Some(i) = i else { return (false, None) };
            note.change(paths, i < TOP);
            (true, Some(paths.remove(i)))
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
        self.modify(prefix, |paths, note| {
            note.change(paths, true);
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

    /// Sets which changes the dirty list notes from now on.
    pub fn note(&mut self, noting: Noting) {
        self.noting = noting;
    }

    /// Runs `f` on the prefix's paths (created empty if absent; removed when left empty);
    /// `f` tells the [`Note`] about a change before making it, and says whether it changed
    /// them and what to return.
    fn modify<R>(
        &mut self,
        prefix: IpNet,
        f: impl FnOnce(&mut Paths, &mut Note) -> (bool, R),
    ) -> R {
        let generation = &mut self.generation;
        let f = |paths: &mut Paths, note: &mut Note| {
            let (changed, result) = f(paths, note);
            *generation += u64::from(changed);
            (changed, result)
        };
        let dirty = (&mut self.dirty, self.noting);
        match prefix {
            IpNet::V4(p) => modify_in(&mut self.v4, dirty, p, prefix, f),
            IpNet::V6(p) => modify_in(&mut self.v6, dirty, p, prefix, f),
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
    (dirty, noting): (&mut Vec<Dirty>, Noting),
    p: P,
    prefix: IpNet,
    f: impl FnOnce(&mut Paths, &mut Note) -> (bool, R),
) -> R {
    let entry = map.entry(p).or_default();
    let listed = (entry.dirty as usize)
        .checked_sub(1)
        .filter(|&i| dirty.get(i).is_some_and(|d| d.prefix == prefix));
    let mut note = Note {
        listed: listed.is_some(),
        noting,
        noted: false,
        before: None,
    };
    let (changed, result) = f(&mut entry.paths, &mut note);
    if changed && note.noted {
        let after = Top2::of(&entry.paths);
        match listed {
            Some(i) => dirty[i].after = after,
            None => {
                dirty.push(Dirty {
                    prefix,
                    before: note.before.unwrap_or_default(),
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
