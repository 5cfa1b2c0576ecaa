//! Which peers get a chart, and the RPKI timeline built from recorded changes.

use std::time::{Duration, SystemTime};

use super::*;
use crate::history::{SourceChange, ValidationChange};
use crate::rpki::status::{SourceStatus, Validation};

/// Expect: the peers with the highest would-drop at any moment, highest first, ties by
/// name, at most five, none that never had any.
#[test]
fn the_top_peers_are_those_with_the_highest_would_drop_peak() {
    let at = |n: u64| [n, n, 0];
    let moments = vec![
        (0, vec![("a", at(1)), ("b", at(9)), ("z", at(0))]),
        (
            60,
            vec![("a", at(3)), ("b", at(0)), ("c", at(3)), ("d", at(2))],
        ),
        (120, vec![("e", at(1)), ("f", at(1)), ("g", at(1))]),
    ];
    assert_eq!(top_peers(&moments), ["b", "a", "c", "d", "e"]);
    assert_eq!(top_peers(&moments[..1]), ["b", "a"]);
    let none = vec![(0, vec![("a", [4, 0, 4])])];
    assert!(top_peers(&none).is_empty(), "dropped is not would-drop");
}

fn time(s: u64) -> Option<SystemTime> {
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(s))
}

fn status(sources: Vec<SourceStatus>, validation: Validation) -> Status {
    Status {
        version: "test",
        vrps: crate::http::VrpSummary {
            count: 0,
            serial: 0,
            updated: None,
            aspas: 0,
            stale: false,
            complete: true,
            validation,
        },
        sources,
        exceptions: Default::default(),
        peers: vec![],
        connections_refused: Default::default(),
        held_update: None,
        reevaluation: Default::default(),
        update_delay: None,
        waiting_for_vrps: false,
        rtr_server: None,
    }
}

/// Expect: a cache up at serial 7, down for ten minutes, then up at serial 9 (now) shows as
/// green, orange, green bars with a tick per serial; validation, off at first, is shaded
/// until it came on; the charts' section says loudly when validation is off now.
#[test]
fn the_timeline_shows_states_serials_and_validation() {
    let cache = |state, serial| SourceChange {
        time: None,
        kind: "rtr",
        name: "127.0.0.1:3323".into(),
        state,
        serial,
    };
    let rpki = RpkiHistory {
        sources: [
            (0, cache(SourceState::Up, Some(7))),
            (1800, cache(SourceState::Down, Some(7))),
            (2400, cache(SourceState::Up, Some(9))),
        ]
        .into_iter()
        .map(|(t, c)| SourceChange { time: time(t), ..c })
        .collect(),
        validation: [(0, false), (60, true)]
            .into_iter()
            .map(|(t, active)| ValidationChange {
                time: time(t),
                active,
                reason: (!active).then_some("no VRPs yet"),
            })
            .collect(),
    };
    let now = SourceStatus {
        state: SourceState::Up,
        serial: Some(9),
        ..SourceStatus::new("rtr", "127.0.0.1:3323".into(), Some(1))
    };
    let status = status(vec![now], Validation::active());
    let window = Window {
        start: 0,
        end: 3600,
    };
    let mut out = String::new();
    rpki_timeline(&mut out, &status, &rpki, window);
    let bars = [
        "x=\"170.0\" y=\"25.0\" width=\"9.0\" height=\"14.0\" fill=\"#c00000\"><title>validation \
         not active: no VRPs yet</title>",
        "x=\"179.0\" y=\"25.0\" width=\"531.0\" height=\"14.0\" fill=\"#40a040\"><title>validation \
         active</title>",
        "x=\"170.0\" y=\"45.0\" width=\"270.0\" height=\"14.0\" fill=\"#40a040\"><title>up, serial \
         7</title>",
        "x=\"440.0\" y=\"45.0\" width=\"90.0\" height=\"14.0\" fill=\"#f0a030\"><title>down (data \
         kept until expire), serial 7</title>",
        "x=\"530.0\" y=\"45.0\" width=\"180.0\" height=\"14.0\" fill=\"#40a040\"><title>up, serial \
         9</title>",
    ];
    for bar in bars {
        assert!(out.contains(bar), "{bar} in {out}");
    }
    let ticks: Vec<&str> = (out.split("</title></line>"))
        .filter_map(|part| part.rsplit("<title>").next())
        .filter(|t| t.starts_with("serial"))
        .collect();
    assert_eq!(ticks, ["serial 7", "serial 9"], "{out}");
    assert!(out.contains(">rtr 127.0.0.1:3323</text>"), "{out}");

    let off = Validation::default().next(0, false, false, SystemTime::now());
    let mut out = String::new();
    charts(
        &mut out,
        &status_with(off),
        &[],
        &RpkiHistory::default(),
        window,
        None,
    );
    assert!(
        out.contains(
            "<p class=\"alert\" id=\"charts-validation\">validation not active: no VRPs yet"
        ),
        "{out}"
    );
    let mut out = String::new();
    charts(&mut out, &status, &[], &rpki, window, None);
    assert!(!out.contains("charts-validation"), "{out}");
    assert!(
        out.contains("No peer had routes that would be dropped."),
        "{out}"
    );
}

fn status_with(validation: Validation) -> Status {
    status(vec![], validation)
}
