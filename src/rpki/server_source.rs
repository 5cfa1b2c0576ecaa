//! What the RTR server serves: the effective VRP set (and ASPAs) as the `rpki` crate's
//! [`PayloadSource`], with a bounded history of deltas for serial queries.
//!
//! Where it sits: the server's follower task (`server.rs`) turns each published
//! [`VrpSnapshot`](super::VrpSnapshot) into the next [`Served`] state with
//! [`Served::next`] and swaps it into [`RtrSource`]; the crate's per-client connections
//! call [`PayloadSource::full`] (reset query) and [`PayloadSource::diff`] (serial query) on
//! whatever state is current, never waiting for the follower. A client whose serial is
//! older than the history gets `None` here, which the crate answers with Cache Reset.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rpki::resources::{MaxLenPrefix, Prefix};
use rpki::rtr::payload::{Action, Aspa as RtrAspa, PayloadRef, RouteOrigin, Timing};
use rpki::rtr::pdu::ProviderAsns;
use rpki::rtr::server::{PayloadDiff, PayloadSet, PayloadSource};
use rpki::rtr::state::{Serial, State};

use super::sources::Aspa;
use super::vrp::Vrp;
use super::VrpStore;

/// How many deltas are kept at most; a client further behind gets Cache Reset.
pub const HISTORY: usize = 64;

/// One state of the served set: all of it, and the deltas that led to it.
#[derive(Debug)]
pub struct Served {
    /// Session ID and serial.
    pub state: State,
    /// The VRPs, sorted.
    vrps: Arc<Vec<Vrp>>,
    /// The ASPAs, sorted by customer.
    aspas: Arc<Vec<RtrAspa>>,
    /// Deltas, oldest first; the last one leads to `state`.
    history: VecDeque<Arc<Delta>>,
}

/// What changed from serial `from` to the next one.
#[derive(Debug, Default)]
struct Delta {
    from: u32,
    /// VRPs announced or withdrawn.
    vrps: Vec<(Vrp, Action)>,
    /// ASPAs announced (new or replaced) or withdrawn (in withdraw form).
    aspas: Vec<(RtrAspa, Action)>,
    /// For each ASPA change, whether the customer had an ASPA before it (to compose).
    aspa_existed: Vec<bool>,
}

impl Delta {
    fn len(&self) -> usize {
        self.vrps.len() + self.aspas.len()
    }
}

impl Served {
    /// The empty set at serial 0 of a new session.
    pub fn new() -> Self {
        Served {
            state: State::new(),
            vrps: Arc::default(),
            aspas: Arc::default(),
            history: VecDeque::new(),
        }
    }

    /// How many VRPs and ASPAs are served.
    pub fn len(&self) -> (usize, usize) {
        (self.vrps.len(), self.aspas.len())
    }

    /// The next state holding `vrps` and `aspas`, or `None` when nothing changed.
    pub fn next(&self, mut vrps: Vec<Vrp>, aspas: &[Aspa]) -> Option<Served> {
        vrps.sort_unstable();
        vrps.dedup();
        let mut aspas: Vec<RtrAspa> = aspas.iter().filter_map(to_rtr_aspa).collect();
        aspas.sort_unstable_by_key(|a| a.customer);
        let mut delta = Delta {
            from: self.state.serial().into(),
            ..Delta::default()
        };
        merge(
            &self.vrps,
            &vrps,
            |v| *v,
            |vrp, action| delta.vrps.push((*vrp, action)),
        );
        merge(
            &self.aspas,
            &aspas,
            |a| a.customer,
            |aspa, action| {
                delta.aspa_existed.push(action == Action::Withdraw);
                match action {
                    Action::Withdraw => delta.aspas.push((aspa.withdraw(), action)),
                    Action::Announce => delta.aspas.push((aspa.clone(), action)),
                }
            },
        );
        // A customer in both sets whose providers changed: announced again, replacing.
        for new in &aspas {
            let old = self
                .aspas
                .binary_search_by_key(&new.customer, |a| a.customer);
            if old.is_ok_and(|i| self.aspas[i] != *new) {
                delta.aspas.push((new.clone(), Action::Announce));
                delta.aspa_existed.push(true);
            }
        }
        if delta.len() == 0 {
            return None;
        }
        let mut history = self.history.clone();
        history.push_back(Arc::new(delta));
        // Bounded: at most HISTORY deltas holding together no more than the whole set.
        let limit = (vrps.len() + aspas.len()).max(1000);
        while history.len() > HISTORY
            || (history.len() > 1 && history.iter().map(|d| d.len()).sum::<usize>() > limit)
        {
            history.pop_front();
        }
        let mut state = self.state;
        state.inc();
        Some(Served {
            state,
            vrps: Arc::new(vrps),
            aspas: Arc::new(aspas),
            history,
        })
    }

    /// The changes from `serial` to this state: `None` when `serial` is not in the history.
    fn diff_from(&self, serial: Serial) -> Option<DiffIter> {
        if serial == self.state.serial() {
            return Some(DiffIter::new(Arc::default()));
        }
        let serial: u32 = serial.into();
        let start = self.history.iter().position(|d| d.from == serial)?;
        let deltas = self.history.range(start..);
        Some(DiffIter::new(match deltas.len() {
            1 => self.history[start].clone(),
            _ => Arc::new(compose(deltas)),
        }))
    }
}

impl Default for Served {
    fn default() -> Self {
        Served::new()
    }
}

