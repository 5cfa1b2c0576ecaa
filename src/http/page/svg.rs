//! The page's pictures as inline SVG, drawn on the server: a line chart of counts over time
//! and a timeline of states. No script, no fonts or files fetched: the page works offline
//! and within its Content-Security-Policy (colours are SVG attributes, not CSS).
//!
//! Where it sits: `trends.rs` turns the history into [`Series`] and [`Row`]s; this file only
//! draws them in a [`Window`] of time. Every label goes through `escape`.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use super::escape;

/// The width of every picture, in pixels.
const WIDTH: f64 = 720.0;
/// Where the plot starts: room for the labels on the left.
const LEFT: f64 = 170.0;
/// Room on the right, past the last point.
const RIGHT: f64 = 10.0;
/// A line chart's height: the legend on top, the time axis below.
const CHART_HEIGHT: f64 = 150.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 20.0;
/// One timeline row's height.
const ROW: f64 = 20.0;
/// The least span a picture shows, and the most (the history keeps a day).
const MIN_SPAN: u64 = 3600;
const MAX_SPAN: u64 = 86_400;
/// Serial labels closer than this (pixels) to the previous one are left to their tooltip.
const LABEL_GAP: f64 = 60.0;
/// Background of a spell without validation.
const INACTIVE: &str = "#f8d0d0";

/// The span of time a picture shows, in Unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Window {
    pub start: u64,
    pub end: u64,
}

impl Window {
    /// From the `oldest` record on (at least an hour back, at most a day) until `now`.
    pub fn new(oldest: Option<u64>, now: u64) -> Window {
        let span = oldest.map_or(0, |t| now.saturating_sub(t));
        let span = span.clamp(MIN_SPAN, MAX_SPAN);
        Window {
            start: now.saturating_sub(span),
            end: now,
        }
    }

    /// The x coordinate of time `t` (clamped into the window).
    fn x(&self, t: u64) -> f64 {
        let t = t.clamp(self.start, self.end);
        let span = (self.end - self.start).max(1) as f64;
        LEFT + (t - self.start) as f64 / span * (WIDTH - LEFT - RIGHT)
    }
}

/// Seconds since the Unix epoch (0 for a time before it).
pub(super) fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `HH:MM` UTC.
fn clock(t: u64) -> String {
    let t = DateTime::<Utc>::from(SystemTime::UNIX_EPOCH + Duration::from_secs(t));
    t.format("%H:%M").to_string()
}

/// One line of a chart: its name, colour and points (Unix seconds, value), oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Series {
    pub name: &'static str,
    pub color: &'static str,
    pub points: Vec<(u64, u64)>,
}

/// The top of the value axis: the least 1, 2 or 5 times a power of ten at or above `max`.
pub(super) fn scale_top(max: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            let top = step.saturating_mul(m);
            if top >= max || top == u64::MAX {
                return top;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// The points of `series` inside the window, at most one per pixel column: each column
/// keeps its highest value (a spike stays visible), at the time of its first point.
pub(super) fn columns(points: &[(u64, u64)], window: Window) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    let mut last_column = None;
    for &(t, v) in points
        .iter()
        .filter(|(t, _)| *t >= window.start && *t <= window.end)
    {
        let column = window.x(t).floor() as i64;
        match out.last_mut() {
            Some(last) if last_column == Some(column) => last.1 = last.1.max(v),
            _ => out.push((t, v)),
        }
        last_column = Some(column);
    }
    out
}

/// A line chart of `series` over `window`, with the spells in `inactive` shaded and titled
/// as without validation. Each series' last value is in the legend.
pub(super) fn line_chart(
    out: &mut String,
    id: &str,
    title: &str,
    window: Window,
    series: &[Series],
    inactive: &[(u64, u64)],
) {
    let lines: Vec<Vec<(u64, u64)>> = series.iter().map(|s| columns(&s.points, window)).collect();
    let max = lines.iter().flatten().map(|&(_, v)| v).max().unwrap_or(0);
    let top = scale_top(max);
    let plot = CHART_HEIGHT - TOP - BOTTOM;
    let y = |v: u64| TOP + plot - v as f64 / top as f64 * plot;
    open(out, id, title, CHART_HEIGHT);
    for &(from, to) in inactive {
        let (x0, x1) = (window.x(from), window.x(to));
        let _ = write!(
            out,
            "<rect x=\"{x0:.1}\" y=\"{TOP}\" width=\"{:.1}\" height=\"{plot}\" fill=\"{INACTIVE}\">\
             <title>validation not active</title></rect>",
            (x1 - x0).max(1.0)
        );
    }
    let mut levels = vec![0, top / 2, top];
    levels.dedup();
    for v in levels {
        let (yv, x1) = (y(v), WIDTH - RIGHT);
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{x1}\" y1=\"{yv:.1}\" y2=\"{yv:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{v}</text>",
            LEFT - 4.0,
            yv + 4.0
        );
    }
    time_axis(out, window, CHART_HEIGHT - 5.0);
    let _ = write!(
        out,
        "<text x=\"4\" y=\"{:.1}\">{}</text>",
        TOP + 12.0,
        escape(title)
    );
    for (i, (s, points)) in series.iter().zip(&lines).enumerate() {
        let coords: Vec<String> = (points.iter())
            .map(|&(t, v)| format!("{:.1},{:.1}", window.x(t), y(v)))
            .collect();
        let _ = write!(
            out,
            "<polyline class=\"series\" data-name=\"{}\" fill=\"none\" stroke=\"{}\" \
             stroke-width=\"1.5\" points=\"{}\"/>",
            s.name,
            s.color,
            coords.join(" ")
        );
        let last = points.last().copied();
        if let Some((t, v)) = last {
            let _ = write!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{}\"/>",
                window.x(t),
                y(v),
                s.color
            );
        }
        let now = last.map_or_else(|| "-".into(), |(_, v)| v.to_string());
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"14\" fill=\"{}\">{} {now}</text>",
            LEFT + 140.0 * i as f64,
            s.color,
            s.name
        );
    }
    out.push_str("</svg>\n");
}

