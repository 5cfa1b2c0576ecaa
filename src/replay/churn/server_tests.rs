//! The server's side of the walk: serials, the session check of serial queries, and when a
//! Serial Notify may go out.

use super::*;
use crate::replay::churn::walk::tests::vrps;

/// Each published serial withdraws K and, from the second on, re-announces K; a serial
/// query from a later serial or another session gets no delta (a Cache Reset).
#[test]
fn serials_and_sessions() {
    let shared = Arc::new(Shared::new(vrps(10), 3));
    let source = Source(shared.clone());
    assert_eq!(shared.publish(), (0, 3));
    assert_eq!(shared.publish(), (3, 3));
    let session = shared.session();
    let (state, _) = source.full();
    assert_eq!((state.session(), state.serial().0), (session, 2));
    let from = State::from_parts(session, 1.into());
    let (to, _) = source.diff(from).expect("a delta");
    assert_eq!(to.serial().0, 2);
    assert!(source.diff(State::from_parts(session, 3.into())).is_none());
    let other = State::from_parts(session.wrapping_add(1), 1.into());
    assert!(source.diff(other).is_none());
}

/// A new serial is notified once, when a client lacks it; a client that is loading the
/// set, or has not answered the last Serial Notify, holds the next one back until it has.
#[tokio::test]
async fn notifies_wait_for_clients() {
    let shared = Shared::new(vrps(10), 2);
    shared.publish();
    assert!(!shared.maybe_notify(), "no client");
    let peer = "127.0.0.1:1".parse().unwrap();
    shared.update(|r| {
        let (since, serial, notified) = (Instant::now(), None, None);
        r.clients.insert(
            7,
            Client {
                peer,
                since,
                serial,
                notified,
            },
        );
    });
    let fetch = |serial| {
        shared.update(|r| {
            let client = r.clients.get_mut(&7).unwrap();
            (client.serial, client.notified) = (Some(serial), None);
        })
    };
    shared.publish();
    assert!(!shared.maybe_notify(), "a client is loading the set");
    assert!(!shared.settled());
    fetch(2);
    assert!(shared.settled());
    shared.publish();
    assert!(shared.maybe_notify());
    assert!(!shared.maybe_notify(), "notified already");
    assert!(!shared.settled(), "the client is at 2 of 3");
    shared.publish();
    assert!(!shared.maybe_notify(), "the client has not answered");
    fetch(4);
    assert!(shared.settled());
    assert!(
        !shared.maybe_notify(),
        "serial 4 needs no Serial Notify: the client has it"
    );
    shared.publish();
    assert!(shared.maybe_notify());
    assert_eq!(shared.counters().notifies, 2);
    assert_eq!(shared.counters().client_serial, Some(4));
}
