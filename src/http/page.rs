//! The web page: what an operator checks at a glance, as server-rendered HTML.
//!
//! Where it sits: in the HTTP task beside the JSON API, and it reads exactly what the API
//! reads: `GET /[?peer=NAME]` calls the status, report and history handlers and renders
//! their answers. A looking-glass search box (a form to `GET /api/v1/routes`), sessions,
//! RPKI sources and their timeline, the held mass invalidation, per-peer ROV counts with
//! charts of the last day (`trends.rs`, drawn as inline SVG by `svg.rs`) and per-peer
//! counts per import check on every page; with `?peer=`, that peer's chart, its what-if
//! per reason and its listed routes explained (`routes.rs`: reasons, covering VRPs,
//! reachability, the fix) and its recent ROV changes. Every string that comes from
//! config, a peer or a file goes through [`escape`]; no JavaScript.

use std::fmt::{Display, Write as _};
use std::time::SystemTime;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::report::{self, HistoryView, PeerQuery};
use super::reports::Built;
use super::{Api, Status};
use crate::report::Report;
use crate::route::Asn;
use crate::rpki::status::SourceState;
use crate::rpki::Vrp;

mod routes;
mod svg;
mod trends;

/// How many recent ROV changes the page shows.
const CHANGES: usize = 50;

