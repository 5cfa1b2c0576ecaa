//! Table dumps shared by the peers that come up together, the update delay, and the
//! encoding shared by the peers in step.

use std::collections::BTreeSet;
use std::time::Duration;

use super::tests::{announce, info, net, received};
use super::*;
use crate::route::Update;

/// A RIB with `n` configured peers (AS 64496 + i) and none up.
fn rib(n: u8) -> Rib {
    let infos = (0..n)
        .map(|i| info(i + 1, 64496 + u32::from(i), None))
        .collect();
    let mass = MassInvalidation::default();
    Rib::new(infos, VrpStore::new(), Tagging::euro_ix(64500), mass)
}

/// Brings `peer` up with IPv4, its channel holding `room` items.
fn up(rib: &mut Rib, peer: u32, room: usize) -> mpsc::Receiver<Outgoing> {
    let (out, rx) = mpsc::channel(room);
    let families = vec![Family::Ipv4Unicast];
    let peer = PeerId(peer);
    rib.handle(RibEvent::PeerUp {
        peer,
        families,
        add_path: vec![],
        out,
        session: Default::default(),
    });
    rx
}

/// Everything waiting in a channel, as exports.
fn drain(rx: &mut mpsc::Receiver<Outgoing>) -> Vec<Export> {
    let mut exports = Vec::new();
    while let Ok(item) = rx.try_recv() {
        exports.extend(item.into_exports());
    }
    exports
}

fn end_of_rib(update: &mut Update) {
    update.end_of_rib = Some(Family::Ipv4Unicast);
}

/// A RIB with three configured peers; peer 0 is up and announced `routes`, and was
/// sent its End-of-RIB.
fn rib_holding(routes: &[&str]) -> Rib {
    let mut rib = rib(3);
    let mut rx0 = up(&mut rib, 0, 8);
    rib.flush();
    drain(&mut rx0);
    let (peer, update) = (PeerId(0), announce(&[64496], routes));
    rib.handle(RibEvent::Update { peer, update });
    rib.flush();
    rib
}

/// `n` distinct /24s from 10.0.0.0 up.
fn prefixes(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("10.{}.{}.0/24", i / 256, i % 256))
        .collect()
}

/// Expected: two peers coming up together get the table as the same shared batches,
/// each chunk looked up once, then End-of-RIB.
#[test]
fn peers_up_together_share_one_dump() {
    let mut rib = rib_holding(&["192.0.2.0/24", "198.51.100.0/24"]);
    let (mut rx1, mut rx2) = (up(&mut rib, 1, 8), up(&mut rib, 2, 8));
    rib.flush();
    let (a, b) = (rx1.try_recv().unwrap(), rx2.try_recv().unwrap());
    match (&a, &b) {
        (Outgoing::Shared { batch: x, .. }, Outgoing::Shared { batch: y, .. }) => {
            assert!(Arc::ptr_eq(x, y), "one batch for both");
        }
        other => panic!("not shared: {other:?}"),
    }
    for (first, rx) in [(a, &mut rx1), (b, &mut rx2)] {
        let mut exports = first.into_exports();
        exports.extend(drain(rx));
        assert!(
            matches!(&exports[..], [Export::Announce(_, p), Export::EndOfRib(Family::Ipv4Unicast)] if p.len() == 2),
            "{exports:?}"
        );
    }
}

/// Expected: a peer that joins a dump nothing was sent of yet also gets the routes that
/// came in after the dump began, before the peer was up (those went out as changes to
/// the peers up then only): the dump lists the table when its first chunk goes out.
#[test]
fn a_peer_joining_a_dump_gets_the_routes_learned_since_it_began() {
    let mut rib = rib_holding(&["192.0.2.0/24"]);
    let mut first = up(&mut rib, 1, 8);
    let (peer, update) = (PeerId(0), announce(&[64496], &["198.51.100.0/24"]));
    rib.handle(RibEvent::Update { peer, update });
    let mut second = up(&mut rib, 2, 8);
    rib.flush();
    for rx in [&mut first, &mut second] {
        let (announced, _) = received(rx);
        let prefixes: BTreeSet<_> = announced.into_iter().map(|(p, _)| p).collect();
        let expected = BTreeSet::from([net("192.0.2.0/24"), net("198.51.100.0/24")]);
        assert_eq!(prefixes, expected);
    }
}

