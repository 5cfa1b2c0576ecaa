//! One monitored router: its BMP stream read message by message, its neighbours kept as
//! read-only peers of the RIB.
//!
//! Where it sits: `bmp::spawn` starts one [`Router`] task per `[[bmp.router]]`; the
//! listener hands it the router's connections. Each neighbour view (pre-policy,
//! post-policy, Loc-RIB) becomes a RIB peer the first time it sends a route
//! (`RibEvent::AddPeer`, ROV in shadow: it is validated and reported, never exported); its
//! UPDATEs go to the RIB as a session's do. A Peer Down withdraws the neighbour's routes; a
//! Peer Up for a neighbour seen before replaces its peers (what it had is re-sent). When the
//! router disconnects its peers stay for `hold`, then are removed; a malformed message
//! closes the stream with a log line.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::codec::FramedRead;
use tracing::{debug, info, warn};

use super::message::{codec, Message, Neighbour, Reader, View};
use crate::bgp::wire::MAX_LEN_EXTENDED;
use crate::bgp::wire::{decode_update_faults, decode_update_paths, Caps, Faults, PathIds};
use crate::bgp::Notification;
use crate::config::{BmpRouter, Defaults, ModeLayer};
use crate::policy::RovMode;
use crate::rib::{PeerInfo, RibEvent};
use crate::route::{Asn, PathNlri, PeerId, Update};

/// What a router's task needs besides its connections.
pub struct Router {
    /// The router as configured.
    pub config: BmpRouter,
    /// The `[defaults]`: the import checks of each role's neighbours (off by default).
    pub defaults: Defaults,
    /// The RIB's inbound queue.
    pub rib: mpsc::Sender<RibEvent>,
    /// How long a disconnected router's peers stay.
    pub hold: Duration,
}

/// Why a stream ended.
enum End {
    /// The router closed it, said Termination, or the stream failed.
    Closed,
    /// rovgate shuts down.
    Shutdown,
}

/// The router's state across its connections.
struct State {
    router: Router,
    /// The RIB peer of each neighbour view.
    peers: HashMap<(Neighbour, View), PeerId>,
    /// Neighbours whose Peer Up shows ADD-PATH in use but some of whose routes came without
    /// path ids (warned once).
    no_ids: HashSet<Neighbour>,
}

/// Runs the router's task: serves each connection the listener hands it, one at a time.
pub async fn run(
    router: Router,
    mut connections: mpsc::Receiver<TcpStream>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut state = State {
        router,
        peers: HashMap::new(),
        no_ids: HashSet::new(),
    };
    loop {
        let hold = tokio::time::sleep(state.router.hold);
        let stream = tokio::select! {
            stream = connections.recv() => stream,
            () = hold, if !state.peers.is_empty() => {
                info!(router = %state.router.config.name, "BMP router gone for the hold time: removing its neighbours");
                state.remove_all().await;
                continue;
            }
            _ = shutdown.changed() => None,
        };
        let Some(stream) = stream else { return };
        info!(router = %state.router.config.name, "BMP router connected");
        if let End::Shutdown = state.serve(stream, &mut shutdown).await {
            return;
        }
    }
}

impl State {
    async fn serve(&mut self, stream: TcpStream, shutdown: &mut watch::Receiver<bool>) -> End {
        let name = self.router.config.name.clone();
        let mut frames = FramedRead::new(stream, codec());
        let mut reader = Reader::default();
        loop {
            let frame = tokio::select! {
                frame = frames.next() => frame,
                _ = shutdown.changed() => return End::Shutdown,
            };
            let result = match frame {
                None => {
                    info!(router = %name, "BMP router closed the stream");
                    return End::Closed;
                }
                Some(Err(e)) => Err(e.to_string()),
                Some(Ok(frame)) => match reader.read(&frame) {
                    Ok(message) => self.handle(message).await,
                    Err(e) => Err(e.to_string()),
                },
            };
            match result {
                Ok(true) => {}
                Ok(false) => return End::Closed,
                Err(error) => {
                    warn!(router = %name, %error, "malformed BMP message: closing the router's stream");
                    return End::Closed;
                }
            }
        }
    }

    /// Acts on one message; `Ok(false)`: the router ends the stream; `Err`: malformed.
    async fn handle(&mut self, message: Message<'_>) -> Result<bool, String> {
        let router = &self.router.config.name;
        match message {
            Message::Route {
                neighbour,
                view,
                as4,
                ids,
                update,
            } => self.route(neighbour, view, (as4, ids), update).await?,
            Message::PeerUp { neighbour } => {
                info!(%router, neighbour = %show(&neighbour), asn = neighbour.asn, "BMP peer up");
                self.forget(neighbour, true).await;
            }
            Message::PeerDown { neighbour, reason } => {
                info!(%router, neighbour = %show(&neighbour), %reason, "BMP peer down");
                self.forget(neighbour, false).await;
            }
            Message::Initiation { info } => info!(%router, %info, "BMP initiation"),
            Message::Statistics {
                neighbour,
                counters,
            } => debug!(%router, neighbour = %show(&neighbour), %counters, "BMP statistics"),
            Message::Termination { info } => {
                info!(%router, %info, "BMP termination");
                return Ok(false);
            }
            Message::Other => {}
        }
        Ok(true)
    }