pub(super) const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;\
padding:.2em .5em;text-align:left}th{background:#eee}\
.bad{color:#b00;font-weight:bold}.ok{color:#070}.alert{background:#fee;border:1px solid #b00;\
padding:.5em}svg{display:block;margin:.5em 0;border:1px solid #ccc;max-width:100%;height:auto}";

/// `?peer=NAME`: the peer whose invalid routes and changes the page details.
#[derive(Deserialize)]
pub struct PageQuery {
    peer: Option<String>,
}

/// `GET /[?peer=NAME]`: the page; 404 for a peer that is not configured, 503 (with
/// `Retry-After`) when too many report readers wait.
pub async fn index(
    State(api): State<Api>,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, Response> {
    let peer = q.peer.filter(|p| !p.is_empty());
    let Json(status) = super::status(State(api.clone())).await;
    let built = api.reports.current(&api).await;
    let built = built.map_err(|e| error_page(e).into_response())?;
    let _permit = api.reports.permit().await?;
    let changes = PeerQuery {
        peer: peer.clone(),
        limit: Some(CHANGES),
    };
    let history = report::history(State(api.clone()), Query(changes)).await;
    let Json(history) = history.map_err(|e| error_page(e).into_response())?;
    Ok(Html(render(&status, &built, &history, peer.as_deref())))
}

fn error_page((code, why): (StatusCode, String)) -> (StatusCode, Html<String>) {
    let mut out = head("rovgate: error");
    let _ = write!(out, "<p class=\"alert\">{}</p>", escape(&why));
    out.push_str("<p><a href=\"/\">All peers</a></p></body></html>\n");
    (code, Html(out))
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Any displayable value as escaped HTML text.
fn text(value: impl Display) -> String {
    escape(&value.to_string())
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// An origin AS, or "AS_SET" for none.
fn origin(asn: Option<Asn>) -> String {
    asn.map_or_else(|| "AS_SET".into(), text)
}

/// VRPs as `prefix-maxlen ASn`, comma-separated.
fn list(vrps: &[Vrp]) -> String {
    vrps.iter().map(text).collect::<Vec<_>>().join(", ")
}

/// A link to a peer's detail page.
fn peer_link(name: &str) -> String {
    let href = format!("/?peer={}", encode(name));
    format!("<a href=\"{}\">{}</a>", escape(&href), escape(name))
}

/// A value's name as the JSON API spells it (`not-found`, `expired`).
fn api_name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => escape(&s),
        _ => "?".into(),
    }
}

/// "12 s ago", "in 5 min", or "never".
fn when(t: Option<SystemTime>, now: SystemTime) -> String {
    let Some(t) = t else { return "never".into() };
    let (secs, future) = match now.duration_since(t) {
        Ok(d) => (d.as_secs(), false),
        Err(e) => (e.duration().as_secs(), true),
    };
    let span = match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min", secs / 60),
        _ => format!("{} h", secs / 3600),
    };
    if future {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// "yes" or "no", in red when `alarming`.
fn yes_no(on: bool, alarming: bool) -> String {
    let word = if on { "yes" } else { "no" };
    match alarming {
        true => format!("<span class=\"bad\">{word}</span>"),
        false => word.into(),
    }
}

/// One table: `id`, its headers separated by `|`, and rows of cells that are HTML already
/// (escaped).
fn table(out: &mut String, id: &str, headers: &str, rows: impl IntoIterator<Item = Vec<String>>) {
    let _ = write!(out, "<table id=\"{id}\"><thead><tr>");
    for h in headers.split('|') {
        let _ = write!(out, "<th>{h}</th>");
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n",
        escape(title)
    )
}

fn render(status: &Status, built: &Built, history: &HistoryView, peer: Option<&str>) -> String {
    let (now, report) = (SystemTime::now(), &built.report);
    let mut out = head(&match peer {
        Some(name) => format!("rovgate: {name}"),
        None => "rovgate".into(),
    });
    let v = &status.vrps;
    let _ = write!(
        out,
        "<h1><a href=\"/\">rovgate</a> {}</h1>\n<p id=\"vrps\">{} VRPs in force, serial {}, \
         updated {}; {} ASPA objects.</p>\n",
        text(status.version),
        v.count,
        v.serial,
        when(v.updated, now),
        v.aspas
    );
    if let Some(line) = v.validation.describe() {
        let _ = writeln!(
            out,
            "<p class=\"alert\" id=\"validation\">{} (since {}): routes are not-found (fail \
             open), and the counts below say nothing about RPKI.</p>",
            text(line),
            when(v.validation.since, now)
        );
    }
    if status.waiting_for_vrps {
        out.push_str(
            "<p class=\"alert\" id=\"waiting\">Waiting for the first complete VRP set: routes \
             of peers in drop are not exported yet.</p>\n",
        );
    }
    if v.stale {
        out.push_str(
            "<p class=\"alert\" id=\"stale\">RPKI data is stale: every RTR cache is past \
             expire, its VRPs are withdrawn and routes they covered are not-found.</p>\n",
        );
    }
    lookup(&mut out);
    held(&mut out, status, now);
    sessions(&mut out, status);
    sources(&mut out, status, now);
    let window = trends::window(history, now);
    trends::rpki_timeline(&mut out, status, &history.rpki, window);
    counts(&mut out, report);
    trends::charts(
        &mut out,
        status,
        &history.samples,
        &history.rpki,
        window,
        peer,
    );
    routes::checks(&mut out, status);
    let _ = writeln!(
        out,
        "<p id=\"built\">Report {} built {} (for the RIB and VRPs as they were then).</p>",
        built.id,
        when(Some(built.time), now)
    );
    if let Some(name) = peer {
        match report.peers.iter().find(|p| p.name == name) {
            Some(p) => routes::invalid_routes(&mut out, p),
            None => out.push_str("<p>No report for this peer.</p>\n"),
        }
    }
    changes(&mut out, history, peer, now);
    out.push_str(
        "<p>JSON: <a href=\"/api/v1/status\">status</a>, <a href=\"/api/v1/report\">report</a>, \
         <a href=\"/api/v1/history\">history</a>, <a href=\"/metrics\">metrics</a>.</p>\
         </body></html>\n",
    );
    out
}

/// The looking glass: a prefix or address, answered by `GET /api/v1/routes?prefix=`.
fn lookup(out: &mut String) {
    out.push_str(
        "<form id=\"lookup\" method=\"get\" action=\"/api/v1/routes\"><label for=\"prefix\">\
         Looking glass, every path of a prefix or address with its verdict:</label> \
         <input id=\"prefix\" name=\"prefix\" required placeholder=\"192.0.2.0/24\"> \
         <button type=\"submit\">Look up</button></form>\n",
    );
}

fn held(out: &mut String, status: &Status, now: SystemTime) {
    let Some(h) = &status.held_update else { return };
    let until = match h.until {
        Some(_) => format!("It is applied {} without an operator", when(h.until, now)),
        None => "It is applied only on accept".into(),
    };
    let _ = writeln!(
        out,
        "<p class=\"alert\" id=\"held\">A VRP update (serial {}), held {} as a mass \
         invalidation, would newly drop {} routes of {} peers. {until}; \
         <code>POST /api/v1/vrps/accept</code> applies it now.</p>",
        h.serial,
        when(h.since, now),
        h.routes,
        h.peers
    );
}

fn sessions(out: &mut String, status: &Status) {
    out.push_str("<h2>Sessions</h2>\n");
    let rows = status.peers.iter().map(|p| {
        let state = match p.up {
            true => "<span class=\"ok\">up</span>",
            false => "<span class=\"bad\">down</span>",
        };
        let (asn, address) = (text(p.asn), text(p.address));
        vec![peer_link(&p.name), asn, address, state.into(), text(p.rov)]
    });
    table(out, "sessions", "Peer|AS|Address|Session|ROV", rows);
}

fn sources(out: &mut String, status: &Status, now: SystemTime) {
    out.push_str("<h2>RPKI sources</h2>\n");
    let rows = status.sources.iter().map(|s| {
        let stale = s.state == SourceState::Expired;
        let serial = s.serial.map_or_else(|| "-".into(), |n| n.to_string());
        vec![
            text(s.kind),
            text(&s.name),
            api_name(&s.state),
            yes_no(s.in_use, false),
            s.vrps.to_string(),
            serial,
            when(s.last_update, now),
            yes_no(stale, stale),
            text(s.error.as_deref().unwrap_or("")),
        ]
    });
    let headers = "Kind|Name|State|In use|VRPs|Serial|Last update|Stale|Error";
    table(out, "sources", headers, rows);
}

fn counts(out: &mut String, report: &Report) {
    out.push_str("<h2>Route origin validation per peer</h2>\n");
    let row = |name: String, c: &crate::report::Counts| {
        let (routes, valid, invalid, not_found) = (c.routes, c.valid, c.invalid, c.not_found);
        let n = [
            routes,
            valid,
            invalid,
            not_found,
            c.would_drop,
            c.dropped,
            c.unreachable,
        ];
        [name]
            .into_iter()
            .chain(n.map(|n| n.to_string()))
            .collect::<Vec<_>>()
    };
    let rows = (report.peers.iter())
        .map(|p| row(peer_link(&p.name), &p.counts))
        .chain([row("<b>All peers</b>".into(), &report.totals.counts)]);
    let headers = "Peer|Routes|Valid|Invalid|Not found|Would drop|Dropped|Unreachable";
    table(out, "rov", headers, rows);
    let _ = writeln!(
        out,
        "<p>If every peer were at <code>rov = drop</code>: {}.</p>",
        text(&report.totals.summary)
    );
}

fn changes(out: &mut String, history: &HistoryView, peer: Option<&str>, now: SystemTime) {
    match peer {
        Some(name) => {
            let _ = writeln!(out, "<h2>Recent ROV changes of {}</h2>", escape(name));
        }
        None => out.push_str("<h2>Recent ROV changes</h2>\n"),
    }
    if history.missed > 0 {
        let _ = writeln!(
            out,
            "<p class=\"alert\">The history fell behind and missed {} changes.</p>",
            history.missed
        );
    }
    if history.changes.is_empty() {
        out.push_str("<p>No ROV changes yet.</p>\n");
        return;
    }
    let rows = history.changes.iter().map(|c| {
        let ch = &c.change;
        let (before, after) = (text(ch.before), text(ch.after));
        let (time, peer, prefix) = (when(ch.time, now), peer_link(&c.peer_name), text(ch.prefix));
        vec![
            time,
            peer,
            prefix,
            origin(ch.origin),
            before,
            after,
            list(&ch.vrps),
        ]
    });
    table(
        out,
        "changes",
        "When|Peer|Prefix|Origin|Before|After|VRPs now",
        rows,
    );
}

#[cfg(test)]
#[path = "page_tests.rs"]
mod tests;
