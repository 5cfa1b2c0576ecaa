use super::*;

fn vrp(prefix: &str, max_length: u8, asn: u32) -> Vrp {
    Vrp::new(prefix.parse().unwrap(), max_length, Asn(asn)).unwrap()
}

/// Two IPv4 and two IPv6 VRPs, one of each family differing only in the AS.
fn four() -> Vec<Vrp> {
    vec![
        vrp("2001:db8::/32", 48, 64496),
        vrp("192.0.2.0/24", 24, 64496),
        vrp("2001:db8::/32", 48, 64497),
        vrp("10.0.0.0/8", 16, 64496),
    ]
}

/// Expected: a set holds what it was made of, once each, in both families, and gives
/// every VRP back unchanged.
#[test]
fn a_set_holds_and_gives_back_its_vrps() {
    let mut twice = four();
    twice.extend(four());
    let set = VrpSet::of(twice);
    assert_eq!(set.len(), 4);
    let mut back: Vec<Vrp> = set.iter().collect();
    let mut all = four();
    back.sort();
    all.sort();
    assert_eq!(back, all);
    for v in &all {
        assert!(set.contains(v), "{v}");
    }
    assert!(!set.contains(&vrp("192.0.2.0/24", 24, 64497)));
    assert!(!set.contains(&vrp("192.0.2.0/24", 25, 64496)));
    assert!(!set.contains(&vrp("2001:db8::/33", 48, 64496)));
}

/// Expected: an update removes then adds, and names exactly the VRPs that came or went:
/// not one withdrawn that was not held, nor one withdrawn and announced again.
#[test]
fn an_update_names_what_changed() {
    let mut set = VrpSet::of(four());
    let (gone, kept, new) = (
        vrp("10.0.0.0/8", 16, 64496),
        vrp("192.0.2.0/24", 24, 64496),
        vrp("2001:db8:1::/48", 48, 64498),
    );
    let never_held = vrp("198.51.100.0/24", 24, 64496);
    let mut changed = Vec::new();
    set.apply(vec![gone, kept, never_held], vec![kept, new, new], |v| {
        changed.push(v)
    });
    changed.sort();
    let mut expected = vec![gone, new];
    expected.sort();
    assert_eq!(changed, expected);
    assert_eq!(set.len(), 4);
    assert!(!set.contains(&gone) && set.contains(&kept) && set.contains(&new));
    set.apply(vec![], vec![], |v| panic!("nothing changed, yet {v}"));
}

/// Expected: the symmetric difference of two sets is what one holds and the other not.
#[test]
fn the_difference_is_what_one_set_holds_alone() {
    let a = VrpSet::of(four());
    let mut fewer = four();
    let removed = fewer.remove(0);
    let added = vrp("203.0.113.0/24", 24, 64499);
    fewer.push(added);
    let b = VrpSet::of(fewer);
    let mut diff: Vec<Vrp> = a.symmetric_difference(&b).collect();
    diff.sort();
    let mut expected = vec![removed, added];
    expected.sort();
    assert_eq!(diff, expected);
    assert_eq!(a.symmetric_difference(&a).count(), 0);
}
