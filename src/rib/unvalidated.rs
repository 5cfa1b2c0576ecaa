//! No unvalidated routes at startup: while the first complete VRP set is not in, the routes
//! of peers in `drop` are stored and validated but not exported.
//!
//! Where it sits: the daemon calls [`Rib::wait_for_vrps`] before sessions come up when the
//! rpki task's status is not complete; [`shape`](super::shape) keeps drop peers' paths
//! ineligible while [`VrpWait::holds`]. The rpki task says once that the set is complete
//! (`VrpsChanged::complete`); the RIB then finishes re-evaluating against it and only then
//! re-shapes the drop peers' routes, so an invalid route is never exported in between.

use tracing::info;

use super::Rib;
use crate::policy::RovMode;
use crate::route::PeerId;

/// Where the wait for the first complete VRP set stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum VrpWait {
    /// Not waiting: every peer's routes are exported by its mode.
    #[default]
    Off,
    /// Waiting for the rpki task to say the set is complete.
    Waiting,
    /// The set is complete; waiting for the re-evaluation against it to finish.
    Validating,
}

impl VrpWait {
    /// Whether drop peers' routes are held back.
    pub fn holds(self) -> bool {
        self != VrpWait::Off
    }
}

impl Rib {
    /// Exports no route of a peer in `drop` until the VRP set is complete (every source
    /// answered once, or `[rpki] startup_wait` passed) and the routes are validated against
    /// it; call before any session is up.
    pub fn wait_for_vrps(&mut self) {
        self.wait = VrpWait::Waiting;
        self.publish_view();
    }

    /// The rpki task says the VRP set is complete.
    pub(super) fn vrps_complete(&mut self) {
        if self.wait == VrpWait::Waiting {
            self.wait = VrpWait::Validating;
        }
        self.release_when_validated();
    }

    /// Once the set is complete and no re-evaluation is left, exports drop peers' routes
    /// by their verdicts.
    pub(super) fn release_when_validated(&mut self) {
        if self.wait != VrpWait::Validating || self.reevaluating() {
            return;
        }
        self.wait = VrpWait::Off;
        info!("the VRP set is complete and routes are validated: exporting the routes of peers in drop");
        for peer in (0..self.counts.len() as u32).map(PeerId) {
            if self.peers.rov(peer) == RovMode::Drop {
                self.reshape_peer(Some(peer), false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::rov_tests::{vrp, Lab, NO_HOLD};
    use crate::policy::RovMode;
    use crate::rib::tests::net;
    use crate::rpki::VrpsChanged;

    /// A drop peer's routes, invalid or not, reach nobody before the VRP set is complete;
    /// once it is, the valid and not-found ones do and the invalid one does not. An accept
    /// peer's routes pass all along.
    #[tokio::test]
    async fn drop_peers_wait_for_the_first_complete_vrp_set() {
        let mut lab = Lab::new(RovMode::Drop, &[], NO_HOLD).await;
        lab.rib.wait_for_vrps();
        lab.announce(0, &[64496, 65002], &["192.0.2.0/24", "198.51.100.0/24"])
            .await;
        lab.announce(1, &[64497], &["203.0.113.0/24"]).await;
        let (announced, _) = lab.routes(2);
        let prefixes: Vec<_> = announced.into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            prefixes,
            vec![net("203.0.113.0/24")],
            "only the accept peer's"
        );
        assert!(lab.rib.view().load().waiting_for_vrps);

        lab.change_vrps(vec![vrp("192.0.2.0/24", 24, 65001)], vec![])
            .await;
        let (announced, _) = lab.routes(2);
        let prefixes: Vec<_> = announced.into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            prefixes,
            vec![net("198.51.100.0/24")],
            "not the invalid one"
        );
        assert!(!lab.rib.view().load().waiting_for_vrps);
    }

    /// `startup_wait` passed with no VRPs at all: the notice carries no prefixes, and the
    /// drop peer's routes go out unvalidated (fail open), as after any later loss of VRPs.
    #[tokio::test]
    async fn a_complete_notice_without_vrps_releases_the_routes() {
        let mut lab = Lab::new(RovMode::Drop, &[], NO_HOLD).await;
        lab.rib.wait_for_vrps();
        lab.announce(0, &[64496, 65002], &["192.0.2.0/24"]).await;
        assert_eq!(lab.routes(1).0, vec![]);
        let notice = VrpsChanged {
            serial: 1,
            prefixes: vec![],
            first: false,
            complete: true,
            aspas: false,
        };
        lab.rib.vrps_changed(notice);
        lab.rib.flush();
        assert_eq!(lab.routes(1).0, vec![(net("192.0.2.0/24"), vec![])]);
    }
}
