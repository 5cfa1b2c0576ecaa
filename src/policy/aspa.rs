//! ASPA verification of an AS_PATH (draft-ietf-sidrops-aspa-verification-28, the upstream
//! and downstream procedures): is the path free of route leaks as far as the published
//! ASPAs tell?
//!
//! Where it sits: one more import check ([`Check::Aspa`](super::Check::Aspa), filtered
//! reason `rs_asn:1101:16`) that [`check_path`](super::check_path) runs once per UPDATE
//! with the current snapshot's [`AspaTable`]; the peer's `aspa` mode decides what an
//! Invalid path costs, as for ROV. The route server itself is transparent: its AS is not
//! in the path and not verified. Pure.
//!
//! The path is compressed (prepends collapsed) and numbered from the origin, AS(1), to the
//! neighbour, AS(N). A hop is "up" when the lower AS's ASPA lists the upper one; the
//! up-ramp climbs from the origin, the down-ramp from the neighbour. Upstream (routes from
//! customers, lateral peers and route-server clients) wants the whole path as one up-ramp;
//! downstream (routes from a provider) allows both ramps, with at most one lateral hop
//! between their apexes. Each ramp's longest possible length (a missing ASPA counted as
//! "up") and shortest certain one (a missing ASPA counted as "not up") give Invalid,
//! Unknown or Valid.

use std::fmt;

use serde::Serialize;
use smallvec::SmallVec;

use crate::route::{AsPath, Asn, Segment};
use crate::rpki::{AspaTable, Attestation};

/// Which procedure verifies a peer's routes: set by the peer's role.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AspaProcedure {
    /// Routes from a customer, a lateral peer, or a route-server client (§5.5).
    #[default]
    Upstream,
    /// Routes from a provider (§5.6).
    Downstream,
}

/// The outcome of verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AspaState {
    /// Every hop is attested as it must be.
    Valid,
    /// A hop is attested against (a leak), or the path is malformed for ASPA.
    Invalid,
    /// Nothing is attested against, but some AS on the path has no ASPA.
    Unknown,
}

/// Why a path is Invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AspaReason {
    /// The AS_PATH is empty.
    Empty,
    /// The most recently added AS is not the neighbour's.
    Neighbor(Asn),
    /// The AS_PATH holds an AS_SET.
    AsSet,
    /// These hops (customer, provider) are attested "Not Provider+": the customer has an
    /// ASPA that does not list the provider. The up-ramp's first, then the down-ramp's.
    Hops(Vec<(Asn, Asn)>),
}

impl fmt::Display for AspaReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AspaReason::Empty => f.write_str("the AS_PATH is empty"),
            AspaReason::Neighbor(asn) => write!(f, "the AS_PATH does not start with {asn}"),
            AspaReason::AsSet => f.write_str("the AS_PATH holds an AS_SET"),
            AspaReason::Hops(hops) => {
                let each = hops.iter().map(|(customer, provider)| {
                    format!("{customer} has an ASPA that does not list {provider} as a provider")
                });
                f.write_str(&each.collect::<Vec<_>>().join("; "))
            }
        }
    }
}

/// A verification's outcome and, for Invalid, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AspaVerdict {
    /// Valid, Invalid or Unknown.
    pub state: AspaState,
    /// Why it is Invalid (none otherwise).
    pub reason: Option<AspaReason>,
}

impl AspaVerdict {
    fn invalid(reason: AspaReason) -> Self {
        AspaVerdict {
            state: AspaState::Invalid,
            reason: Some(reason),
        }
    }
}

/// Verifies `path`, received from the neighbour of AS `neighbor`, by `procedure`.
pub fn verify(
    table: &AspaTable,
    path: &AsPath,
    neighbor: Asn,
    procedure: AspaProcedure,
) -> AspaVerdict {
    let Some(asns) = compressed(path) else {
        return AspaVerdict::invalid(AspaReason::AsSet);
    };
    match asns.last() {
        None => return AspaVerdict::invalid(AspaReason::Empty),
        Some(&first) if first != neighbor.0 => {
            return AspaVerdict::invalid(AspaReason::Neighbor(neighbor))
        }
        Some(_) => {}
    }
    let n = asns.len();
    let up = ramp(table, asns.windows(2).map(|w| (w[0], w[1])), n);
    let down = match procedure {
        AspaProcedure::Upstream => Ramp::default(),
        AspaProcedure::Downstream => ramp(table, asns.windows(2).rev().map(|w| (w[1], w[0])), n),
    };
    if up.max + down.max < n {
        let hops = [up.broken, down.broken].into_iter().flatten();
        return AspaVerdict::invalid(AspaReason::Hops(hops.collect()));
    }
    let state = match up.min + down.min < n {
        true => AspaState::Unknown,
        false => AspaState::Valid,
    };
    AspaVerdict {
        state,
        reason: None,
    }
}

/// The AS_PATH's ASNs from the origin to the neighbour, consecutive repeats collapsed;
/// `None` when it holds an AS_SET (or AS_CONFED_SET). Confederation sequences are not
/// counted (they never cross to an outside peer).
fn compressed(path: &AsPath) -> Option<SmallVec<[u32; 16]>> {
    let mut out: SmallVec<[u32; 16]> = SmallVec::new();
    for segment in path.0.iter().rev() {
        match segment {
            Segment::Sequence(asns) => {
                for &asn in asns.iter().rev() {
                    if out.last() != Some(&asn) {
                        out.push(asn);
                    }
                }
            }
            Segment::Set(_) | Segment::ConfedSet(_) => return None,
            Segment::ConfedSequence(_) => {}
        }
    }
    Some(out)
}

/// One ramp's bounds: its longest possible length, its certain length, and the first hop
/// attested against (customer, provider).
#[derive(Default)]
struct Ramp {
    max: usize,
    min: usize,
    broken: Option<(Asn, Asn)>,
}

/// Climbs `hops` (customer, provider), in order from the ramp's foot, along a path of `n`.
fn ramp(table: &AspaTable, hops: impl Iterator<Item = (u32, u32)>, n: usize) -> Ramp {
    let mut r = Ramp {
        max: n,
        min: n,
        broken: None,
    };
    for (i, (customer, provider)) in hops.enumerate() {
        match table.authorized(Asn(customer), Asn(provider)) {
            Attestation::ProviderPlus => continue,
            Attestation::NoAttestation => r.min = r.min.min(i + 1),
            Attestation::NotProviderPlus => {
                r.min = r.min.min(i + 1);
                r.max = i + 1;
                r.broken = Some((Asn(customer), Asn(provider)));
                return r;
            }
        }
    }
    r
}

#[cfg(test)]
#[path = "aspa_tests.rs"]
mod tests;
