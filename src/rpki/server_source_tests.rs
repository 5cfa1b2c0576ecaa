//! The served set and its deltas: what a client at any serial in the history is sent
//! brings it to exactly the current set; older serials and other sessions get `None`
//! (Cache Reset).

use std::collections::BTreeSet;

use super::*;
use crate::route::Asn;

fn vrp(i: u32) -> Vrp {
    Vrp::new(
        format!("10.{}.{}.0/24", i / 256, i % 256).parse().unwrap(),
        24,
        Asn(i),
    )
    .unwrap()
}

fn vrps(range: std::ops::Range<u32>) -> Vec<Vrp> {
    range.map(vrp).collect()
}

fn aspa(customer: u32, providers: &[u32]) -> Aspa {
    Aspa {
        customer: Asn(customer),
        providers: providers.iter().map(|&p| Asn(p)).collect(),
    }
}

/// What a client holding `have` (VRPs by ASN, ASPAs by customer) holds after `iter`.
fn apply(have: &mut BTreeSet<u32>, aspas: &mut BTreeSet<(u32, Vec<u32>)>, mut iter: DiffIter) {
    while let Some((payload, action)) = iter.next() {
        match payload {
            PayloadRef::Origin(o) => {
                let asn = o.asn.into_u32();
                match action {
                    Action::Announce => assert!(have.insert(asn), "announced twice: {asn}"),
                    Action::Withdraw => assert!(have.remove(&asn), "withdrew unknown {asn}"),
                }
            }
            PayloadRef::Aspa(a) => {
                let customer = a.customer.into_u32();
                aspas.retain(|(c, _)| *c != customer);
                if action == Action::Announce {
                    let providers = a.providers.iter().map(|p| p.into_u32()).collect();
                    aspas.insert((customer, providers));
                }
            }
            PayloadRef::RouterKey(_) => unreachable!(),
        }
    }
}

fn asns(vrps: &[Vrp]) -> BTreeSet<u32> {
    vrps.iter().map(|v| v.asn.0).collect()
}

/// States: {0..10}, {0..12} (2 added), {2..12} (2 withdrawn), {2..12} + ASPA 1,
/// {3..12, 20} + ASPA 1 changed. A client at any of them gets exactly the last set.
#[test]
fn a_client_at_any_serial_in_the_history_reaches_the_current_set() {
    let steps: Vec<(Vec<Vrp>, Vec<Aspa>)> = vec![
        (vrps(0..10), vec![]),
        (vrps(0..12), vec![]),
        (vrps(2..12), vec![]),
        (vrps(2..12), vec![aspa(1, &[64500])]),
        (
            [vrps(3..12), vec![vrp(20)]].concat(),
            vec![aspa(1, &[64501, 64502])],
        ),
    ];
    let mut states = vec![Arc::new(Served::new())];
    for (v, a) in &steps {
        let next = states.last().unwrap().next(v.clone(), a).expect("a change");
        states.push(Arc::new(next));
    }
    let last = states.last().unwrap().clone();
    assert!(
        last.next(steps[4].0.clone(), &steps[4].1).is_none(),
        "no change: no serial"
    );
    for (i, state) in states.iter().enumerate() {
        let mut have = asns(&state.vrps);
        let mut aspas: BTreeSet<(u32, Vec<u32>)> = BTreeSet::new();
        match i {
            4 => aspas.insert((1, vec![64500])),
            5 => aspas.insert((1, vec![64501, 64502])),
            _ => false,
        };
        let diff = last
            .diff_from(state.state.serial())
            .expect("in the history");
        apply(&mut have, &mut aspas, diff);
        assert_eq!(have, asns(&last.vrps), "from state {i}");
        assert_eq!(aspas, [(1, vec![64501, 64502])].into(), "from state {i}");
    }
}

/// A serial older than the history, or never served, gets `None` (Cache Reset).
#[test]
fn a_serial_behind_the_history_gets_no_diff() {
    let mut state = Served::new();
    let first = state.state.serial();
    for i in 0..(HISTORY as u32 + 2) {
        state = state.next(vrps(0..(i + 1)), &[]).unwrap();
    }
    assert!(state.diff_from(first).is_none());
    assert!(state.diff_from(state.state.serial().add(5)).is_none());
    assert_eq!(state.history.len(), HISTORY);
}

/// The full set lists every VRP and then every ASPA.
#[test]
fn the_full_set_lists_vrps_then_aspas() {
    let state = Served::new().next(vrps(0..3), &[aspa(7, &[1])]).unwrap();
    let served = Arc::new(ArcSwap::from_pointee(state));
    let timing = Timing::default();
    let source = RtrSource::new(served, VrpStore::new(), timing);
    let (_, mut set) = source.full();
    let mut got = Vec::new();
    while let Some(p) = set.next() {
        got.push(match p {
            PayloadRef::Origin(o) => format!("{} {}", o.prefix.prefix(), o.asn),
            PayloadRef::Aspa(a) => format!("aspa {}", a.customer),
            PayloadRef::RouterKey(_) => unreachable!(),
        });
    }
    let expected = [
        "10.0.0.0/24 AS0",
        "10.0.1.0/24 AS1",
        "10.0.2.0/24 AS2",
        "aspa AS7",
    ];
    assert_eq!(got, expected);
}
