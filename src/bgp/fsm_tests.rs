//! FSM tests: one table of transitions, then sequences (backoff, damping, hold time 0),
//! collision resolution and shutdown communications.

use std::net::Ipv4Addr;
use std::time::Duration;

use bytes::Bytes;

use super::*;
use crate::route::Family;

use Action::{CloseConnection, SendKeepalive, SendOpen, StartTimer, StopTimer};
use Timer::{ConnectRetry, Hold, IdleHold, IdleHoldReset, Keepalive};

const PEER_AS: Asn = Asn(64496);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn local() -> LocalSpeaker {
    LocalSpeaker::new(Asn(64500), Ipv4Addr::new(192, 0, 2, 254))
}

fn peer_open() -> PeerOpen {
    PeerOpen {
        asn: PEER_AS,
        hold_time: 180,
        router_id: Ipv4Addr::new(198, 51, 100, 1),
        families: Family::ALL.to_vec(),
        as4: true,
        route_refresh: true,
        enhanced_route_refresh: false,
        extended_message: false,
        graceful_restart: None,
        extended_next_hop: false,
        add_path_receive: vec![],
    }
}

fn negotiated() -> Negotiated {
    negotiate(&local(), PEER_AS, &peer_open()).unwrap()
}

fn notif(code: u8, subcode: u8) -> Notification {
    Notification::new(code, subcode, Bytes::new())
}

/// A started FSM driven to `state` along the usual path (passive unless Connect).
fn reach(state: State) -> Fsm {
    let mut f = Fsm::new(FsmConfig::new(local(), PEER_AS));
    let path: &[Event] = match state {
        State::Idle => &[],
        State::Connect => &[Event::Start { passive: false }],
        State::Active => &[Event::Start { passive: true }],
        State::OpenSent => &[Event::Start { passive: true }, Event::TcpAccepted],
        State::OpenConfirm | State::Established => &[
            Event::Start { passive: true },
            Event::TcpAccepted,
            Event::OpenReceived(peer_open()),
            Event::KeepaliveReceived,
        ],
    };
    let steps = if state == State::OpenConfirm {
        3
    } else {
        path.len()
    };
    for e in &path[..steps] {
        f.handle(e.clone());
    }
    assert_eq!(f.state(), state);
    f
}

