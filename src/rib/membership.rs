//! Peers added and removed while the RIB runs (config reload, BMP-monitored neighbours).
//!
//! Where it sits: inside the RIB task; `mod.rs` calls these on `RibEvent::AddPeer` and
//! `RibEvent::RemovePeer`. A removed peer's id is never handed out again (`peers.rs` keeps
//! its slot empty), so an event or a path still naming it cannot reach another peer.

use tracing::info;

use super::view::RovCounts;
use super::{PeerInfo, Rib};
use crate::route::PeerId;

impl Rib {
    /// Configures a new peer (down until its `PeerUp`); returns its id.
    pub(super) fn add_peer(&mut self, info: PeerInfo) -> PeerId {
        info!(peer = %info.name, address = %info.address, asn = %info.asn, "peer added");
        let peer = self.peers.add(info);
        self.counts.push(RovCounts::default());
        if let Some(delay) = &mut self.delay {
            delay.add();
        }
        peer
    }

    /// Deconfigures `peer`: its paths are withdrawn from everyone now (no graceful
    /// restart), a session's exports end, and it leaves the view.
    pub(super) fn remove_peer(&mut self, peer: PeerId) {
        info!(peer = %self.peers.name(peer), "peer removed");
        self.peer_down(peer, None, "removed from the config".into());
        if let Some(hold) = &mut self.hold {
            hold.forget(peer);
        }
        self.release_empty_hold();
        if let Some(delay) = &mut self.delay {
            delay.remove(peer);
        }
        // Its withdrawals go to the others before the slot is gone.
        self.export();
        self.peers.remove(peer);
        self.counts[peer.0 as usize] = RovCounts::default();
    }
}
