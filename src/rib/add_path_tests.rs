//! ADD-PATH export through `Rib::handle`/`flush`: an ADD-PATH peer is sent every path it
//! may have, each under its source peer's id, and loses exactly the path that goes.

use super::super::tests::{announce, attrs, info, net, withdraw};
use super::*;
use crate::policy::Tagging;
use crate::rib::{MassInvalidation, Outgoing, RibEvent};
use crate::route::{Actions, Update};
use crate::rpki::VrpStore;
use tokio::sync::mpsc;

/// Paths announced (id, prefix, AS_PATH) and withdrawn (id, prefix), in order of arrival;
/// plain announcements count with id `None`.
type Seen = (Vec<(Option<u32>, IpNet, String)>, Vec<(Option<u32>, IpNet)>);

fn seen(rx: &mut mpsc::Receiver<Outgoing>) -> Seen {
    let (mut ann, mut wd) = (Vec::new(), Vec::new());
    while let Ok(out) = rx.try_recv() {
        for e in out.into_exports() {
            match e {
                Export::AnnouncePaths(a, ps) => ann.extend(
                    (ps.into_iter()).map(|p| (Some(p.id), p.prefix, a.as_path.to_string())),
                ),
                Export::Announce(a, ps) => {
                    ann.extend(ps.into_iter().map(|p| (None, p, a.as_path.to_string())))
                }
                Export::WithdrawPaths(ps) => {
                    wd.extend(ps.into_iter().map(|p| (Some(p.id), p.prefix)))
                }
                Export::Withdraw(ps) => wd.extend(ps.into_iter().map(|p| (None, p))),
                _ => {}
            }
        }
    }
    ann.sort();
    (ann, wd)
}

/// Peers 0 to 3 (AS 64496 + n), up for IPv4 and IPv6; peer 2 with ADD-PATH for
/// `add_path`.
fn rib4(add_path: &[Family]) -> (Rib, Vec<mpsc::Receiver<Outgoing>>) {
    let infos = (0..4)
        .map(|i| info(i + 1, 64496 + u32::from(i), None))
        .collect();
    let tagging = Tagging::euro_ix(64500);
    let mut rib = Rib::new(infos, VrpStore::new(), tagging, MassInvalidation::default());
    let rxs = (0..4)
        .map(|i| up(&mut rib, i, if i == 2 { add_path } else { &[] }))
        .collect();
    rib.flush();
    (rib, rxs)
}

fn up(rib: &mut Rib, peer: u32, add_path: &[Family]) -> mpsc::Receiver<Outgoing> {
    let (out, rx) = mpsc::channel(16);
    rib.handle(RibEvent::PeerUp {
        peer: PeerId(peer),
        families: Family::ALL.to_vec(),
        add_path: add_path.to_vec(),
        out,
        session: Default::default(),
    });
    rx
}

fn send(rib: &mut Rib, peer: u32, update: Update) {
    rib.handle(RibEvent::Update {
        peer: PeerId(peer),
        update,
    });
    rib.flush();
}

/// Expected: the ADD-PATH peer (2) gets peers 0's and 1's paths under ids 0 and 1, never
/// its own; a plain peer (3) gets the best alone; a withdrawal takes exactly that path
/// away; a path whose action community keeps it from AS 64498 is withdrawn from peer 2
/// only; a peer 2 that comes up again is dumped every path it may have.
#[test]
fn an_add_path_peer_gets_every_path_it_may_have() {
    let (mut rib, mut rx) = rib4(&Family::ALL);
    rx.iter_mut().for_each(|rx| drop(seen(rx)));
    let p = net("192.0.2.0/24");
    send(&mut rib, 0, announce(&[64496], &["192.0.2.0/24"]));
    send(&mut rib, 1, announce(&[64497, 65001], &["192.0.2.0/24"]));
    send(&mut rib, 2, announce(&[64498], &["192.0.2.0/24"]));
    let both = vec![
        (Some(0), p, "64496".to_string()),
        (Some(1), p, "64497 65001".to_string()),
    ];
    assert_eq!(seen(&mut rx[2]), (both.clone(), vec![]));
    assert_eq!(seen(&mut rx[3]), (vec![(None, p, "64496".into())], vec![]));

    send(&mut rib, 0, withdraw(&["192.0.2.0/24"]));
    assert_eq!(seen(&mut rx[2]), (vec![], vec![(Some(0), p)]));
    // The plain peer gets the next best: peer 2's own path (shorter than peer 1's).
    assert_eq!(seen(&mut rx[3]), (vec![(None, p, "64498".into())], vec![]));

    let mut kept = announce(&[64497, 65001], &["192.0.2.0/24"]);
    let not_to_2 = Actions::read(64500, [], [[64500, 0, 64498]]).map(Box::new);
    kept.announced[0].0.actions = not_to_2;
    send(&mut rib, 1, kept);
    assert_eq!(seen(&mut rx[2]), (vec![], vec![(Some(1), p)]));

    send(&mut rib, 0, announce(&[64496], &["192.0.2.0/24"]));
    rib.handle(RibEvent::PeerDown {
        peer: PeerId(2),
        restart: None,
        reason: "test".into(),
    });
    rib.flush();
    let mut again = up(&mut rib, 2, &Family::ALL);
    rib.flush();
    let only_0 = vec![(Some(0), p, "64496".to_string())];
    assert_eq!(seen(&mut again), (only_0, vec![]));
}

