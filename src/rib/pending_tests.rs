//! The export path with a peer that does not take what it is sent: the RIB goes on for the
//! others, keeps what the stuck peer still needs as pending state, and sends it each
//! prefix once, in its final state, when it pulls again.

use super::tests::{announce, info, net, received, withdraw};
use super::*;
use ipnet::IpNet;

/// Peers 0 and 1 read what they are sent; peer 2's channel holds one chunk and nobody
/// reads it after the first (its End-of-RIB).
fn rib_with_a_stuck_peer() -> (Rib, Vec<mpsc::Receiver<Outgoing>>) {
    let infos = vec![
        info(1, 64496, None),
        info(2, 64497, None),
        info(3, 64498, None),
    ];
    let mass = MassInvalidation::default();
    let mut rib = Rib::new(infos, VrpStore::new(), Tagging::euro_ix(64500), mass);
    let mut rxs = Vec::new();
    for (i, room) in [16, 16, 1].into_iter().enumerate() {
        let (out, rx) = mpsc::channel(room);
        let families = vec![Family::Ipv4Unicast];
        rib.handle(RibEvent::PeerUp {
            peer: PeerId(i as u32),
            families,
            add_path: vec![],
            out,
            session: Default::default(),
        });
        rxs.push(rx);
    }
    rib.flush();
    (rib, rxs)
}

fn pending(rib: &Rib, peer: usize) -> usize {
    rib.view().load().peers[peer].pending
}

/// Expected: while peer 2 takes nothing, peer 1 gets every change at once; a prefix that
/// changes five times and one announced and withdrawn meanwhile wait for peer 2 as two
/// pending prefixes; when peer 2 takes its chunk, it is sent the first prefix once, with
/// its last path, and nothing of the second.
#[test]
fn a_stuck_peer_gets_only_the_final_state_when_it_pulls_again() {
    let (mut rib, mut rx) = rib_with_a_stuck_peer();
    received(&mut rx[1]);
    for hop in 1..=5 {
        rib.handle(RibEvent::Update {
            peer: PeerId(0),
            update: announce(&[64496, 65000 + hop], &["192.0.2.0/24"]),
        });
        rib.flush();
        let (announced, _) = received(&mut rx[1]);
        let path = format!("64496 {}", 65000 + hop);
        assert_eq!(announced, vec![(net("192.0.2.0/24"), path)]);
    }
    for update in [
        announce(&[64496], &["198.51.100.0/24"]),
        withdraw(&["198.51.100.0/24"]),
    ] {
        let peer = PeerId(0);
        rib.handle(RibEvent::Update { peer, update });
        rib.flush();
    }
    assert_eq!((pending(&rib, 1), pending(&rib, 2)), (0, 2));

    // Peer 2 takes its End-of-RIB; its writer would wake the RIB, which sends the rest.
    let first = rx[2].try_recv().unwrap().into_exports();
    assert!(
        matches!(first[..], [Export::EndOfRib(Family::Ipv4Unicast)]),
        "{first:?}"
    );
    rib.send_ready();
    let (announced, withdrawn) = received(&mut rx[2]);
    assert_eq!(
        announced,
        vec![(net("192.0.2.0/24"), "64496 65005".to_string())]
    );
    assert_eq!(withdrawn, vec![]);
    rib.flush();
    assert_eq!(pending(&rib, 2), 0);
}

/// Expected: a peer that asks for a ROUTE-REFRESH is sent BoRR, every route again, though
/// it holds them already, then EoRR (RFC 7313 §4).
#[test]
fn a_refresh_sends_everything_again() {
    let (mut rib, mut rx) = rib_with_a_stuck_peer();
    rib.handle(RibEvent::Update {
        peer: PeerId(0),
        update: announce(&[64496], &["192.0.2.0/24", "198.51.100.0/24"]),
    });
    rib.flush();
    received(&mut rx[1]);
    let family = Family::Ipv4Unicast;
    rib.handle(RibEvent::Refresh {
        peer: PeerId(1),
        family,
    });
    rib.flush();
    let chunk = rx[1].try_recv().unwrap().into_exports();
    assert!(
        matches!(&chunk[..], [Export::BeginRefresh(b), Export::Announce(_, p), Export::EndOfRefresh(e)] if p.len() == 2 && *b == family && *e == family),
        "{chunk:?}"
    );
}

/// Expected: a stuck peer that asks for a ROUTE-REFRESH while a change waits for it gets
/// BoRR first and the waiting prefix after it, with the others, then EoRR: a route sent
/// before BoRR would be set stale by the peer and purged at EoRR.
#[test]
fn a_refresh_sends_waiting_prefixes_after_borr() {
    let (mut rib, mut rx) = rib_with_a_stuck_peer();
    rib.handle(RibEvent::Update {
        peer: PeerId(0),
        update: announce(&[64496], &["192.0.2.0/24"]),
    });
    rib.flush();
    assert_eq!(pending(&rib, 2), 1);
    rib.handle(RibEvent::Update {
        peer: PeerId(1),
        update: announce(&[64497], &["198.51.100.0/24"]),
    });
    let family = Family::Ipv4Unicast;
    rib.handle(RibEvent::Refresh {
        peer: PeerId(2),
        family,
    });
    rib.flush();
    let first = rx[2].try_recv().unwrap().into_exports();
    assert!(matches!(first[..], [Export::EndOfRib(_)]), "{first:?}");
    rib.send_ready();
    let chunk = rx[2].try_recv().unwrap().into_exports();
    let prefixes = |e: &Export| match e {
        Export::Announce(_, p) => p.clone(),
        _ => vec![],
    };
    assert!(
        matches!(chunk.first(), Some(Export::BeginRefresh(f)) if *f == family),
        "{chunk:?}"
    );
    assert!(
        matches!(chunk.last(), Some(Export::EndOfRefresh(f)) if *f == family),
        "{chunk:?}"
    );
    let mut sent: Vec<IpNet> = chunk.iter().flat_map(prefixes).collect();
    sent.sort();
    assert_eq!(
        sent,
        [net("192.0.2.0/24"), net("198.51.100.0/24")],
        "{chunk:?}"
    );
    assert_eq!(
        chunk.len(),
        4,
        "BoRR, one announcement per path, EoRR: {chunk:?}"
    );
}