#[test]
fn transitions() {
    use State::*;
    let n22 = notif(2, 2);
    let n40 = notif(4, 0);
    let shutdown = administrative_cease(Reason::AdministrativeShutdown, "maintenance until 14:00");
    let bad_as = PeerOpen {
        asn: Asn(64497),
        ..peer_open()
    };
    let est_down = |reason| {
        vec![
            CloseConnection,
            StopTimer(Hold),
            StopTimer(Keepalive),
            StopTimer(IdleHoldReset),
            Action::Down { reason },
        ]
    };
    let with = |mut v: Vec<Action>, more: Vec<Action>| {
        v.extend(more);
        v
    };
    let idle_hold = || StartTimer(IdleHold, secs(5));
    #[rustfmt::skip]
    let cases: Vec<(&str, State, Event, Vec<Action>, State)> = vec![
        ("passive start", Idle, Event::Start { passive: true }, vec![], Active),
        ("active start", Idle, Event::Start { passive: false }, vec![Action::Connect, StartTimer(ConnectRetry, secs(5))], Connect),
        ("connection handed in while Idle is refused", Idle, Event::TcpAccepted, vec![CloseConnection], Idle),
        ("accepted", Active, Event::TcpAccepted, vec![SendOpen, StartTimer(Hold, secs(240))], OpenSent),
        ("connected", Connect, Event::TcpConnected, vec![StopTimer(ConnectRetry), SendOpen, StartTimer(Hold, secs(240))], OpenSent),
        ("connect fails: wait for the retry", Connect, Event::TcpFailed, vec![], Active),
        ("retry expires in Connect", Connect, Event::TimerExpired(ConnectRetry), vec![CloseConnection, Action::Connect, StartTimer(ConnectRetry, secs(10))], Connect),
        ("open ok", OpenSent, Event::OpenReceived(peer_open()), vec![SendKeepalive, StartTimer(Hold, secs(90)), StartTimer(Keepalive, secs(30))], OpenConfirm),
        ("keepalive in OpenConfirm", OpenConfirm, Event::KeepaliveReceived, vec![StartTimer(Hold, secs(90)), StartTimer(Keepalive, secs(30)), StartTimer(IdleHoldReset, secs(300)), Action::Established(negotiated())], Established),
        ("bad peer AS", OpenSent, Event::OpenReceived(bad_as), vec![Action::SendNotification(n22), CloseConnection, StopTimer(Hold), idle_hold()], Idle),
        ("hold expires in OpenSent", OpenSent, Event::TimerExpired(Hold), vec![Action::SendNotification(n40.clone()), CloseConnection, idle_hold()], Idle),
        ("hold expires in OpenConfirm", OpenConfirm, Event::TimerExpired(Hold), vec![Action::SendNotification(n40.clone()), CloseConnection, StopTimer(Keepalive), idle_hold()], Idle),
        ("hold expires in Established", Established, Event::TimerExpired(Hold), vec![Action::SendNotification(n40.clone()), CloseConnection, StopTimer(Keepalive), StopTimer(IdleHoldReset), Action::Down { reason: DownReason::Sent(n40) }, idle_hold()], Idle),
        ("notification in OpenSent", OpenSent, Event::NotificationReceived(notif(6, 5)), vec![CloseConnection, StopTimer(Hold), idle_hold()], Idle),
        ("notification in OpenConfirm", OpenConfirm, Event::NotificationReceived(notif(6, 5)), vec![CloseConnection, StopTimer(Hold), StopTimer(Keepalive), idle_hold()], Idle),
        ("notification in Established", Established, Event::NotificationReceived(notif(6, 2)), with(est_down(DownReason::Received(notif(6, 2))), vec![idle_hold()]), Idle),
        ("keepalive in OpenSent", OpenSent, Event::KeepaliveReceived, vec![Action::SendNotification(notif(5, 1)), CloseConnection, StopTimer(Hold), idle_hold()], Idle),
        ("update in OpenSent", OpenSent, Event::UpdateReceived, vec![Action::SendNotification(notif(5, 1)), CloseConnection, StopTimer(Hold), idle_hold()], Idle),
        ("update in OpenConfirm", OpenConfirm, Event::UpdateReceived, vec![Action::SendNotification(notif(5, 2)), CloseConnection, StopTimer(Hold), StopTimer(Keepalive), idle_hold()], Idle),
        ("open in OpenConfirm", OpenConfirm, Event::OpenReceived(peer_open()), vec![Action::SendNotification(notif(5, 2)), CloseConnection, StopTimer(Hold), StopTimer(Keepalive), idle_hold()], Idle),
        ("open in Established", Established, Event::OpenReceived(peer_open()), with(vec![Action::SendNotification(notif(5, 3))], with(est_down(DownReason::Sent(notif(5, 3))), vec![idle_hold()])), Idle),
        ("decode error in Established", Established, Event::MessageError(notif(3, 1)), with(vec![Action::SendNotification(notif(3, 1))], with(est_down(DownReason::Sent(notif(3, 1))), vec![idle_hold()])), Idle),
        ("connection lost in Established", Established, Event::TcpFailed, with(est_down(DownReason::ConnectionLost), vec![idle_hold()]), Idle),
        ("stop with a shutdown message", Established, Event::Stop { notification: Some(shutdown.clone()) }, with(vec![Action::SendNotification(shutdown.clone())], est_down(DownReason::Sent(shutdown))), Idle),
        ("stop without a message sends 6/2", OpenSent, Event::Stop { notification: None }, vec![Action::SendNotification(notif(6, 2)), CloseConnection, StopTimer(Hold)], Idle),
        ("stop in Connect abandons the attempt", Connect, Event::Stop { notification: None }, vec![CloseConnection, StopTimer(ConnectRetry)], Idle),
        ("stop in Active", Active, Event::Stop { notification: None }, vec![], Idle),
        ("keepalive timer in Established", Established, Event::TimerExpired(Keepalive), vec![SendKeepalive, StartTimer(Keepalive, secs(30))], Established),
        ("keepalive timer in OpenConfirm", OpenConfirm, Event::TimerExpired(Keepalive), vec![SendKeepalive, StartTimer(Keepalive, secs(30))], OpenConfirm),
        ("keepalive restarts hold", Established, Event::KeepaliveReceived, vec![StartTimer(Hold, secs(90))], Established),
        ("update restarts hold", Established, Event::UpdateReceived, vec![StartTimer(Hold, secs(90))], Established),
        ("route refresh restarts hold", Established, Event::RouteRefreshReceived, vec![StartTimer(Hold, secs(90))], Established),
        ("a timer that is not running is ignored", Established, Event::TimerExpired(ConnectRetry), vec![], Established),
        ("a second connection is the session's business", OpenSent, Event::TcpAccepted, vec![], OpenSent),
        ("start while started is ignored", Established, Event::Start { passive: false }, vec![], Established),
        ("messages without a connection are ignored", Active, Event::KeepaliveReceived, vec![], Active),
    ];
    for (name, from, event, actions, to) in cases {
        let mut f = reach(from);
        assert_eq!(f.handle(event), actions, "{name}");
        assert_eq!(f.state(), to, "{name}");
    }
}