/// Expected: a changed path of the ADD-PATH peer is re-announced under the same id, with
/// no withdrawal; unchanged paths are not sent again.
#[test]
fn a_changed_path_keeps_its_id() {
    let (mut rib, mut rx) = rib4(&Family::ALL);
    rx.iter_mut().for_each(|rx| drop(seen(rx)));
    let p = net("198.51.100.0/24");
    send(&mut rib, 0, announce(&[64496], &["198.51.100.0/24"]));
    send(&mut rib, 1, announce(&[64497], &["198.51.100.0/24"]));
    drop(seen(&mut rx[2]));
    let mut changed = announce(&[64497], &["198.51.100.0/24"]);
    changed.announced[0].0 = attrs(&[64497, 65002], 9);
    send(&mut rib, 1, changed);
    let got = seen(&mut rx[2]);
    assert_eq!(got, (vec![(Some(1), p, "64497 65002".into())], vec![]));
}

/// Expected: a peer with ADD-PATH for IPv4 only (RFC 7911 negotiates per family) gets
/// every IPv4 path under its source's id and only the best IPv6 path, without an id; a
/// withdrawal reaches each family its way; its table dump after coming up again does the
/// same and ends each family with End-of-RIB.
#[test]
fn add_path_for_some_families_sends_the_best_path_of_the_others() {
    let (mut rib, mut rx) = rib4(&[Family::Ipv4Unicast]);
    rx.iter_mut().for_each(|rx| drop(seen(rx)));
    let (v4, v6) = (net("192.0.2.0/24"), net("2001:db8::/32"));
    let both = ["192.0.2.0/24", "2001:db8::/32"];
    send(&mut rib, 0, announce(&[64496], &both));
    send(&mut rib, 1, announce(&[64497, 65001], &both));
    let every_v4_best_v6 = vec![
        (None, v6, "64496".to_string()),
        (Some(0), v4, "64496".to_string()),
        (Some(1), v4, "64497 65001".to_string()),
    ];
    assert_eq!(seen(&mut rx[2]), (every_v4_best_v6.clone(), vec![]));

    rib.handle(RibEvent::PeerDown {
        peer: PeerId(2),
        restart: None,
        reason: "test".into(),
    });
    rib.flush();
    let mut again = up(&mut rib, 2, &[Family::Ipv4Unicast]);
    rib.flush();
    let exports: Vec<Export> = std::iter::from_fn(|| again.try_recv().ok())
        .flat_map(Outgoing::into_exports)
        .collect();
    for family in Family::ALL {
        let eor = exports
            .iter()
            .filter(|e| matches!(e, Export::EndOfRib(f) if *f == family));
        assert_eq!(eor.count(), 1, "End-of-RIB for {family:?} in {exports:?}");
    }
    let (out, rx2) = mpsc::channel(16);
    out.try_send(Outgoing::Own(exports)).unwrap();
    let mut rx2 = rx2;
    assert_eq!(seen(&mut rx2), (every_v4_best_v6, vec![]));

    send(&mut rib, 0, withdraw(&both));
    let next_best_v6 = vec![(None, v6, "64497 65001".to_string())];
    assert_eq!(seen(&mut again), (next_best_v6, vec![(Some(0), v4)]));
}
