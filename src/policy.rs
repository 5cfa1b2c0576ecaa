//! Import policy: what a peer's `rov` mode does with a route of a given RPKI state, and
//! what the modes of its IXP import checks (`checks.rs`: next hop, prefix length, bogons,
//! AS_PATH, transit-free, IRR) do with the checks it fails.
//!
//! Where it sits: the RIB task (`rib/`) runs [`check`] on every path a peer sends and asks
//! [`decide_all`] for every path it stores or re-evaluates; the answer says whether the
//! path may be selected and exported and which communities rovgate adds to it. Pure: no
//! I/O, table-driven tests below.
//!
//! | mode   | valid / not-found | invalid                                              |
//! |--------|-------------------|------------------------------------------------------|
//! | accept | pass              | pass                                                 |
//! | shadow | pass              | pass, counted as *would be dropped*                  |
//! | tag    | pass + `rs:1000:y`| pass + `rs:1000:y` (+ RFC 8097 to peers that want it)|
//! | drop   | pass              | not eligible, kept in Adj-RIB-In, `rs:1101:13` added|
//!
//! A *held* path (a mass invalidation waiting for an operator) is treated as shadow.

mod aspa;
mod bogons;
mod checks;
mod irr;
mod modes;

pub use aspa::{verify, AspaProcedure, AspaReason, AspaState, AspaVerdict};
pub use checks::{check, check_path, check_prefix, Check, Failed, Filters, NextHopPolicy};
pub use checks::{Route, TRANSIT_FREE};
pub use irr::{Irr, IrrError};
pub use modes::{CheckGroup, CheckModes};

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::route::{RovState, FILTERED_FUNCTION, TAG_FUNCTION};

/// What a peer's ROV mode does with its RPKI-invalid routes (the `rov` key of `[defaults]`
/// and `[[peer]]`, the `rov` field of the HTTP API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RovMode {
    /// Pass every route, untagged.
    Accept,
    /// Pass every route, tagged with its validation state.
    Tag,
    /// Pass every route unchanged, but count and report what dropping would do.
    Shadow,
    /// Drop invalid routes (they stay in Adj-RIB-In for re-evaluation).
    Drop,
}

impl RovMode {
    /// Every mode, in the order the config documents them.
    pub const ALL: [RovMode; 4] = [
        RovMode::Accept,
        RovMode::Tag,
        RovMode::Shadow,
        RovMode::Drop,
    ];

    /// The mode's name in the config file and the HTTP API.
    pub fn name(self) -> &'static str {
        match self {
            RovMode::Accept => "accept",
            RovMode::Tag => "tag",
            RovMode::Shadow => "shadow",
            RovMode::Drop => "drop",
        }
    }
}

/// A name that is no ROV mode.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected one of accept, tag, shadow, drop, got {0:?}")]
pub struct UnknownMode(String);

impl FromStr for RovMode {
    type Err = UnknownMode;

    /// Parses `accept`, `tag`, `shadow` or `drop`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        (RovMode::ALL.into_iter())
            .find(|m| m.name() == s)
            .ok_or_else(|| UnknownMode(s.to_string()))
    }
}

impl fmt::Display for RovMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The third part `y` of the Euro-IX large community `rs_asn:1000:y` for each validation
/// state; distinct from each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TagValues {
    /// RPKI valid (config key `tag_valid`, default 1).
    pub valid: u32,
    /// RPKI not found (config key `tag_not_found`, default 2).
    pub not_found: u32,
    /// RPKI invalid (config key `tag_invalid`, default 4).
    pub invalid: u32,
}

impl Default for TagValues {
    /// The Euro-IX values: 1 valid, 2 not found, 4 invalid.
    fn default() -> Self {
        TagValues {
            valid: 1,
            not_found: 2,
            invalid: 4,
        }
    }
}

/// Filtered reason: RPKI invalid (`rs_asn:1101:13`).
pub const FILTERED_RPKI_INVALID: u32 = 13;

/// The communities policy adds: the route server's AS and the `[rov]` settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tagging {
    /// The global administrator of every large community rovgate adds.
    pub rs_asn: u32,
    /// The `rs_asn:1000:y` values per state.
    pub tag: TagValues,
    /// Mark routes dropped as invalid with `rs_asn:1101:13`.
    pub filtered_reason: bool,
}

impl Tagging {
    /// The tagging for a route server of AS `rs_asn` with the `[rov]` defaults: the Euro-IX
    /// tags, the filtered reason attached.
    pub fn euro_ix(rs_asn: u32) -> Self {
        Tagging {
            rs_asn,
            tag: TagValues::default(),
            filtered_reason: true,
        }
    }

    /// The filtered-reason community `rs_asn:1101:code`, if those are attached.
    fn filtered(&self, code: u32) -> Option<[u32; 3]> {
        self.filtered_reason
            .then_some([self.rs_asn, FILTERED_FUNCTION, code])
    }

    fn tag(&self, state: RovState) -> [u32; 3] {
        let y = match state {
            RovState::Valid => self.tag.valid,
            RovState::NotFound => self.tag.not_found,
            RovState::Invalid => self.tag.invalid,
        };
        [self.rs_asn, TAG_FUNCTION, y]
    }
}

