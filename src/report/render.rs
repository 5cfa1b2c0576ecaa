//! Printing a [`Report`]: a table for people, JSON for programs, CSV for spreadsheets.
//!
//! Where it sits: the last step of `rovgate report`, after `report::build` (offline) or
//! `report::fetch` (from a running rovgate). The output depends on the report alone: the
//! same report gives the same bytes.

use std::fmt::Write;

use super::{Counts, InvalidRoute, PeerReport, ReasonCode, ReasonSummary, Report};
use crate::route::Asn;

/// How [`render`] prints a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human text: totals, then per peer its summary, a line per reason, and its routes in
    /// aligned columns (prefix, origin, reason, reachable, dropped, reason codes, AS path),
    /// each with its suggestion on the line below.
    Table,
    /// The report as one JSON document on one line (`jq .` pretty-prints it).
    Json,
    /// A header and one row per listed route (RFC 4180: CRLF line ends, fields with a
    /// comma, quote or line break quoted, quotes doubled); `reasons` is the route's codes
    /// as `1101:N name` joined by `; `.
    Csv,
}

/// The CSV header; every row has as many fields.
pub const CSV_HEADER: [&str; 11] = [
    "peer",
    "prefix",
    "origin",
    "as_path",
    "state",
    "reason",
    "vrps",
    "reachable",
    "dropped",
    "suggestion",
    "reasons",
];

/// Renders `report` in `format`; the text ends with a line break.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Table => table(report),
        Format::Json => {
            // Plain structs, lists and strings: serializing cannot fail.
            let mut out = serde_json::to_string(report).expect("a report serializes");
            out.push('\n');
            out
        }
        Format::Csv => csv(report),
    }
}

fn table(report: &Report) -> String {
    let mut out = format!("what-if report, {} VRPs", report.vrps);
    if let Some(peer) = &report.peer {
        let _ = write!(out, ", peer {peer}");
    }
    out.push('\n');
    let totals = &report.totals;
    let _ = writeln!(out, "total: {}", counts_line(&totals.counts));
    let _ = writeln!(out, "total: {}", totals.summary);
    reason_lines(&mut out, "total: ", &totals.reasons);
    if report.peers.is_empty() {
        out.push_str("no peers\n");
    }
    for peer in &report.peers {
        out.push('\n');
        peer_table(&mut out, peer);
    }
    out
}

fn counts_line(c: &Counts) -> String {
    format!(
        "{} routes: {} valid, {} invalid ({} dropped now), {} not-found",
        c.routes, c.valid, c.invalid, c.dropped, c.not_found
    )
}

fn peer_table(out: &mut String, peer: &PeerReport) {
    let _ = writeln!(out, "{}: {}", peer.name, counts_line(&peer.counts));
    let _ = writeln!(out, "  {}", peer.summary);
    reason_lines(out, "  ", &peer.reasons);
    if peer.invalid_routes.is_empty() {
        out.push_str("  no invalid routes\n");
        return;
    }
    let header = [
        "PREFIX",
        "ORIGIN",
        "REASON",
        "REACHABLE",
        "DROPPED",
        "CODES",
        "AS PATH",
    ];
    let mut rows = vec![(header.map(str::to_string), None)];
    rows.extend(peer.invalid_routes.iter().map(|r| {
        let cells = [
            r.prefix.to_string(),
            origin_text(r.origin),
            r.reason.to_string(),
            yes_no(r.reachable).to_string(),
            yes_no(r.dropped).to_string(),
            codes(&r.reasons),
            r.as_path.clone(),
        ];
        (cells, Some(r.suggestion.as_str()))
    }));
    aligned(out, &rows);
}

/// Writes rows indented by two spaces, every column but the last padded to its widest cell;
/// each row's note, if any, goes on the next line, indented by six.
fn aligned<const N: usize>(out: &mut String, rows: &[([String; N], Option<&str>)]) {
    let mut widths = [0; N];
    for (row, _) in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for (row, note) in rows {
        out.push(' ');
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == N {
                let _ = write!(out, " {cell}");
            } else {
                let _ = write!(out, " {cell:<w$}");
            }
        }
        out.push('\n');
        if let Some(note) = note {
            let _ = writeln!(out, "      {note}");
        }
    }
}

/// One line per reason: `1101:N name: summary (D dropped now); fix: advice`.
fn reason_lines(out: &mut String, indent: &str, reasons: &[ReasonSummary]) {
    for r in reasons {
        let _ = writeln!(
            out,
            "{indent}{}: {} ({} dropped now); fix: {}",
            r.reason, r.summary, r.dropped, r.advice
        );
    }
}

/// The codes `1101:N` of `reasons`, joined by commas.
fn codes(reasons: &[ReasonCode]) -> String {
    let codes: Vec<String> = reasons.iter().map(|r| format!("1101:{}", r.code)).collect();
    codes.join(",")
}

fn origin_text(origin: Option<Asn>) -> String {
    origin.map_or_else(|| "AS_SET".to_string(), |a| a.to_string())
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn csv(report: &Report) -> String {
    let mut out = String::new();
    csv_row(&mut out, CSV_HEADER.map(str::to_string));
    for peer in &report.peers {
        for route in &peer.invalid_routes {
            csv_row(&mut out, csv_fields(&peer.name, route));
        }
    }
    out
}

/// One route as CSV fields: the origin as a number (empty for an AS_SET), the VRPs as
/// `prefix-maxLength ASn` joined by `; `, the reasons as `1101:N name` joined by `; `.
fn csv_fields(peer: &str, r: &InvalidRoute) -> [String; 11] {
    let vrps: Vec<String> = r.vrps.iter().map(ToString::to_string).collect();
    let reasons: Vec<String> = r.reasons.iter().map(ToString::to_string).collect();
    [
        peer.to_string(),
        r.prefix.to_string(),
        r.origin.map(|a| a.0.to_string()).unwrap_or_default(),
        r.as_path.clone(),
        r.state.to_string(),
        r.reason.to_string(),
        vrps.join("; "),
        r.reachable.to_string(),
        r.dropped.to_string(),
        r.suggestion.clone(),
        reasons.join("; "),
    ]
}

fn csv_row<const N: usize>(out: &mut String, fields: [String; N]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_quote(field));
    }
    out.push_str("\r\n");
}

/// A field as RFC 4180 wants it: quoted when it holds a comma, a quote or a line break,
/// with quotes doubled.
pub(super) fn csv_quote(field: &str) -> std::borrow::Cow<'_, str> {
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\"")).into()
    } else {
        field.into()
    }
}
