//! Why a route is in the report, by Euro-IX filtered-reason code (`rs_asn:1101:N`): RPKI
//! invalid (13) and each import check it fails; and per reason, what switching it to
//! `drop` would do and what the member can do.
//!
//! Where it sits: `report::build` gives every route its [`ReasonCode`]s and sums each
//! peer's routes (and every reported peer's, for the totals) into [`ReasonSummary`]s. Pure.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::InvalidRoute;
use crate::policy::{Check, Failed};

/// The code of RPKI invalid (`rs_asn:1101:13`).
pub const RPKI_INVALID: u32 = 13;
const RPKI_INVALID_NAME: &str = "rpki_invalid";
const RPKI_ADVICE: &str = "sign a ROA for the route (each route's suggestion names it), \
                           or stop announcing it";

/// One reason a route is (or would be) filtered.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReasonCode {
    /// The code N of `rs_asn:1101:N`.
    pub code: u32,
    /// Its name: `rpki_invalid`, or the check's (`bogon_prefix`, `next_hop`, ...).
    pub name: Cow<'static, str>,
}

impl ReasonCode {
    fn rpki() -> Self {
        ReasonCode {
            code: RPKI_INVALID,
            name: RPKI_INVALID_NAME.into(),
        }
    }

    fn check(check: Check) -> Self {
        ReasonCode {
            code: check.code(),
            name: check.name().into(),
        }
    }

    /// What the member can do about it.
    pub fn advice(&self) -> &'static str {
        (Check::ALL.into_iter())
            .find(|c| c.code() == self.code)
            .map_or(RPKI_ADVICE, Check::advice)
    }
}

impl fmt::Display for ReasonCode {
    /// `1101:N name`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "1101:{} {}", self.code, self.name)
    }
}

/// A route's reasons, by code: RPKI invalid (when `rpki_invalid`) and each check `failed`.
pub fn codes(rpki_invalid: bool, failed: Failed) -> Vec<ReasonCode> {
    let mut out: Vec<ReasonCode> = failed.iter().map(ReasonCode::check).collect();
    if rpki_invalid {
        out.push(ReasonCode::rpki());
    }
    out.sort();
    out
}

/// What one reason does to one peer's routes (or to every reported peer's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonSummary {
    /// The reason.
    #[serde(flatten)]
    pub reason: ReasonCode,
    /// Listed routes with this reason.
    pub routes: u64,
    /// Of those, the ones that pass now and that switching this reason to `drop` would
    /// filter (its mode is `accept` for none, `tag` or `shadow`; or ROV's is).
    pub would_drop: u64,
    /// Of those, the ones filtered now (by this reason's `drop`, or by another's).
    pub dropped: u64,
    /// Destinations (distinct prefixes) that switching this reason to `drop` would make
    /// unreachable: those of its routes not dropped yet whose destination is not
    /// reachable otherwise.
    pub unreachable: u64,
    /// "N routes would be dropped, M destinations would become unreachable".
    pub summary: String,
    /// What the member can do.
    pub advice: String,
}

/// Each reason of `routes` summed up, by code.
pub fn summaries<'a>(routes: impl IntoIterator<Item = &'a InvalidRoute>) -> Vec<ReasonSummary> {
    let mut sums: BTreeMap<&ReasonCode, (u64, u64, BTreeSet<IpNet>)> = BTreeMap::new();
    for route in routes {
        for reason in &route.reasons {
            let (would_drop, dropped, lost) = sums.entry(reason).or_default();
            match route.dropped {
                true => *dropped += 1,
                false => *would_drop += 1,
            }
            if !route.dropped && !route.reachable {
                lost.insert(route.prefix);
            }
        }
    }
    (sums.into_iter())
        .map(|(reason, (would_drop, dropped, lost))| ReasonSummary {
            reason: reason.clone(),
            routes: would_drop + dropped,
            would_drop,
            dropped,
            unreachable: lost.len() as u64,
            summary: super::sentence(would_drop, lost.len() as u64),
            advice: reason.advice().to_string(),
        })
        .collect()
}

/// The destinations RPKI-invalid routes would leave unreachable, of `reasons`.
pub fn rpki_unreachable(reasons: &[ReasonSummary]) -> u64 {
    (reasons.iter())
        .find(|r| r.reason.code == RPKI_INVALID)
        .map_or(0, |r| r.unreachable)
}