/// Drives an FSM through `events`, returning the actions of the last one.
fn run(f: &mut Fsm, events: &[Event]) -> Vec<Action> {
    events.iter().fold(vec![], |_, e| f.handle(e.clone()))
}

fn retry_of(actions: &[Action]) -> Option<Duration> {
    actions.iter().find_map(|a| match a {
        StartTimer(ConnectRetry, d) => Some(*d),
        _ => None,
    })
}

#[test]
fn connect_retry_backs_off_and_resets_on_established() {
    let mut f = reach(State::Connect);
    let mut seen = vec![];
    for _ in 0..7 {
        let a = f.handle(Event::TimerExpired(ConnectRetry));
        seen.push(retry_of(&a).unwrap().as_secs());
        // A failed attempt waits in Active, then tries again with the next interval.
        f.handle(Event::TcpFailed);
        assert_eq!(f.state(), State::Active);
    }
    assert_eq!(seen, [10, 20, 40, 80, 120, 120, 120]);
    let a = f.handle(Event::TimerExpired(ConnectRetry));
    assert_eq!((f.state(), a[0].clone()), (State::Connect, Action::Connect));
    run(
        &mut f,
        &[
            Event::TcpConnected,
            Event::OpenReceived(peer_open()),
            Event::KeepaliveReceived,
        ],
    );
    assert_eq!(f.state(), State::Established);
    f.handle(Event::TcpFailed);
    let a = f.handle(Event::TimerExpired(IdleHold));
    assert_eq!(a, vec![Action::Connect, StartTimer(ConnectRetry, secs(5))]);
}

fn idle_hold_of(actions: &[Action]) -> Option<u64> {
    actions.iter().find_map(|a| match a {
        StartTimer(IdleHold, d) => Some(d.as_secs()),
        _ => None,
    })
}

#[test]
fn a_flapping_peer_is_damped_until_it_stays_up() {
    let mut f = reach(State::Active);
    let bad = Event::OpenReceived(PeerOpen {
        asn: Asn(1),
        ..peer_open()
    });
    let mut holds = vec![];
    for _ in 0..8 {
        holds.push(idle_hold_of(&run(&mut f, &[Event::TcpAccepted, bad.clone()])).unwrap());
        assert_eq!(f.state(), State::Idle);
        assert_eq!(
            f.handle(Event::TcpAccepted),
            vec![CloseConnection],
            "refused while held"
        );
        assert_eq!(f.handle(Event::TimerExpired(IdleHold)), vec![]);
        assert_eq!(f.state(), State::Active, "passive again after the hold");
    }
    assert_eq!(holds, [5, 10, 20, 40, 80, 160, 300, 300]);
    let up = [
        Event::TcpAccepted,
        Event::OpenReceived(peer_open()),
        Event::KeepaliveReceived,
    ];
    run(&mut f, &up);
    let a = f.handle(Event::TcpFailed);
    assert_eq!(
        idle_hold_of(&a),
        Some(300),
        "went down before it was stable"
    );
    f.handle(Event::TimerExpired(IdleHold));
    run(&mut f, &up);
    assert_eq!(f.handle(Event::TimerExpired(IdleHoldReset)), vec![]);
    assert_eq!(
        idle_hold_of(&f.handle(Event::TcpFailed)),
        Some(5),
        "stable: forgiven"
    );
}

