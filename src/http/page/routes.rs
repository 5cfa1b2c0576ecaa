//! The page's parts about why routes are (or would be) filtered: per peer, how many of its
//! paths fail each import check; for one peer, its what-if per reason and its listed routes.
//!
//! Where it sits: `page.rs` calls these with the status (`RovCounts::failed`, the peer's
//! check modes) and the built report; everything is escaped as in the rest of the page.

use std::fmt::Write as _;

use super::{encode, escape, list, origin, peer_link, table, text, yes_no, Status};
use crate::policy::{Check, RovMode};
use crate::report::{PeerReport, ReasonCode};

/// How many listed routes of one peer the page shows (the API has them all, in pages).
const ROUTES: usize = 500;

/// The table of every peer's paths failing each import check, with the check's mode ("-"
/// for a check the peer does not run).
pub(super) fn checks(out: &mut String, status: &Status) {
    out.push_str("<h2>Import checks per peer</h2>\n");
    let rows = status.peers.iter().map(|p| {
        let cells = Check::ALL.map(|c| match p.checks.of(c) {
            RovMode::Accept => "-".to_string(),
            mode => format!("{} ({mode})", p.counts.failed.get(c)),
        });
        [peer_link(&p.name)].into_iter().chain(cells).collect()
    });
    let names = Check::ALL.map(|c| format!("1101:{} {}", c.code(), c.name()));
    let headers = format!("Peer|{}", names.join("|"));
    table(out, "checks", &headers, rows);
}

/// The reasons of a route, `1101:N name` joined by commas.
fn reasons(codes: &[ReasonCode]) -> String {
    codes.iter().map(text).collect::<Vec<_>>().join(", ")
}

/// One peer's what-if per reason, then its listed routes.
pub(super) fn invalid_routes(out: &mut String, p: &PeerReport) {
    let _ = write!(
        out,
        "<h2 id=\"peer\">Invalid routes of {}</h2>\n<p>If {} were at <code>rov = drop</code>: \
         {}.</p>\n",
        escape(&p.name),
        escape(&p.name),
        text(&p.summary)
    );
    if !p.reasons.is_empty() {
        let rows = p.reasons.iter().map(|r| {
            let n = [r.routes, r.would_drop, r.dropped, r.unreachable];
            let counts = n.map(|n| n.to_string());
            let (reason, advice) = (text(&r.reason), text(&r.advice));
            [reason].into_iter().chain(counts).chain([advice]).collect()
        });
        let headers = "Reason|Routes|Would drop|Dropped|Unreachable|What the member can do";
        table(out, "reasons", headers, rows);
    }
    if p.invalid_routes.is_empty() {
        out.push_str("<p>No invalid routes.</p>\n");
        return;
    }
    let rows = p.invalid_routes.iter().take(ROUTES).map(|r| {
        vec![
            text(r.prefix),
            origin(r.origin),
            text(&r.as_path),
            text(r.reason),
            reasons(&r.reasons),
            list(&r.vrps),
            yes_no(r.reachable, !r.reachable),
            yes_no(r.dropped, false),
            text(&r.suggestion),
        ]
    });
    let headers = "Prefix|Origin|AS path|Reason|Reasons|Covering VRPs|Reachable without it|\
                   Dropped|Suggested fix";
    table(out, "invalid-routes", headers, rows);
    if p.invalid_routes.len() > ROUTES {
        let api = format!("/api/v1/report?peer={}", encode(&p.name));
        let _ = writeln!(
            out,
            "<p>The first {ROUTES} of {}; all of them, in pages: <a href=\"{}\">the report \
             API</a>.</p>",
            p.invalid_routes.len(),
            escape(&api)
        );
    }
}
