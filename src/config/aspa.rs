//! ASPA verification in the config: the `aspa` key (`[defaults]`, `[defaults.role.<role>]`,
//! `[[peer]]`, the same precedence as `rov` and `checks`; default `accept`, off) is read
//! with the checks' modes (`convert/filters.rs`); here, which procedure a peer's role
//! takes.

use super::Role;
use crate::policy::AspaProcedure;

impl Role {
    /// The ASPA procedure for routes from a peer of this role
    /// (draft-ietf-sidrops-aspa-verification-28 §5.5-5.6): downstream for a transit
    /// provider (`upstream`), upstream for a customer, a lateral peer and a route-server
    /// client (routes a route server receives from its clients are verified as from a
    /// customer; the transparent route server's own AS is not in the path).
    pub fn aspa_procedure(self) -> AspaProcedure {
        match self {
            Role::Upstream => AspaProcedure::Downstream,
            Role::Customer | Role::Peer | Role::RsClient => AspaProcedure::Upstream,
        }
    }
}
