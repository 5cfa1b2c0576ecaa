//! The page's escaping, encoding and time spans, and a peer's reasons.

use super::*;

#[test]
fn escape_and_encode_leave_no_markup() {
    let cases = [
        ("plain-name_1.x", "plain-name_1.x", "plain-name_1.x"),
        (
            "<b>&</b>",
            "&lt;b&gt;&amp;&lt;/b&gt;",
            "%3Cb%3E%26%3C%2Fb%3E",
        ),
        (
            "a \"q\" 'x'",
            "a &quot;q&quot; &#39;x&#39;",
            "a%20%22q%22%20%27x%27",
        ),
        ("é", "é", "%C3%A9"),
    ];
    for (raw, escaped, encoded) in cases {
        assert_eq!(escape(raw), escaped, "{raw:?}");
        assert_eq!(encode(raw), encoded, "{raw:?}");
    }
    assert_eq!(peer_link("a&b"), "<a href=\"/?peer=a%26b\">a&amp;b</a>");
}

#[test]
fn times_read_as_spans() {
    let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(100_000);
    let at = |secs: u64| Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs));
    assert_eq!(when(None, now), "never");
    assert_eq!(when(at(99_990), now), "10 s ago");
    assert_eq!(when(at(99_700), now), "5 min ago");
    assert_eq!(when(at(90_000), now), "2 h ago");
    assert_eq!(when(at(100_030), now), "in 30 s");
}

/// Expect: a peer's page lists its what-if per reason and each route's reasons, escaped.
#[test]
fn a_peers_routes_show_their_reasons() {
    use crate::policy::{Check, Failed};
    use crate::report::{build, InvalidInput, PeerInput};
    let mut failed = Failed::default();
    failed.add(Check::Bogon);
    let peer = PeerInput {
        name: "m<1>".into(),
        valid: 0,
        invalid: 0,
        not_found: 1,
        dropped: 0,
    };
    let route = InvalidInput {
        peer: 0,
        prefix: "10.0.0.0/8".parse().unwrap(),
        origin: Some(Asn(3333)),
        as_path: "3333".into(),
        rpki_invalid: false,
        failed,
        dropped: false,
        aspa: None,
        reachable: false,
    };
    let report = build(&[peer], &[route], &Default::default(), None);
    let mut out = String::new();
    routes::invalid_routes(&mut out, &report.peers[0]);
    let reason = "<td>1101:3 bogon_prefix</td><td>1</td><td>1</td><td>0</td><td>1</td>";
    assert!(out.contains(reason), "{out}");
    assert!(out.contains("Invalid routes of m&lt;1&gt;"), "{out}");
    let row = "<td>not-invalid</td><td>1101:3 bogon_prefix</td><td></td>";
    assert!(out.contains(row), "{out}");
}
