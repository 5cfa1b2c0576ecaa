//! A session's RPKI lookups: made against the current snapshot, and taken by the RIB only
//! when that is still the snapshot it validates with.

use super::rov_tests::{vrp, Lab};
use super::tests::{announce, net};
use super::*;
use crate::policy::RovMode;
use crate::route::{PeerId, RovState};

/// AS 64496 announces 192.0.2.0/24, which the VRP gives to AS 64511 (invalid), and
/// 198.51.100.0/24, which no VRP covers (not found).
fn two_prefixes() -> crate::route::Update {
    announce(&[64496], &["192.0.2.0/24", "198.51.100.0/24"])
}

fn stored_states(lab: &Lab) -> Vec<RovState> {
    ["192.0.2.0/24", "198.51.100.0/24"]
        .map(|p| lab.rib.table.paths(&net(p))[0].state)
        .to_vec()
}

#[tokio::test]
async fn a_session_looks_states_up_against_the_current_snapshot() {
    let lab = Lab::new(
        RovMode::Accept,
        &[vrp("192.0.2.0/24", 24, 64511)],
        Default::default(),
    )
    .await;
    let states = Validator::new(lab.rib.vrps.clone()).validate(&two_prefixes());
    let serial = lab.rib.vrps.load().serial;
    assert_eq!(
        states.of(serial),
        Some(vec![RovState::Invalid, RovState::NotFound])
    );
}

#[tokio::test]
async fn the_rib_takes_a_sessions_states_only_for_its_own_snapshot() {
    let mut lab = Lab::new(
        RovMode::Accept,
        &[vrp("192.0.2.0/24", 24, 64511)],
        Default::default(),
    )
    .await;
    let serial = lab.rib.vrps.load().serial;
    // States the lookup would not give, to tell whose they are.
    let made_up = |serial| RovStates::made_up(serial, vec![RovState::Valid, RovState::Invalid]);
    let update = |states| RibEvent::ValidatedUpdate {
        peer: PeerId(0),
        update: two_prefixes(),
        states,
    };
    lab.event(update(made_up(serial))).await;
    assert_eq!(stored_states(&lab), [RovState::Valid, RovState::Invalid]);
    // Made against the snapshot before: looked up again.
    lab.event(update(made_up(serial - 1))).await;
    assert_eq!(stored_states(&lab), [RovState::Invalid, RovState::NotFound]);
}