    async fn route(
        &mut self,
        neighbour: Neighbour,
        view: View,
        (as4, ids): (bool, PathIds),
        update: &[u8],
    ) -> Result<(), String> {
        if view == View::AdjRibOut {
            return Ok(());
        }
        let caps = Caps {
            as4,
            max_len: MAX_LEN_EXTENDED,
            rov_ext_community: false,
            // An IPv4 route with an IPv6 next hop (RFC 8950) reaches the router only over a
            // session that negotiated it: read it rather than refuse it.
            extended_next_hop: true,
        };
        let (update, faults) = self
            .decode(neighbour, update, &caps, ids)
            .map_err(|n| format!("BGP UPDATE: {n}"))?;
        if let Some(fault) = faults.withdraw.or(faults.discard) {
            debug!(router = %self.router.config.name, neighbour = %show(&neighbour), ?fault, "BMP route's UPDATE is malformed (RFC 7606)");
        }
        if let Some(peer) = self.peer(neighbour, view).await {
            let _ = self.router.rib.send(update.event(peer)).await;
        }
        Ok(())
    }

    /// Decodes a Route Monitoring UPDATE, with the path ids of the families in `ids`: each
    /// path id of a prefix is a path of its own in the RIB (RFC 7911). An UPDATE that is
    /// malformed with them but reads without them is taken without them: FRR never writes
    /// them, whatever its OPENs say, and GoBGP leaves them out of the routes it held before
    /// the station connected.
    fn decode(
        &mut self,
        neighbour: Neighbour,
        update: &[u8],
        caps: &Caps,
        ids: PathIds,
    ) -> Result<(Decoded, Faults), Notification> {
        let plain = || decode_update_faults(update, caps).map(|(u, f)| (Decoded::Plain(u), f));
        if !ids.any() {
            return plain();
        }
        let with_ids = match decode_update_paths(update, caps, ids) {
            Ok((update, faults)) => return Ok((Decoded::Paths(update), faults)),
            Err(notification) => notification,
        };
        let decoded = plain().map_err(|_| with_ids)?;
        if self.no_ids.insert(neighbour) {
            warn!(router = %self.router.config.name, neighbour = %show(&neighbour), "BMP Peer Up shows ADD-PATH, but routes carry no path ids: reading those without");
        }
        Ok(decoded)
    }

    /// The RIB peer of a neighbour view, added on its first route (`None`: the RIB is gone,
    /// rovgate shuts down).
    async fn peer(&mut self, neighbour: Neighbour, view: View) -> Option<PeerId> {
        if let Some(&peer) = self.peers.get(&(neighbour, view)) {
            return Some(peer);
        }
        let config = &self.router.config;
        let address = neighbour.address.unwrap_or(config.address);
        let suffix = match view {
            View::PrePolicy => String::new(),
            View::PostPolicy => "/post-policy".into(),
            View::LocRib | View::AdjRibOut => "loc-rib".into(),
        };
        let shown = match view {
            View::LocRib | View::AdjRibOut => String::new(),
            _ => address.to_string(),
        };
        let name = format!("{}/{shown}{suffix}", config.name);
        let mut info = PeerInfo::new(name, address, Asn(neighbour.asn), RovMode::Shadow);
        info.enforce_first_as = false;
        info.monitored = true;
        let role = config.role_of(address);
        info.checks = (self.router.defaults).checks_for(role, &ModeLayer::default());
        let (reply, id) = oneshot::channel();
        let _ = self
            .router
            .rib
            .send(RibEvent::AddPeer { info, reply })
            .await;
        let peer = id.await.ok()?;
        self.peers.insert((neighbour, view), peer);
        Some(peer)
    }

    /// A neighbour's session went down (`up` false: its routes are withdrawn, its peers
    /// stay, shown down) or came up again (`up`: its old peers are removed, new ones are
    /// added by its routes).
    async fn forget(&mut self, neighbour: Neighbour, up: bool) {
        self.no_ids.remove(&neighbour);
        let views: Vec<_> = (self.peers.keys())
            .filter(|(n, _)| *n == neighbour)
            .copied()
            .collect();
        for key in views {
            let event = match up {
                true => self
                    .peers
                    .remove(&key)
                    .map(|peer| RibEvent::RemovePeer { peer }),
                false => self.peers.get(&key).map(|&peer| RibEvent::PeerDown {
                    peer,
                    restart: None,
                    reason: "BMP peer down".into(),
                }),
            };
            if let Some(event) = event {
                let _ = self.router.rib.send(event).await;
            }
        }
    }

    async fn remove_all(&mut self) {
        for (_, peer) in self.peers.drain() {
            let _ = self.router.rib.send(RibEvent::RemovePeer { peer }).await;
        }
        self.no_ids.clear();
    }
}

/// A Route Monitoring UPDATE, decoded with or without ADD-PATH path ids.
enum Decoded {
    Plain(Update),
    Paths(Update<PathNlri>),
}

impl Decoded {
    fn event(self, peer: PeerId) -> RibEvent {
        match self {
            Decoded::Plain(update) => RibEvent::Update { peer, update },
            Decoded::Paths(update) => RibEvent::PathUpdate { peer, update },
        }
    }
}

/// A neighbour for the log: its address, or "loc-rib".
fn show(n: &Neighbour) -> String {
    n.address.map_or("loc-rib".into(), |a| a.to_string())
}