/// Expected: a member of a dump whose channel stays full for a second while another's is
/// empty goes on alone, in a dump of its own; the other is sent the whole table without
/// waiting any longer; both get every prefix once and End-of-RIB last.
#[tokio::test(start_paused = true)]
async fn a_slow_member_leaves_the_dump_and_nobody_waits_for_it() {
    let all = prefixes(3 * 4096);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let mut rib = rib_holding(&all);
    // Peer 1 can hold one chunk only; peer 2 takes all three and End-of-RIB.
    let (mut slow, mut fast) = (up(&mut rib, 1, 1), up(&mut rib, 2, 8));
    rib.flush();
    let mut got = drain(&mut fast);
    assert_eq!(got.len(), 1, "one chunk each, then the dump waits");
    rib.flush();
    assert_eq!(
        rib.next_deadline(),
        Some(Instant::now() + Duration::from_secs(1))
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    rib.tick(Instant::now());
    rib.flush();
    got.extend(drain(&mut fast));
    assert!(matches!(got.last(), Some(Export::EndOfRib(_))), "{got:?}");
    let (announced, _) = received(&mut mpsc_of(got));
    assert_eq!(announced.len(), all.len());

    let mut got = Vec::new();
    loop {
        let chunk = drain(&mut slow);
        if chunk.is_empty() {
            break;
        }
        got.extend(chunk);
        rib.flush();
    }
    assert!(matches!(got.last(), Some(Export::EndOfRib(_))), "{got:?}");
    let (announced, _) = received(&mut mpsc_of(got));
    assert_eq!(announced.len(), all.len(), "each prefix once");
    let mut unique = announced.clone();
    unique.dedup();
    assert_eq!(unique.len(), announced.len());
}

/// Expected: while every member of a dump has a full channel, nothing is due (the RIB
/// waits for a writer to wake it instead of spinning on a deadline in the past).
#[tokio::test(start_paused = true)]
async fn a_dump_whose_members_are_all_full_sets_no_deadline() {
    let all = prefixes(3 * 4096);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let mut rib = rib_holding(&all);
    let (_a, _b) = (up(&mut rib, 1, 1), up(&mut rib, 2, 1));
    rib.flush();
    assert_eq!(rib.next_deadline(), None);
    tokio::time::advance(Duration::from_secs(5)).await;
    rib.flush();
    assert_eq!(rib.next_deadline(), None);
}

/// A receiver holding these exports, for `received`.
fn mpsc_of(exports: Vec<Export>) -> mpsc::Receiver<Outgoing> {
    let (tx, rx) = mpsc::channel(1);
    tx.try_send(Outgoing::Own(exports)).unwrap();
    rx
}

/// Expected: with an update delay nothing is sent while tables come in, not even to
/// peers up all along; once every configured peer sent End-of-RIB, each gets every
/// prefix once, in its final state, then End-of-RIB; what changes after is sent at once.
#[tokio::test]
async fn the_update_delay_sends_each_prefix_once_when_every_table_is_in() {
    let mut rib = rib(2);
    rib.set_update_delay(Duration::from_secs(600));
    let (mut rx0, mut rx1) = (up(&mut rib, 0, 8), up(&mut rib, 1, 8));
    let (p0, p1) = (PeerId(0), PeerId(1));
    for hop in 1..=3 {
        let update = announce(&[64496, 65000 + hop], &["192.0.2.0/24"]);
        rib.handle(RibEvent::Update { peer: p0, update });
        rib.flush();
    }
    let mut update = Update::default();
    end_of_rib(&mut update);
    rib.handle(RibEvent::Update { peer: p0, update });
    rib.flush();
    assert!(drain(&mut rx0).is_empty() && drain(&mut rx1).is_empty());
    assert_eq!(
        rib.view().load().update_delay,
        Some(1),
        "waiting for peer 1"
    );

    let mut update = announce(&[64497], &["198.51.100.0/24"]);
    end_of_rib(&mut update);
    rib.handle(RibEvent::Update { peer: p1, update });
    rib.flush();
    assert_eq!(rib.view().load().update_delay, None);
    let got = drain(&mut rx1);
    assert!(matches!(got.last(), Some(Export::EndOfRib(_))), "{got:?}");
    assert_eq!(
        received(&mut mpsc_of(got)).0,
        vec![(net("192.0.2.0/24"), "64496 65003".to_string())]
    );
    let got = drain(&mut rx0);
    assert_eq!(
        received(&mut mpsc_of(got)).0,
        vec![(net("198.51.100.0/24"), "64497".to_string())]
    );
    // The first batch after it goes out as any other.
    let update = announce(&[64496], &["203.0.113.0/24"]);
    rib.handle(RibEvent::Update { peer: p0, update });
    rib.flush();
    assert_eq!(
        received(&mut mpsc_of(drain(&mut rx1))).0,
        vec![(net("203.0.113.0/24"), "64496".to_string())]
    );
}

/// Expected: the table is large once the RIB holds `LARGE_TABLE` paths (five peers'
/// fifths), whether or not anything was sent.
#[test]
fn the_table_is_large_at_its_number_of_paths() {
    let mut rib = rib(5);
    rib.set_update_delay(Duration::from_secs(600));
    let fifth = super::large::LARGE_TABLE as usize / 5;
    let table = prefixes(fifth);
    let table: Vec<&str> = table.iter().map(String::as_str).collect();
    let mut rx: Vec<_> = (0..5).map(|peer| up(&mut rib, peer, 8)).collect();
    for peer in 0..5 {
        assert!(!rib.large, "{} paths", peer as usize * fifth);
        let update = announce(&[64496 + peer], &table);
        rib.handle(RibEvent::Update {
            peer: PeerId(peer),
            update,
        });
        rib.flush();
    }
    assert!(rib.large);
    assert!(
        rx.iter_mut().all(|rx| drain(rx).is_empty()),
        "still delayed"
    );
}

/// Expected: a configured peer that never comes up holds the update delay only until
/// its time is up, counted from the first session.
#[tokio::test]
async fn the_update_delay_ends_when_its_time_is_up() {
    let mut rib = rib(2);
    rib.set_update_delay(Duration::from_secs(60));
    let started = Instant::now();
    let mut rx0 = up(&mut rib, 0, 8);
    rib.flush();
    rib.tick(started + Duration::from_secs(59));
    rib.flush();
    assert!(drain(&mut rx0).is_empty());
    rib.tick(started + Duration::from_secs(61));
    rib.flush();
    let got = drain(&mut rx0);
    assert!(matches!(&got[..], [Export::EndOfRib(_)]), "{got:?}");
}

/// Expected: peers in step with the same encoding share one encoding of a batch; the
/// owner of a changed best path (sent the second best) encodes its own.
#[test]
fn peers_in_step_share_one_encoding() {
    let mut rib = rib(3);
    let mut rxs: Vec<_> = (0..3).map(|i| up(&mut rib, i, 8)).collect();
    rib.flush();
    rxs.iter_mut().for_each(|rx| drop(drain(rx)));
    let update = announce(&[64496], &["192.0.2.0/24"]);
    rib.handle(RibEvent::Update {
        peer: PeerId(0),
        update,
    });
    rib.flush();
    let mut encodings = 0;
    let mut encode = |_: &[Export]| {
        encodings += 1;
        vec![bytes::Bytes::from_static(b"UPDATE")]
    };
    let mut shared = Vec::new();
    for rx in &mut rxs {
        let Ok(Outgoing::Shared {
            batch,
            peer,
            families,
        }) = rx.try_recv()
        else {
            panic!("not a shared batch");
        };
        shared.push(batch.encoded(peer, &families, 7, &mut encode));
    }
    assert!(shared[0].is_none(), "the owner sees its own view");
    let (a, b) = (shared[1].as_ref().unwrap(), shared[2].as_ref().unwrap());
    assert!(Arc::ptr_eq(a, b));
    assert_eq!(encodings, 1);
}

/// Expected: a dump of a table whose peers' prefixes interleave (an IXP's) sends each
/// peer's prefixes together, so each chunk carries one announcer's paths and every
/// other member shares its encoding; each prefix comes once.
#[test]
fn a_dump_groups_the_table_by_announcer() {
    let all = prefixes(2 * 4096);
    let mut rib = rib(3);
    let mut rxs: Vec<_> = (0..2).map(|i| up(&mut rib, i, 8)).collect();
    rib.flush();
    for (peer, asn) in [(0, 64496), (1, 64497)] {
        // Peer 0 has the even /24s, peer 1 the odd ones.
        let mine: Vec<&str> = (all.iter().skip(peer).step_by(2))
            .map(String::as_str)
            .collect();
        let update = announce(&[asn], &mine);
        rib.handle(RibEvent::Update {
            peer: PeerId(peer as u32),
            update,
        });
        rib.flush();
    }
    rxs.iter_mut().for_each(|rx| drop(drain(rx)));
    let mut rx = up(&mut rib, 2, 8);
    rib.flush();
    let mut seen = Vec::new();
    while let Ok(chunk) = rx.try_recv() {
        let (announced, _) = received(&mut mpsc_of(chunk.into_exports()));
        let mut paths: Vec<&String> = announced.iter().map(|(_, path)| path).collect();
        paths.dedup();
        assert!(paths.len() <= 1, "one announcer per chunk: {paths:?}");
        seen.extend(announced.into_iter().map(|(prefix, _)| prefix));
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), all.len());
}
