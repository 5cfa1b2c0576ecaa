//! Tests for `aspa.rs`: NIST's published worked examples, the special cases, and an
//! independent oracle run over many generated paths and ASPA sets.

use super::*;
use crate::rpki::Aspa;
use AspaProcedure::{Downstream, Upstream};
use AspaState::{Invalid, Unknown, Valid};

fn table(aspas: &[(u32, &[u32])]) -> AspaTable {
    AspaTable::new(aspas.iter().map(|&(customer, providers)| Aspa {
        customer: Asn(customer),
        providers: providers.iter().map(|&p| Asn(p)).collect(),
    }))
}

/// An AS_SEQUENCE, neighbour first, as on the wire.
fn seq(asns: &[u32]) -> AsPath {
    AsPath(vec![Segment::Sequence(asns.to_vec())])
}

fn state(t: &AspaTable, path: &[u32], procedure: AspaProcedure) -> AspaState {
    verify(t, &seq(path), Asn(path[0]), procedure).state
}

// The topology of NIST BRIO's ASPA examples (usnistgov/NIST-BRIO, brio-examples/
// demo-aspa-upstream): A..G are 65000..65060; E and F have no ASPA; G has an AS0 ASPA.
const A: u32 = 65000;
const B: u32 = 65010;
const C: u32 = 65020;
const D: u32 = 65030;
const E: u32 = 65040;
const F: u32 = 65050;
const G: u32 = 65060;

fn nist() -> AspaTable {
    table(&[(A, &[C, D]), (B, &[E]), (C, &[F]), (D, &[F, G]), (G, &[0])])
}

/// NIST's upstream table: the receiving AS, the path (neighbour first), the outcome.
#[test]
fn nist_upstream_examples() {
    let t = nist();
    let cases: [(&[u32], AspaState); 9] = [
        (&[F, C, A], Valid),         // 1, at G
        (&[D, C, A], Invalid),       // 2, at G: C's ASPA does not list D
        (&[D, F, C, A], Unknown),    // 3, at G: F has no ASPA
        (&[D, E, B], Unknown),       // 4, at C: E has no ASPA
        (&[A, D, E, B], Invalid),    // 5, at C
        (&[A, D, G, E, B], Invalid), // 6, at C
        (&[A, C, F], Invalid),       // 7, at D
        (&[A, C, F, G], Invalid),    // 8, at D
        (&[E, B], Valid),            // 9, at D
    ];
    for (path, expected) in cases {
        assert_eq!(state(&t, path, Upstream), expected, "{path:?}");
    }
    let why = verify(&t, &seq(&[D, C, A]), Asn(D), Upstream).reason;
    assert_eq!(
        why.map(|r| r.to_string()).as_deref(),
        Some("AS65020 has an ASPA that does not list AS65030 as a provider")
    );
}

/// NIST's downstream table, rows whose outcome follows from the draft's bounds (its rows 1
/// and 10 give intermediate bounds that contradict each other, min above max, and are left
/// out; the oracle below covers those shapes).
#[test]
fn nist_downstream_examples() {
    let t = nist();
    let cases: [(&[u32], AspaState); 7] = [
        (&[E, G, D, A], Valid),      // 2, at B
        (&[E, D, C, A], Unknown),    // 3, at B
        (&[E, G, D, C, A], Invalid), // 4, at B
        (&[C, F, D, G], Unknown),    // 5, at A
        (&[D, G, E, B], Valid),      // 6, at A
        (&[C, D, G, E, B], Invalid), // 7, at A
        (&[F, C, A], Valid),         // 8, at D
    ];
    for (path, expected) in cases {
        assert_eq!(state(&t, path, Downstream), expected, "{path:?}");
    }
    let why = verify(&t, &seq(&[E, G, D, C, A]), Asn(E), Downstream).reason;
    assert_eq!(
        why.map(|r| r.to_string()).as_deref(),
        Some(
            "AS65020 has an ASPA that does not list AS65030 as a provider; \
             AS65060 has an ASPA that does not list AS65030 as a provider"
        )
    );
}

#[test]
fn special_cases() {
    let t = table(&[(1, &[2]), (2, &[3])]);
    let verdict = |path: AsPath, neighbor: u32| verify(&t, &path, Asn(neighbor), Upstream);
    // Prepends collapse: 3 3 2 2 2 1 is 3 2 1.
    assert_eq!(verdict(seq(&[3, 3, 2, 2, 2, 1]), 3).state, Valid);
    // An empty path, a path not from the neighbour, an AS_SET: Invalid.
    assert_eq!(
        verdict(AsPath::default(), 3).reason,
        Some(AspaReason::Empty)
    );
    assert_eq!(
        verdict(seq(&[2, 1]), 3).reason,
        Some(AspaReason::Neighbor(Asn(3)))
    );
    let with_set = AsPath(vec![
        Segment::Sequence(vec![3, 2]),
        Segment::Set(vec![1, 4]),
    ]);
    assert_eq!(verdict(with_set, 3).reason, Some(AspaReason::AsSet));
    // One AS: nothing to verify.
    assert_eq!(verdict(seq(&[9]), 9).state, Valid);
    // Downstream allows one lateral hop between the ramps (2 and 5 peer), not two; upstream
    // allows none.
    let t = table(&[(1, &[2]), (2, &[3]), (4, &[5]), (5, &[7])]);
    assert_eq!(state(&t, &[4, 5, 2, 1], Downstream), Valid);
    assert_eq!(state(&t, &[4, 5, 6, 2, 1], Downstream), Invalid);
    assert_eq!(state(&t, &[4, 5, 2, 1], Upstream), Invalid);
}

