//! RPKI states looked up where an UPDATE is decoded, in parallel with the RIB task.
//!
//! Why: the lookup of each announced prefix in the VRP table (a longest match, then the
//! covering VRPs) was a tenth of the RIB task's time with ten full-table feeders, while
//! the second core had room. A session looks its UPDATE up against the current snapshot
//! and sends the states with it; the RIB takes them when they were made against the
//! snapshot it validates with, and looks the prefixes up itself otherwise (a VRP update
//! came in between), so a path's state is always the one of the RIB's snapshot.
//!
//! Where it sits: the daemon gives each session a [`Validator`] on the VRP store the RIB
//! reads; the session sends [`RibEvent::ValidatedUpdate`](super::RibEvent); `update.rs`
//! reads [`RovStates::of`].

use crate::route::{RovState, Update};
use crate::rpki::VrpStore;

/// Looks up the RPKI states of an UPDATE's announced prefixes.
#[derive(Clone, Debug)]
pub struct Validator(VrpStore);

/// The RPKI states of an UPDATE's announced prefixes, in the order of its groups and
/// their prefixes, against the VRP snapshot of `serial`.
#[derive(Debug)]
pub struct RovStates {
    serial: u64,
    states: Vec<RovState>,
}

impl Validator {
    /// Looks up against the snapshots of `vrps` (the RIB's store).
    pub fn new(vrps: VrpStore) -> Self {
        Validator(vrps)
    }

    /// The states of `update`'s announced prefixes against the current snapshot.
    pub fn validate(&self, update: &Update) -> RovStates {
        let vrps = self.0.load();
        let states = (update.announced.iter())
            .flat_map(|(attrs, prefixes)| {
                let origin = attrs.as_path.origin();
                prefixes.iter().map(move |p| (p, origin))
            })
            .map(|(prefix, origin)| vrps.table.state(prefix, origin))
            .collect();
        RovStates {
            serial: vrps.serial,
            states,
        }
    }
}

impl RovStates {
    /// The states as a list by position, if they were looked up against the snapshot of
    /// `serial`.
    pub(super) fn of(self, serial: u64) -> Option<Vec<RovState>> {
        (self.serial == serial).then_some(self.states)
    }

    /// States made up for a test: `states` against the snapshot of `serial`.
    #[cfg(test)]
    pub(super) fn made_up(serial: u64, states: Vec<RovState>) -> Self {
        RovStates { serial, states }
    }
}
