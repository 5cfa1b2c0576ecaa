//! Why a route is RPKI-invalid and what its origin can do about it.
//!
//! Where it sits: `report::build` calls [`explain`] with the [`Verdict`] of each invalid
//! route; the reason and suggestion go into the report as they are. Pure, no I/O.

use std::fmt;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::route::{Asn, RovState};
use crate::rpki::{Verdict, Vrp};

/// Why a route is invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// No covering VRP has the route's origin AS, or the origin is an AS_SET (or AS0).
    OriginAs,
    /// A covering VRP has the origin AS, but the route is longer than its maxLength.
    MaxLength,
    /// The route is not invalid under the report's VRPs (the RIB had not re-evaluated it).
    NotInvalid,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::OriginAs => "origin-as",
            Reason::MaxLength => "max-length",
            Reason::NotInvalid => "not-invalid",
        })
    }
}

/// A reason with the fix that goes with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Explanation {
    pub reason: Reason,
    pub suggestion: String,
    /// The ROA that would make the route valid.
    pub suggested_roa: Option<Vrp>,
    /// The existing ROA whose maxLength, raised to the route's length, would.
    pub raise_roa: Option<Vrp>,
}

/// Explains the verdict of `prefix` announced by `origin` (`None`: an AS_SET).
pub(super) fn explain(prefix: &IpNet, origin: Option<Asn>, verdict: &Verdict) -> Explanation {
    let mut out = Explanation {
        reason: Reason::OriginAs,
        suggestion: String::new(),
        suggested_roa: None,
        raise_roa: None,
    };
    if verdict.state != RovState::Invalid {
        out.reason = Reason::NotInvalid;
        out.suggestion = format!("nothing to fix: the route is {} now", verdict.state);
        return out;
    }
    let asn = match origin {
        None => {
            out.suggestion = "announce without AS_SET (RFC 6472)".to_string();
            return out;
        }
        Some(Asn(0)) => {
            out.suggestion =
                "announce with the real origin AS: AS0 is never a valid origin (RFC 7607)".into();
            return out;
        }
        Some(asn) => asn,
    };
    let len = prefix.prefix_len();
    let roa = Vrp {
        prefix: *prefix,
        max_length: len,
        asn,
    };
    out.suggested_roa = Some(roa);
    // The most specific ROA of the origin AS: raising its maxLength opens the least space.
    let raise = (verdict.bad_length.iter())
        .max_by_key(|v| (v.prefix.prefix_len(), v.max_length))
        .copied();
    match raise {
        Some(old) => {
            out.reason = Reason::MaxLength;
            out.raise_roa = Some(old);
            out.suggestion = format!(
                "raise maxLength of the ROA {} {asn} to {len}, or add a ROA {prefix} \
                 maxLength {len} {asn}",
                old.prefix
            );
        }
        None => {
            out.suggestion = format!(
                "if {asn} may originate {prefix}, add a ROA {prefix} maxLength {len} {asn}; \
                 otherwise this announcement is a hijack or a leak"
            );
        }
    }
    out
}
