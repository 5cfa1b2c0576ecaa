//! Who originated a route and what RPKI says about it: the [`Asn`] and the RFC 6811
//! [`RovState`], shared by the codec, the RPKI table, policy, the RIB and the reports, and
//! the Euro-IX large community functions that carry the state: policy adds them, the codec
//! strips peers' copies of them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An autonomous system number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Asn(pub u32);

impl fmt::Display for Asn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AS{}", self.0)
    }
}

impl std::str::FromStr for Asn {
    type Err = std::num::ParseIntError;

    /// Parses `64496`, `AS64496` or `as64496`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s
            .strip_prefix("AS")
            .or_else(|| s.strip_prefix("as"))
            .unwrap_or(s);
        digits.parse().map(Asn)
    }
}

/// The RFC 6811 validation state of a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum RovState {
    /// A VRP matches prefix, length and origin.
    Valid,
    /// Some VRP covers the prefix, none matches.
    Invalid,
    /// No VRP covers the prefix.
    NotFound,
}

impl fmt::Display for RovState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RovState::Valid => "valid",
            RovState::Invalid => "invalid",
            RovState::NotFound => "not-found",
        })
    }
}

/// Euro-IX "RPKI state" large community function (`rs_asn:1000:y`).
pub const TAG_FUNCTION: u32 = 1000;
/// Euro-IX "filtered reason" large community function (`rs_asn:1101:y`).
pub const FILTERED_FUNCTION: u32 = 1101;