/// The oracle, written from the draft's principles rather than its bounds: a hop whose
/// customer has no ASPA may be either way, so every way is tried. The path is Valid when
/// every completion is leak-free, Invalid when none is, else Unknown. Leak-free: an
/// up-ramp from the origin and (downstream only) a down-ramp from the neighbour whose
/// apexes are at most one hop apart; upstream, the up-ramp reaches the neighbour.
fn oracle(aspas: &[(u32, Vec<u32>)], path: &[u32], neighbor: u32, downstream: bool) -> AspaState {
    if path.is_empty() || path[0] != neighbor {
        return Invalid;
    }
    let mut p: Vec<u32> = path.iter().rev().copied().collect();
    p.dedup();
    let n = p.len();
    // Each ordered pair (x, y) asked about: known yes, known no, or open.
    let asked = |x: u32, y: u32| -> Option<bool> {
        let lists: Vec<&Vec<u32>> = aspas
            .iter()
            .filter(|(c, _)| *c == x)
            .map(|(_, v)| v)
            .collect();
        (!lists.is_empty()).then(|| lists.iter().any(|v| v.contains(&y)))
    };
    let mut open: Vec<(u32, u32)> = Vec::new();
    for i in 0..n.saturating_sub(1) {
        for pair in [(p[i], p[i + 1]), (p[i + 1], p[i])] {
            if asked(pair.0, pair.1).is_none() && !open.contains(&pair) {
                open.push(pair);
            }
        }
    }
    let (mut some_ok, mut all_ok) = (false, true);
    for mask in 0u32..(1 << open.len()) {
        let provider = |x: u32, y: u32| match asked(x, y) {
            Some(known) => known,
            None => mask & (1 << open.iter().position(|&q| q == (x, y)).unwrap()) != 0,
        };
        let ok = leak_free(&p, downstream, &provider);
        some_ok |= ok;
        all_ok &= ok;
    }
    match (some_ok, all_ok) {
        (false, _) => Invalid,
        (true, true) => Valid,
        (true, false) => Unknown,
    }
}

/// Whether the origin-first path `p` climbs to an apex K and descends from an apex L to
/// the neighbour with L - K <= 1 (downstream) or climbs all the way (upstream).
fn leak_free(p: &[u32], downstream: bool, provider: &dyn Fn(u32, u32) -> bool) -> bool {
    let n = p.len();
    let climbs_to = |k: usize| (0..k).all(|i| provider(p[i], p[i + 1]));
    let descends_from = |l: usize| (l..n - 1).all(|j| provider(p[j + 1], p[j]));
    if !downstream {
        return climbs_to(n - 1);
    }
    (0..n).any(|k| climbs_to(k) && (k..n.min(k + 2)).any(descends_from))
}

/// A small deterministic generator (xorshift64*), enough for test cases.
struct Gen(u64);

impl Gen {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// 20,000 random paths over eight ASes (prepends, repeats and AS0 ASPAs included) against
/// random ASPA sets: the implementation agrees with the oracle on every one.
#[test]
fn agrees_with_the_oracle() {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let mut seen = [0usize; 3];
    for case in 0..20_000 {
        let mut aspas: Vec<(u32, Vec<u32>)> = Vec::new();
        for customer in 1..=8u32 {
            for _ in 0..g.below(3).saturating_sub(1) + u64::from(g.below(2) == 0) {
                let providers = (0..=8u32).filter(|_| g.below(3) == 0).collect();
                aspas.push((customer, providers));
            }
        }
        let len = 1 + g.below(7) as usize;
        let mut path: Vec<u32> = (0..len).map(|_| 1 + g.below(8) as u32).collect();
        if g.below(4) == 0 {
            let at = g.below(len as u64) as usize;
            path.insert(at, path[at]); // a prepend
        }
        let neighbor = if g.below(20) == 0 { 9 } else { path[0] };
        let t = AspaTable::new(aspas.iter().map(|(c, p)| Aspa {
            customer: Asn(*c),
            providers: p.iter().map(|&a| Asn(a)).collect(),
        }));
        for (procedure, downstream) in [(Upstream, false), (Downstream, true)] {
            let got = verify(&t, &seq(&path), Asn(neighbor), procedure).state;
            let want = oracle(&aspas, &path, neighbor, downstream);
            assert_eq!(
                got, want,
                "case {case}: {path:?} from {neighbor}, {procedure:?}, ASPAs {aspas:?}"
            );
            seen[got as usize] += 1;
        }
    }
    assert!(
        seen.iter().all(|&n| n > 1000),
        "every outcome is exercised: {seen:?}"
    );
}
