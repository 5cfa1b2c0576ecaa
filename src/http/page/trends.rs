//! The page's pictures of the last day: invalid, would-drop and dropped routes over time,
//! and the RPKI sources' states and serials on a timeline.
//!
//! Where it sits: `page.rs` hands these the status (the present) and the history's samples
//! and RPKI changes (the past, `history.rs`); `svg.rs` draws. One chart per peer does not
//! scale to 500 members, so the overview draws the sum over all peers and the
//! [`TOP_PEERS`] peers with the highest would-drop count at any moment in the window (a
//! peer that fixed its routes an hour ago still shows); a peer's page draws that peer.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::SystemTime;

use super::report::HistoryView;
use super::svg::{self, Row, Series, Span, Window};
use super::{escape, when, Status};
use crate::history::{RpkiHistory, Sample};
use crate::rib::RovCounts;
use crate::rpki::status::SourceState;

/// How many peers get a chart of their own on the overview.
pub(super) const TOP_PEERS: usize = 5;

/// Invalid, would-drop and dropped paths.
type Counts = [u64; 3];

const NAMES: [&str; 3] = ["invalid", "would drop", "dropped"];
const COLORS: [&str; 3] = ["#e08000", "#c00000", "#404040"];
/// Validation not active, on the timeline (the charts shade it lighter).
const OFF: &str = "#c00000";

fn counts(c: &RovCounts) -> Counts {
    [c.invalid, c.invalid.saturating_sub(c.dropped), c.dropped]
}

/// The span the pictures show: from the oldest sample or RPKI change (an hour at least,
/// a day at most) until now.
pub(super) fn window(history: &HistoryView, now: SystemTime) -> Window {
    let rpki = &history.rpki;
    let firsts = [
        history.samples.first().and_then(|s| s.time),
        rpki.sources.front().and_then(|c| c.time),
        rpki.validation.front().and_then(|c| c.time),
    ];
    let oldest = firsts.into_iter().flatten().min().map(svg::secs);
    Window::new(oldest, svg::secs(now))
}