/// What policy makes of one path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// The path may be selected as best and exported.
    pub eligible: bool,
    /// Large communities rovgate adds (empty: the path stays as received).
    pub large: Vec<[u32; 3]>,
    /// The state to signal with the RFC 8097 extended community (tagged paths only).
    pub ext: Option<RovState>,
    /// A blackhole request taken: the next hop to send it with (RFC 7999).
    pub blackhole: Option<IpAddr>,
}

/// The decision for a path in `state` from a peer in `mode`; `held` paths (an update held
/// as a mass invalidation) are treated as shadow.
pub fn decide(mode: RovMode, state: RovState, held: bool, tagging: &Tagging) -> Decision {
    let pass = Decision {
        eligible: true,
        ..Decision::default()
    };
    match mode {
        RovMode::Accept | RovMode::Shadow => pass,
        RovMode::Tag => Decision {
            large: vec![tagging.tag(state)],
            ext: Some(state),
            ..pass
        },
        RovMode::Drop if state != RovState::Invalid || held => pass,
        RovMode::Drop => Decision {
            large: tagging
                .filtered(FILTERED_RPKI_INVALID)
                .into_iter()
                .collect(),
            ..Decision::default()
        },
    }
}

/// [`decide`] for ROV, then the import checks the path `failed` in their `checks` modes:
/// a check in `tag` adds its `rs_asn:1101:N`, one in `drop` makes the path ineligible (and
/// adds it, with `filtered_reason`); `shadow` only counts. A `blackhole` request taken (the
/// next hop it goes to) is not origin-validated, as arouteserver does: its ROV mode counts
/// as `accept`.
pub fn decide_all(
    mode: RovMode,
    checks: &CheckModes,
    (state, failed, held): (RovState, Failed, bool),
    tagging: &Tagging,
    blackhole: Option<IpAddr>,
) -> Decision {
    let mode = if blackhole.is_some() {
        RovMode::Accept
    } else {
        mode
    };
    let mut d = decide(mode, state, held, tagging);
    d.blackhole = blackhole;
    for check in failed.iter() {
        match checks.of(check) {
            RovMode::Accept | RovMode::Shadow => {}
            RovMode::Tag => d
                .large
                .push([tagging.rs_asn, FILTERED_FUNCTION, check.code()]),
            RovMode::Drop => {
                d.eligible = false;
                d.large.extend(tagging.filtered(check.code()));
            }
        }
    }
    d.large.sort_unstable();
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use RovMode::{Accept, Drop, Shadow, Tag};
    use RovState::{Invalid, NotFound, Valid};

    const TAGGING: Tagging = Tagging {
        rs_asn: 64500,
        tag: TagValues {
            valid: 1,
            not_found: 2,
            invalid: 4,
        },
        filtered_reason: true,
    };

    #[test]
    fn decisions_by_mode_and_state() {
        let pass = (true, vec![], None);
        let cases = [
            (Accept, Valid, false, pass.clone()),
            (Accept, Invalid, false, pass.clone()),
            (Shadow, NotFound, false, pass.clone()),
            (Shadow, Invalid, false, pass.clone()),
            (
                Tag,
                Valid,
                false,
                (true, vec![[64500, 1000, 1]], Some(Valid)),
            ),
            (
                Tag,
                NotFound,
                false,
                (true, vec![[64500, 1000, 2]], Some(NotFound)),
            ),
            (
                Tag,
                Invalid,
                false,
                (true, vec![[64500, 1000, 4]], Some(Invalid)),
            ),
            (Drop, Valid, false, pass.clone()),
            (Drop, NotFound, false, pass.clone()),
            (Drop, Invalid, false, (false, vec![[64500, 1101, 13]], None)),
            (Drop, Invalid, true, pass.clone()),
        ];
        for (mode, state, held, (eligible, large, ext)) in cases {
            let expected = Decision {
                eligible,
                large,
                ext,
                blackhole: None,
            };
            assert_eq!(
                decide(mode, state, held, &TAGGING),
                expected,
                "{mode} {state:?} held={held}"
            );
        }
    }

    #[test]
    fn names_round_trip() {
        let names = [
            ("accept", Accept),
            ("tag", Tag),
            ("shadow", Shadow),
            ("drop", Drop),
        ];
        assert_eq!(names.map(|(_, mode)| mode), RovMode::ALL);
        for (name, mode) in names {
            assert_eq!(
                (mode.to_string(), name.parse()),
                (name.to_string(), Ok(mode))
            );
        }
        assert_eq!(
            "strict".parse::<RovMode>().map_err(|e| e.to_string()),
            Err("expected one of accept, tag, shadow, drop, got \"strict\"".to_string())
        );
    }

    #[test]
    fn filtered_reason_can_be_switched_off() {
        let tagging = Tagging {
            filtered_reason: false,
            ..TAGGING
        };
        let d = decide(Drop, Invalid, false, &tagging);
        assert!(!d.eligible && d.large.is_empty());
    }
}