/// A stretch of one timeline row: from, to (Unix seconds), colour and what it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Span {
    pub from: u64,
    pub to: u64,
    pub color: &'static str,
    pub what: String,
}

/// One row of a timeline: its label, its spans, and marks (time, label) such as serials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Row {
    pub label: String,
    pub spans: Vec<Span>,
    pub marks: Vec<(u64, String)>,
}

/// A timeline: one row per [`Row`], its spans as coloured bars with their meaning as
/// tooltip, its marks as ticks labelled where there is room.
pub(super) fn timeline(out: &mut String, id: &str, title: &str, window: Window, rows: &[Row]) {
    let height = TOP + ROW * rows.len() as f64 + BOTTOM;
    open(out, id, title, height);
    let _ = write!(out, "<text x=\"4\" y=\"14\">{}</text>", escape(title));
    for (i, row) in rows.iter().enumerate() {
        let top = TOP + ROW * i as f64;
        let _ = write!(
            out,
            "<g class=\"row\"><text x=\"4\" y=\"{:.1}\">{}</text>",
            top + 14.0,
            escape(&row.label)
        );
        for s in &row.spans {
            let (x0, x1) = (window.x(s.from), window.x(s.to));
            let _ = write!(
                out,
                "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" \
                 fill=\"{}\"><title>{}</title></rect>",
                top + 3.0,
                (x1 - x0).max(1.0),
                ROW - 6.0,
                s.color,
                escape(&s.what)
            );
        }
        let mut labelled = f64::NEG_INFINITY;
        for (t, label) in &row.marks {
            let x = window.x(*t);
            let _ = write!(
                out,
                "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#222\">\
                 <title>{}</title></line>",
                top + 1.0,
                top + ROW - 1.0,
                escape(label)
            );
            if x - labelled >= LABEL_GAP {
                labelled = x;
                let _ = write!(
                    out,
                    "<text class=\"mark\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                    x + 2.0,
                    top + 14.0,
                    escape(label)
                );
            }
        }
        out.push_str("</g>");
    }
    time_axis(out, window, height - 5.0);
    out.push_str("</svg>\n");
}

/// The `<svg>` start tag and its accessible title.
fn open(out: &mut String, id: &str, title: &str, height: f64) {
    let _ = write!(
        out,
        "<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" \
         height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" font-size=\"11\" \
         font-family=\"sans-serif\" role=\"img\"><title>{}</title>\
         <rect width=\"{WIDTH}\" height=\"{height}\" fill=\"#fff\"/>",
        escape(title)
    );
}

/// The window's start, middle and end as `HH:MM` UTC at height `y`.
fn time_axis(out: &mut String, window: Window, y: f64) {
    let middle = window.start + (window.end - window.start) / 2;
    let ticks = [
        (window.start, "start"),
        (middle, "middle"),
        (window.end, "end"),
    ];
    for (t, anchor) in ticks {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\">{}</text>",
            window.x(t),
            clock(t)
        );
    }
    let _ = write!(
        out,
        "<text x=\"4\" y=\"{y:.1}\">UTC, last {} h</text>",
        (window.end - window.start).div_ceil(3600)
    );
}

#[cfg(test)]
#[path = "svg_tests.rs"]
mod tests;
