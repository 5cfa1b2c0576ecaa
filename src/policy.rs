//! ROV policy: what a peer's `rov` mode does with a route of a given RPKI state.
//!
//! Where it sits: the RIB task (`rib/`) asks [`decide`] for every path it stores or
//! re-evaluates; the answer says whether the path may be selected and exported and which
//! communities rovgate adds to it. Pure: no I/O, table-driven tests below.
//!
//! | mode   | valid / not-found | invalid                                              |
//! |--------|-------------------|------------------------------------------------------|
//! | accept | pass              | pass                                                 |
//! | shadow | pass              | pass, counted as *would be dropped*                  |
//! | tag    | pass + `rs:1000:y`| pass + `rs:1000:y` (+ RFC 8097 to peers that want it)|
//! | drop   | pass              | not eligible, kept in Adj-RIB-In, `rs:1101:13` mark  |
//!
//! A *held* path (a mass invalidation waiting for an operator) is treated as shadow.

use crate::config::{RovConfig, RovPolicy, TagValues};
use crate::route::RovState;

/// Euro-IX "RPKI state" large community function (`rs_asn:1000:y`).
pub const TAG_FUNCTION: u32 = 1000;
/// Euro-IX "filtered reason" large community function (`rs_asn:1101:y`).
pub const FILTERED_FUNCTION: u32 = 1101;
/// Filtered reason: RPKI invalid (`rs_asn:1101:13`).
pub const FILTERED_RPKI_INVALID: u32 = 13;

/// The communities policy adds: the route server's AS and the `[rov]` settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marking {
    /// The global administrator of every large community rovgate adds.
    pub rs_asn: u32,
    /// The `rs_asn:1000:y` values per state.
    pub tag: TagValues,
    /// Mark routes dropped as invalid with `rs_asn:1101:13`.
    pub filtered_reason: bool,
}

impl Marking {
    /// The marking for a route server of AS `rs_asn` with these `[rov]` settings.
    pub fn new(rs_asn: u32, rov: &RovConfig) -> Self {
        Marking {
            rs_asn,
            tag: rov.tag,
            filtered_reason: rov.filtered_reason,
        }
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
}

/// The decision for a path in `state` from a peer in `mode`; `held` paths (an update held
/// as a mass invalidation) are treated as shadow.
pub fn decide(mode: RovPolicy, state: RovState, held: bool, marking: &Marking) -> Decision {
    let pass = Decision {
        eligible: true,
        ..Decision::default()
    };
    match mode {
        RovPolicy::Accept | RovPolicy::Shadow => pass,
        RovPolicy::Tag => Decision {
            eligible: true,
            large: vec![marking.tag(state)],
            ext: Some(state),
        },
        RovPolicy::Drop if state != RovState::Invalid || held => pass,
        RovPolicy::Drop => Decision {
            eligible: false,
            large: marking
                .filtered_reason
                .then_some(vec![[
                    marking.rs_asn,
                    FILTERED_FUNCTION,
                    FILTERED_RPKI_INVALID,
                ]])
                .unwrap_or_default(),
            ext: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RovPolicy::{Accept, Drop, Shadow, Tag};
    use RovState::{Invalid, NotFound, Valid};

    const MARKING: Marking = Marking {
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
            };
            assert_eq!(
                decide(mode, state, held, &MARKING),
                expected,
                "{mode} {state:?} held={held}"
            );
        }
    }

    #[test]
    fn filtered_reason_can_be_switched_off() {
        let marking = Marking {
            filtered_reason: false,
            ..MARKING
        };
        let d = decide(Drop, Invalid, false, &marking);
        assert!(!d.eligible && d.large.is_empty());
    }
}
