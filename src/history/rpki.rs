//! The RPKI sources over time: each change of a source's state or serial, and of whether
//! validation is active, for the page's timeline and the history API.
//!
//! Where it sits: the history task looks at the published [`RpkiStatus`] every few seconds
//! ([`RPKI_EVERY`]) and records what differs from the last look; a spell shorter than that
//! can go unseen. Both lists are bounded: the oldest changes go first.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::rpki::status::{unix_seconds, RpkiStatus, SourceState};

/// How often the history looks at the RPKI sources' state.
pub const RPKI_EVERY: Duration = Duration::from_secs(5);
/// How many source changes are kept (a serial every ten minutes for a day is 144 per cache).
const SOURCE_CHANGES: usize = 4096;
/// How many changes of validation on or off are kept.
const VALIDATION_CHANGES: usize = 1024;

/// A source's state or serial changed (or the source was first seen).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceChange {
    /// When it was seen (Unix seconds in JSON).
    #[serde(serialize_with = "unix_seconds")]
    pub time: Option<SystemTime>,
    /// `rtr`, `file` or `slurm`.
    pub kind: &'static str,
    /// Cache address or file path.
    pub name: String,
    /// Its state from then on.
    pub state: SourceState,
    /// Its RTR serial from then on.
    pub serial: Option<u32>,
}

/// Validation went on or off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValidationChange {
    /// When it was seen (Unix seconds in JSON).
    #[serde(serialize_with = "unix_seconds")]
    pub time: Option<SystemTime>,
    /// Whether routes are validated from then on.
    pub active: bool,
    /// Why not (`no VRPs yet`, `no VRPs`, `VRPs stale`).
    pub reason: Option<&'static str>,
}

/// The recorded changes, oldest first.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RpkiHistory {
    /// Changes of the sources' states and serials.
    pub sources: VecDeque<SourceChange>,
    /// Changes of validation on or off.
    pub validation: VecDeque<ValidationChange>,
}

impl RpkiHistory {
    /// Records what in `status` differs from the last change recorded of each source and
    /// of validation, as seen at `now`.
    pub fn observe(&mut self, status: &RpkiStatus, now: SystemTime) {
        for s in &status.sources {
            let last = (self.sources.iter().rev()).find(|c| c.kind == s.kind && c.name == s.name);
            if last.is_some_and(|c| c.state == s.state && c.serial == s.serial) {
                continue;
            }
            let change = SourceChange {
                time: Some(now),
                kind: s.kind,
                name: s.name.clone(),
                state: s.state,
                serial: s.serial,
            };
            push(&mut self.sources, change, SOURCE_CHANGES);
        }
        let v = &status.validation;
        let last = self.validation.back();
        if last.is_none_or(|c| c.active != v.active || c.reason != v.reason) {
            let change = ValidationChange {
                time: Some(now),
                active: v.active,
                reason: v.reason,
            };
            push(&mut self.validation, change, VALIDATION_CHANGES);
        }
    }
}

fn push<T>(list: &mut VecDeque<T>, item: T, bound: usize) {
    if list.len() == bound {
        list.pop_front();
    }
    list.push_back(item);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpki::status::{SourceStatus, Validation};

    fn status(states: &[(SourceState, Option<u32>)], validation: Validation) -> RpkiStatus {
        let sources = (states.iter().enumerate())
            .map(|(i, &(state, serial))| SourceStatus {
                state,
                serial,
                ..SourceStatus::new("rtr", format!("cache{i}"), Some(1))
            })
            .collect();
        RpkiStatus {
            sources,
            validation,
            ..Default::default()
        }
    }

    /// Expect: only changes are recorded (the first look records every source), per
    /// source; validation likewise.
    #[test]
    fn records_changes_of_state_and_serial_only() {
        let t = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let off = Validation::default().next(0, false, false, t(0));
        let mut h = RpkiHistory::default();
        let looks = [
            (
                0,
                [(SourceState::Starting, None), (SourceState::Starting, None)],
                &off,
            ),
            (
                5,
                [(SourceState::Up, Some(7)), (SourceState::Starting, None)],
                &Validation::active(),
            ),
            (
                10,
                [(SourceState::Up, Some(7)), (SourceState::Starting, None)],
                &Validation::active(),
            ),
            (
                15,
                [(SourceState::Up, Some(8)), (SourceState::Down, None)],
                &Validation::active(),
            ),
        ];
        for (at, states, validation) in looks {
            h.observe(&status(&states, validation.clone()), t(at));
        }
        let seen: Vec<_> = (h.sources.iter())
            .map(|c| (c.time, c.name.as_str(), c.state, c.serial))
            .collect();
        let expected = [
            (Some(t(0)), "cache0", SourceState::Starting, None),
            (Some(t(0)), "cache1", SourceState::Starting, None),
            (Some(t(5)), "cache0", SourceState::Up, Some(7)),
            (Some(t(15)), "cache0", SourceState::Up, Some(8)),
            (Some(t(15)), "cache1", SourceState::Down, None),
        ];
        assert_eq!(seen, expected);
        let validation: Vec<_> = (h.validation.iter())
            .map(|c| (c.time, c.active, c.reason))
            .collect();
        let expected = [
            (Some(t(0)), false, Some("no VRPs yet")),
            (Some(t(5)), true, None),
        ];
        assert_eq!(validation, expected);
    }

    #[test]
    fn keeps_at_most_its_bound() {
        let mut list: VecDeque<u32> = VecDeque::new();
        (0..5).for_each(|n| push(&mut list, n, 3));
        assert_eq!(list, [2, 3, 4]);
    }
}