/// Walks two sorted lists by `key`: `change(item, Withdraw)` for what only `old` has,
/// `change(item, Announce)` for what only `new` has.
fn merge<T, K: Ord>(
    old: &[T],
    new: &[T],
    key: impl Fn(&T) -> K,
    mut change: impl FnMut(&T, Action),
) {
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        let order = match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) => key(a).cmp(&key(b)),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                change(&old[i], Action::Withdraw);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                change(&new[j], Action::Announce);
                j += 1;
            }
            std::cmp::Ordering::Equal => (i, j) = (i + 1, j + 1),
        }
    }
}

/// The net effect of consecutive deltas: an item is sent when it was there before the
/// first and not after the last, or the other way round (an ASPA announced last is sent).
fn compose<'a>(deltas: impl Iterator<Item = &'a Arc<Delta>>) -> Delta {
    let mut vrps: HashMap<Vrp, (Action, Action)> = HashMap::new();
    let mut aspas: HashMap<u32, (bool, RtrAspa, Action)> = HashMap::new();
    for d in deltas {
        for &(vrp, action) in &d.vrps {
            vrps.entry(vrp).or_insert((action, action)).1 = action;
        }
        for ((aspa, action), existed) in d.aspas.iter().zip(&d.aspa_existed) {
            let key = aspa.customer.into_u32();
            let entry = aspas
                .entry(key)
                .or_insert((*existed, aspa.clone(), *action));
            (entry.1, entry.2) = (aspa.clone(), *action);
        }
    }
    let mut out = Delta::default();
    for (vrp, (first, last)) in vrps {
        // Before the first it was there exactly when the first was a withdrawal.
        if (first == Action::Withdraw) != (last == Action::Announce) {
            out.vrps.push((vrp, last));
        }
    }
    for (_, (existed, aspa, last)) in aspas {
        if existed || last == Action::Announce {
            out.aspas.push((aspa, last));
            out.aspa_existed.push(existed);
        }
    }
    out
}

/// The RTR route origin of a VRP. VRPs are checked when read, so this never fails; one
/// that did would be left out.
fn to_origin(vrp: &Vrp) -> Option<RouteOrigin> {
    let prefix = Prefix::new(vrp.prefix.network(), vrp.prefix.prefix_len()).ok()?;
    let prefix = MaxLenPrefix::new(prefix, Some(vrp.max_length)).ok()?;
    Some(RouteOrigin::new(prefix, vrp.asn.0.into()))
}

/// The RTR form of an ASPA; one with more providers than a PDU holds is left out.
fn to_rtr_aspa(aspa: &Aspa) -> Option<RtrAspa> {
    let providers = aspa.providers.iter().map(|a| a.0.into());
    let providers = ProviderAsns::try_from_iter(providers).ok()?;
    Some(RtrAspa::new(aspa.customer.0.into(), providers))
}

/// The crate's view of the served set: the current [`Served`], the timing of one
/// `[[rtr_server]]`, and whether the VRP set is complete yet.
#[derive(Clone)]
pub struct RtrSource {
    served: Arc<ArcSwap<Served>>,
    store: VrpStore,
    timing: Timing,
}

impl RtrSource {
    /// A source over `served` with this timing; ready once `store` says the set is complete.
    pub fn new(served: Arc<ArcSwap<Served>>, store: VrpStore, timing: Timing) -> Self {
        RtrSource {
            served,
            store,
            timing,
        }
    }
}

impl PayloadSource for RtrSource {
    type Set = FullSet;
    type Diff = DiffIter;

    /// Not before the first complete VRP set: until then clients get No Data Available.
    fn ready(&self) -> bool {
        self.store.status().complete
    }

    fn notify(&self) -> State {
        self.served.load().state
    }

    fn full(&self) -> (State, FullSet) {
        let served = self.served.load();
        let set = FullSet {
            vrps: served.vrps.clone(),
            aspas: served.aspas.clone(),
            pos: 0,
        };
        (served.state, set)
    }

    fn diff(&self, state: State) -> Option<(State, DiffIter)> {
        let served = self.served.load();
        if state.session() != served.state.session() {
            return None;
        }
        Some((served.state, served.diff_from(state.serial())?))
    }

    fn timing(&self) -> Timing {
        self.timing
    }
}

/// Every VRP, then every ASPA, of one state.
pub struct FullSet {
    vrps: Arc<Vec<Vrp>>,
    aspas: Arc<Vec<RtrAspa>>,
    pos: usize,
}

impl PayloadSet for FullSet {
    fn next(&mut self) -> Option<PayloadRef<'_>> {
        while let Some(vrp) = self.vrps.get(self.pos) {
            self.pos += 1;
            if let Some(origin) = to_origin(vrp) {
                return Some(PayloadRef::Origin(origin));
            }
        }
        let aspa = self.aspas.get(self.pos - self.vrps.len())?;
        self.pos += 1;
        Some(PayloadRef::Aspa(aspa))
    }
}

/// The items of one (possibly composed) delta.
pub struct DiffIter {
    delta: Arc<Delta>,
    pos: usize,
}

impl DiffIter {
    fn new(delta: Arc<Delta>) -> Self {
        DiffIter { delta, pos: 0 }
    }
}

impl PayloadDiff for DiffIter {
    fn next(&mut self) -> Option<(PayloadRef<'_>, Action)> {
        let d = &self.delta;
        while let Some(&(vrp, action)) = d.vrps.get(self.pos) {
            self.pos += 1;
            if let Some(origin) = to_origin(&vrp) {
                return Some((PayloadRef::Origin(origin), action));
            }
        }
        let (aspa, action) = d.aspas.get(self.pos - d.vrps.len())?;
        self.pos += 1;
        Some((PayloadRef::Aspa(aspa), *action))
    }
}

#[cfg(test)]
#[path = "server_source_tests.rs"]
mod tests;
