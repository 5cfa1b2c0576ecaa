//! The churn walk: what each serial serves, and that every delta turns one serial's set
//! into another's, across the wrap-around of the walk.

use std::collections::BTreeSet;

use super::*;
use crate::route::Asn;

/// `n` distinct VRPs, 10.x.y.0/24 with AS 64496 + i.
pub(crate) fn vrps(n: u32) -> Vec<Vrp> {
    (0..n)
        .map(|i| {
            let prefix = format!("10.{}.{}.0/24", i / 256, i % 256);
            Vrp::new(prefix.parse().unwrap(), 24, Asn(64496 + i)).unwrap()
        })
        .collect()
}

fn origin(p: PayloadRef<'_>) -> Payload {
    match p {
        PayloadRef::Origin(o) => Payload::Origin(o),
        other => panic!("only route origins are served: {other:?}"),
    }
}

fn set(walk: &Arc<Walk>, serial: u32) -> BTreeSet<Payload> {
    let mut full = walk.set(serial);
    let mut out = BTreeSet::new();
    while let Some(p) = full.next() {
        let p = origin(p);
        assert!(out.insert(p.clone()), "{p:?} served twice");
    }
    out
}

fn apply(mut set: BTreeSet<Payload>, mut delta: Delta) -> BTreeSet<Payload> {
    while let Some((p, action)) = delta.next() {
        let p = origin(p);
        let changed = match action {
            Action::Announce => set.insert(p.clone()),
            Action::Withdraw => set.remove(&p),
        };
        assert!(changed, "{action:?} {p:?} does not change the set");
    }
    set
}

/// Serial 0 is the whole file; serial 1 withdraws K; later serials keep n − K VRPs and
/// withdraw K others than the serial before. A duplicate in the file is served once.
#[test]
fn each_serial_withdraws_the_next_k() {
    let mut file = vrps(10);
    file.push(file[3]);
    let walk = Arc::new(Walk::new(file, 3));
    let all = set(&walk, 0);
    assert_eq!(all.len(), 10);
    let mut before = all.clone();
    for serial in 1..=12 {
        let current = set(&walk, serial);
        assert_eq!(current.len(), 7, "serial {serial}");
        let gone: BTreeSet<_> = all.difference(&current).collect();
        let gone_before: BTreeSet<_> = all.difference(&before).collect();
        assert!(gone.is_disjoint(&gone_before), "serial {serial}");
        before = current;
    }
}

/// Every delta from an earlier serial (the walk wraps at serial 5 with n = 13, K = 3)
/// turns that serial's set into the later one's.
#[test]
fn deltas_between_any_two_serials() {
    let walk = Arc::new(Walk::new(vrps(13), 3));
    let sets: Vec<_> = (0..10).map(|s| set(&walk, s)).collect();
    for (from, old) in sets.iter().enumerate() {
        for (to, new) in sets.iter().enumerate().skip(from) {
            let delta = walk.delta(from as u32, to as u32);
            assert_eq!(&apply(old.clone(), delta), new, "{from} -> {to}");
        }
    }
}

/// The stride visits every VRP exactly once.
#[test]
fn stride_is_a_permutation() {
    for n in [1, 2, 3, 10, 13, 100, 1000, 4096] {
        let walk = Walk::new(vrps(n), 1);
        let seen: BTreeSet<usize> = (0..n as usize).map(|p| walk.index(p)).collect();
        assert_eq!(seen.len(), n as usize, "n = {n}");
    }
}