/// The moments the charts show, oldest first: each sample in the window, then the present.
fn moments<'a>(
    samples: &'a [Sample],
    status: &'a Status,
    window: Window,
) -> impl Iterator<Item = (u64, Vec<(&'a str, Counts)>)> + 'a {
    let past = samples.iter().filter_map(move |s| {
        let t = svg::secs(s.time?);
        let peers = s.peers.iter().map(|(n, c)| (n.as_str(), counts(c)));
        (t >= window.start).then(|| (t, peers.collect()))
    });
    let now = status
        .peers
        .iter()
        .map(|p| (p.name.as_str(), counts(&p.counts)));
    past.chain([(window.end, now.collect())])
}

/// The three series of the counts that `pick` takes out of each moment.
fn series<'a>(
    moments: &[(u64, Vec<(&'a str, Counts)>)],
    pick: impl Fn(&[(&'a str, Counts)]) -> Option<Counts>,
) -> Vec<Series> {
    (0..3)
        .map(|i| Series {
            name: NAMES[i],
            color: COLORS[i],
            points: (moments.iter())
                .filter_map(|(t, peers)| pick(peers).map(|c| (*t, c[i])))
                .collect(),
        })
        .collect()
}

/// The peers to chart on the overview: the [`TOP_PEERS`] with the highest would-drop
/// count at any moment, highest first (ties by name); none with no would-drop at all.
pub(super) fn top_peers<'a>(moments: &[(u64, Vec<(&'a str, Counts)>)]) -> Vec<&'a str> {
    let mut peaks: HashMap<&str, u64> = HashMap::new();
    for (name, c) in moments.iter().flat_map(|(_, peers)| peers) {
        let peak = peaks.entry(name).or_default();
        *peak = (*peak).max(c[1]);
    }
    let mut peaks: Vec<(&str, u64)> = peaks.into_iter().filter(|&(_, n)| n > 0).collect();
    peaks.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    peaks.into_iter().take(TOP_PEERS).map(|(n, _)| n).collect()
}

/// The charts: all peers summed, then one peer's (`peer`) or the top peers'. Spells
/// without validation are shaded, and while validation is off the section says so first.
pub(super) fn charts(
    out: &mut String,
    status: &Status,
    samples: &[Sample],
    rpki: &RpkiHistory,
    window: Window,
    peer: Option<&str>,
) {
    out.push_str("<h2>Invalid routes over time</h2>\n");
    if let Some(line) = status.vrps.validation.describe() {
        let _ = writeln!(
            out,
            "<p class=\"alert\" id=\"charts-validation\">{} (since {}): every route is \
             not-found, so these charts show no invalid routes. That is not all clear.</p>",
            escape(&line),
            when(status.vrps.validation.since, SystemTime::now())
        );
    }
    let inactive: Vec<(u64, u64)> = (validation_spells(status, rpki, window).into_iter())
        .filter(|s| s.color == OFF)
        .map(|s| (s.from, s.to))
        .collect();
    let moments: Vec<_> = moments(samples, status, window).collect();
    let total = series(&moments, |peers| {
        Some(peers.iter().fold([0; 3], |sum, (_, c)| {
            [sum[0] + c[0], sum[1] + c[1], sum[2] + c[2]]
        }))
    });
    svg::line_chart(out, "chart-total", "All peers", window, &total, &inactive);
    let shown = match peer {
        Some(name) => vec![name],
        None => top_peers(&moments),
    };
    match (peer, shown.len()) {
        (None, 0) => out.push_str("<p>No peer had routes that would be dropped.</p>\n"),
        (None, n) => {
            let _ = writeln!(
                out,
                "<p>The {n} peers (of {}) with the most routes that would be dropped at any \
                 time shown; every peer's chart is on its page.</p>",
                status.peers.len()
            );
        }
        _ => {}
    }
    for (i, name) in shown.into_iter().enumerate() {
        let lines = series(&moments, |peers| {
            peers.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
        });
        let id = format!("chart-peer-{i}");
        svg::line_chart(out, &id, name, window, &lines, &inactive);
    }
}

/// Validation's spells in the window: active (green) or not (red), until now.
fn validation_spells(status: &Status, rpki: &RpkiHistory, window: Window) -> Vec<Span> {
    let now = &status.vrps.validation;
    let past = rpki
        .validation
        .iter()
        .map(|c| (c.time, (c.active, c.reason)));
    let changes = past.chain([(None, (now.active, now.reason))]);
    spells(changes, window, |&(active, reason)| match active {
        true => ("#40a040", "validation active".into()),
        false => (
            OFF,
            format!("validation not active: {}", reason.unwrap_or("")),
        ),
    })
}

/// Spans from a list of changes (time, then what; `None` time: now), each lasting until
/// the next, coloured and described by `look`.
fn spells<T>(
    changes: impl Iterator<Item = (Option<SystemTime>, T)>,
    window: Window,
    look: impl Fn(&T) -> (&'static str, String),
) -> Vec<Span> {
    let at = |t: Option<SystemTime>| t.map_or(window.end, svg::secs);
    let changes: Vec<(u64, T)> = changes.map(|(t, what)| (at(t), what)).collect();
    (changes.iter().enumerate())
        .map(|(i, (from, what))| {
            let to = changes.get(i + 1).map_or(window.end, |(t, _)| *t);
            let (color, what) = look(what);
            Span {
                from: *from,
                to,
                color,
                what,
            }
        })
        .collect()
}

/// The colour and meaning of a source's state on the timeline.
fn state_look(state: SourceState) -> (&'static str, &'static str) {
    match state {
        SourceState::Starting => ("#b0b0b0", "starting"),
        SourceState::Up => ("#40a040", "up"),
        SourceState::Down => ("#f0a030", "down (data kept until expire)"),
        SourceState::Error => ("#a06000", "error (earlier data kept)"),
        SourceState::Expired => ("#c00000", "expired (data withdrawn)"),
    }
}

/// At most `n` characters of `text`, with an ellipsis if cut.
fn shorten(text: &str, n: usize) -> String {
    match text.char_indices().nth(n) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.into(),
    }
}

/// The timeline: validation, then each RPKI source (those configured now, then those seen
/// before a reload removed them) with its states and its serials as marks.
pub(super) fn rpki_timeline(out: &mut String, status: &Status, rpki: &RpkiHistory, window: Window) {
    let validation = Row {
        label: "validation".into(),
        spans: validation_spells(status, rpki, window),
        marks: vec![],
    };
    let mut names: Vec<(&'static str, &str)> = (status.sources.iter())
        .map(|s| (s.kind, s.name.as_str()))
        .collect();
    for c in &rpki.sources {
        if !names.contains(&(c.kind, c.name.as_str())) {
            names.push((c.kind, c.name.as_str()));
        }
    }
    let rows = names.into_iter().map(|(kind, name)| {
        let past = (rpki.sources.iter())
            .filter(|c| c.kind == kind && c.name == name)
            .map(|c| (c.time, (c.state, c.serial)));
        let now = (status.sources.iter())
            .find(|s| s.kind == kind && s.name == name)
            .map(|s| (None, (s.state, s.serial)));
        let changes: Vec<_> = past.chain(now).collect();
        let spans = spells(changes.iter().copied(), window, |&(state, serial)| {
            let (color, word) = state_look(state);
            let serial = serial.map_or_else(String::new, |n| format!(", serial {n}"));
            (color, format!("{word}{serial}"))
        });
        let mut marks = Vec::new();
        let mut serial = None;
        for (t, (_, now)) in &changes {
            if let Some(n) = now.filter(|_| *now != serial) {
                let at = t.map_or(window.end, svg::secs);
                marks.push((at, format!("serial {n}")));
            }
            serial = *now;
        }
        Row {
            label: shorten(&format!("{kind} {name}"), 26),
            spans,
            marks,
        }
    });
    let rows: Vec<Row> = [validation].into_iter().chain(rows).collect();
    out.push_str("<h3>RPKI sources over time</h3>\n");
    svg::timeline(out, "rpki-timeline", "RPKI sources", window, &rows);
    out.push_str(
        "<p>Green: up (validation active); grey: starting; orange: down, its data kept \
         until expire; brown: the last read failed; red: expired, its data withdrawn; \
         red on the validation row: validation not active (shaded in the charts). A tick is a new serial.</p>\n",
    );
}

#[cfg(test)]
#[path = "trends_tests.rs"]
mod tests;