/// `[[peer]] idle_hold_seconds = 2`, `idle_hold_max_seconds = 7`: the holds double from
/// 2 s to 7 s, and a session that stays up for 7 s is forgiven.
#[test]
fn configured_idle_hold_bounds_are_used() {
    let config = FsmConfig {
        idle_hold: secs(2),
        idle_hold_max: secs(7),
        ..FsmConfig::new(local(), PEER_AS)
    };
    let mut f = Fsm::new(config);
    f.handle(Event::Start { passive: true });
    let up = [
        Event::TcpAccepted,
        Event::OpenReceived(peer_open()),
        Event::KeepaliveReceived,
    ];
    let mut holds = vec![];
    for _ in 0..4 {
        let a = run(&mut f, &up);
        assert!(a.contains(&StartTimer(IdleHoldReset, secs(7))), "{a:?}");
        holds.push(idle_hold_of(&f.handle(Event::TcpFailed)).unwrap());
        f.handle(Event::TimerExpired(IdleHold));
    }
    assert_eq!(holds, [2, 4, 7, 7]);
    run(&mut f, &up);
    f.handle(Event::TimerExpired(IdleHoldReset));
    assert_eq!(idle_hold_of(&f.handle(Event::TcpFailed)), Some(2));
}

#[test]
fn hold_time_zero_runs_no_hold_or_keepalive_timers() {
    let mut f = reach(State::OpenSent);
    let open = PeerOpen {
        hold_time: 0,
        ..peer_open()
    };
    let a = f.handle(Event::OpenReceived(open));
    assert_eq!(a, vec![SendKeepalive, StopTimer(Hold)]);
    let a = f.handle(Event::KeepaliveReceived);
    let n = f.negotiated().unwrap().clone();
    assert_eq!((n.hold_time, n.keepalive), (0, 0));
    assert_eq!(
        a,
        vec![StartTimer(IdleHoldReset, secs(300)), Action::Established(n)]
    );
    assert_eq!(f.handle(Event::KeepaliveReceived), vec![]);
    assert_eq!(
        f.handle(Event::TimerExpired(Hold)),
        vec![],
        "no hold timer runs"
    );
}

#[test]
fn stop_ends_automatic_restarts() {
    let mut f = reach(State::Established);
    f.handle(Event::TcpFailed);
    assert_eq!(
        f.handle(Event::Stop { notification: None }),
        vec![StopTimer(IdleHold)]
    );
    assert_eq!(f.handle(Event::TimerExpired(IdleHold)), vec![]);
    assert_eq!(f.state(), State::Idle);
    let a = f.handle(Event::Start { passive: false });
    assert_eq!(a, vec![Action::Connect, StartTimer(ConnectRetry, secs(5))]);
}

#[test]
fn collisions_keep_the_higher_identifier_then_the_larger_as() {
    let (lo, hi) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(192, 0, 2, 1));
    let (small, big) = (Asn(64496), Asn(4_200_000_000));
    let cases = [
        (hi, small, lo, big, Keep::Local),
        (lo, big, hi, small, Keep::Remote),
        (hi, small, hi, big, Keep::Remote),
        (hi, big, hi, small, Keep::Local),
    ];
    for (local_id, local_asn, remote_id, remote_asn, keep) in cases {
        let got = resolve_collision(local_id, local_asn, remote_id, remote_asn);
        assert_eq!(
            got, keep,
            "{local_id} {local_asn} vs {remote_id} {remote_asn}"
        );
    }
    assert_eq!((collision_cease().code, collision_cease().subcode), (6, 7));
}

#[test]
fn shutdown_communication_follows_rfc_9003() {
    let n = administrative_cease(Reason::AdministrativeShutdown, "maintenance");
    assert_eq!((n.code, n.subcode), (6, 2));
    assert_eq!(n.data.as_ref(), b"\x0bmaintenance");
    let long = administrative_cease(Reason::AdministrativeReset, &"x".repeat(300));
    assert_eq!((long.subcode, long.data[0], long.data.len()), (4, 255, 256));
    let wide = administrative_cease(Reason::AdministrativeShutdown, &"é".repeat(200)); // 2 octets each
    assert_eq!(
        (wide.data[0], wide.data.len()),
        (254, 255),
        "cut at a character boundary"
    );
    assert!(std::str::from_utf8(&wide.data[1..]).is_ok());
    assert_eq!(
        administrative_cease(Reason::AdministrativeShutdown, "")
            .data
            .as_ref(),
        [0]
    );
}
