//! The mode of each IXP import check for one peer: the same four modes as ROV, set per
//! group of checks as the config names them (`checks = "drop"`, `check = { irr = "shadow" }`).
//!
//! Where it sits: the config resolves a peer's modes (peer, then role, then `[defaults]`,
//! then the built-in default of its role); the RIB keeps them with the peer and hands them
//! to [`check`](super::checks::check) (a check in `accept` is not run) and to
//! [`decide`](super::decide). Pure.

use std::fmt;

use super::checks::Check;
use super::RovMode;

/// A group of checks that share one mode, by its config name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckGroup {
    /// `next_hop`: the next hop must be the peer's (or its AS's) address.
    NextHop,
    /// `prefix_length`: too long or too short for the family.
    PrefixLength,
    /// `bogon_prefix`: IANA special-purpose prefixes, the default route.
    BogonPrefix,
    /// `bogon_asn`: reserved, private or documentation ASNs in the path.
    BogonAsn,
    /// `as_path`: too long, or holding an AS_SET.
    AsPath,
    /// `transit_free`: a transit-free network after the peer's own AS.
    TransitFree,
    /// `irr`: the prefix or the origin is not in the peer's AS-SET.
    Irr,
    /// `aspa`: ASPA verification finds the path Invalid. Set by the `aspa` key, not by
    /// `checks` or `check`.
    Aspa,
}

impl CheckGroup {
    /// Every group of the `check` tables, in the order the README lists them (not
    /// [`CheckGroup::Aspa`]).
    pub const ALL: [CheckGroup; 7] = [
        CheckGroup::NextHop,
        CheckGroup::PrefixLength,
        CheckGroup::BogonPrefix,
        CheckGroup::BogonAsn,
        CheckGroup::AsPath,
        CheckGroup::TransitFree,
        CheckGroup::Irr,
    ];

    /// The key in the config's `check` tables.
    pub fn name(self) -> &'static str {
        match self {
            CheckGroup::NextHop => "next_hop",
            CheckGroup::PrefixLength => "prefix_length",
            CheckGroup::BogonPrefix => "bogon_prefix",
            CheckGroup::BogonAsn => "bogon_asn",
            CheckGroup::AsPath => "as_path",
            CheckGroup::TransitFree => "transit_free",
            CheckGroup::Irr => "irr",
            CheckGroup::Aspa => "aspa",
        }
    }

    /// The group a check belongs to.
    pub fn of(check: Check) -> CheckGroup {
        match check {
            Check::NextHop => CheckGroup::NextHop,
            Check::PrefixTooLong | Check::PrefixTooShort => CheckGroup::PrefixLength,
            Check::Bogon => CheckGroup::BogonPrefix,
            Check::BogonAsn => CheckGroup::BogonAsn,
            Check::AsPathTooLong => CheckGroup::AsPath,
            Check::TransitFree => CheckGroup::TransitFree,
            Check::IrrPrefix | Check::IrrOrigin => CheckGroup::Irr,
            Check::Aspa => CheckGroup::Aspa,
        }
    }

    /// The group named `name` in a `check` table.
    pub fn named(name: &str) -> Option<CheckGroup> {
        CheckGroup::ALL.into_iter().find(|g| g.name() == name)
    }
}

impl fmt::Display for CheckGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One peer's mode for each group of checks, and for ASPA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CheckModes([RovMode; 8]);

impl CheckModes {
    /// Every check in `drop` (what an IXP ships for its route-server clients), ASPA off.
    pub const ALL_DROP: CheckModes = CheckModes::all(RovMode::Drop);

    /// The same mode for every check of the `check` groups; ASPA off.
    pub const fn all(mode: RovMode) -> Self {
        let mut modes = [mode; 8];
        modes[CheckGroup::Aspa as usize] = RovMode::Accept;
        CheckModes(modes)
    }

    /// These modes with `mode` for every `check` group, ASPA's kept (what `checks = "..."`
    /// sets).
    pub fn with_all(self, mode: RovMode) -> Self {
        let mut modes = CheckModes::all(mode);
        modes.set(CheckGroup::Aspa, self.group(CheckGroup::Aspa));
        modes
    }

    /// The mode of `check`.
    pub fn of(&self, check: Check) -> RovMode {
        self.group(CheckGroup::of(check))
    }

    /// The mode of `group`.
    pub fn group(&self, group: CheckGroup) -> RovMode {
        self.0[group as usize]
    }

    /// Sets the mode of `group`.
    pub fn set(&mut self, group: CheckGroup, mode: RovMode) {
        self.0[group as usize] = mode;
    }

    /// Whether `check` is run at all (`accept` turns a check off).
    pub fn runs(&self, check: Check) -> bool {
        self.of(check) != RovMode::Accept
    }

    /// Each group with its mode, in [`CheckGroup::ALL`] order, then ASPA.
    pub fn iter(&self) -> impl Iterator<Item = (CheckGroup, RovMode)> + '_ {
        let groups = CheckGroup::ALL.into_iter().chain([CheckGroup::Aspa]);
        groups.map(|g| (g, self.group(g)))
    }
}

impl Default for CheckModes {
    /// Every check off.
    fn default() -> Self {
        CheckModes::all(RovMode::Accept)
    }
}

impl serde::Serialize for CheckModes {
    /// As a map from group name to mode name.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter().map(|(g, m)| (g.name(), m.name())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_has_a_group_and_names_round_trip() {
        for check in Check::ALL.into_iter().filter(|&c| c != Check::Aspa) {
            let group = CheckGroup::of(check);
            assert_eq!(CheckGroup::named(group.name()), Some(group), "{check:?}");
        }
        assert_eq!(CheckGroup::named("rpki"), None);
        assert_eq!(CheckGroup::named("aspa"), None, "aspa has its own key");
        let aspa = CheckModes::all(RovMode::Accept).with_all(RovMode::Tag);
        assert_eq!(
            aspa.of(Check::Aspa),
            RovMode::Accept,
            "checks leave ASPA alone"
        );
        let mut modes = CheckModes::all(RovMode::Drop);
        modes.set(CheckGroup::Irr, RovMode::Accept);
        assert!(!modes.runs(Check::IrrOrigin) && !modes.runs(Check::IrrPrefix));
        assert!(modes.runs(Check::NextHop));
        assert_eq!(modes.of(Check::PrefixTooShort), RovMode::Drop);
    }
}
