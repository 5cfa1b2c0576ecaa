//! Tests of the metrics module: what `render` prints parses as Prometheus text and says
//! what the snapshots say.

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::bgp::counters::*;
use crate::policy::RovMode;
use crate::rib::{HoldView, PeerView, ReevaluationView, RovCounts, Timings};
use crate::route::abuse::{Malformed, Refusal};
use crate::route::Asn;
use crate::rpki::status::SourceStatus;
use crate::rpki::Vrp;

/// One sample line: `name{labels} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn is_name(s: &str, colon: bool) -> bool {
    let start = |c: char| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':');
    let mut chars = s.chars();
    chars.next().is_some_and(start) && chars.all(|c| start(c) || c.is_ascii_digit())
}

/// A strict Prometheus text parser: only HELP and TYPE comments, quoted label values,
/// f64 values, and a `# TYPE` before every sample of its metric.
fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut types: HashMap<&str, &str> = HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').ok_or(line)?;
            let known = ["counter", "gauge", "histogram", "summary", "untyped"];
            if !is_name(name, true) || !known.contains(&kind) {
                return Err(format!("bad TYPE: {line}"));
            }
            types.insert(name, kind);
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let end = line.find(['{', ' ']).ok_or(line)?;
        let (name, mut rest) = line.split_at(end);
        if !is_name(name, true) {
            return Err(format!("bad name: {line}"));
        }
        let mut labels = BTreeMap::new();
        if let Some(mut l) = rest.strip_prefix('{') {
            while !l.starts_with('}') {
                let (key, after) = l.split_once("=\"").ok_or(line)?;
                let (mut value, mut chars) = (String::new(), after.char_indices());
                let close = loop {
                    match chars.next().ok_or(line)? {
                        (i, '"') => break i,
                        (_, '\\') => match chars.next().ok_or(line)?.1 {
                            'n' => value.push('\n'),
                            c @ ('\\' | '"') => value.push(c),
                            _ => return Err(format!("bad escape: {line}")),
                        },
                        (_, c) => value.push(c),
                    }
                };
                if !is_name(key, false) || labels.insert(key.into(), value).is_some() {
                    return Err(format!("bad label {key:?}: {line}"));
                }
                l = &after[close + 1..];
                l = l.strip_prefix(',').unwrap_or(l);
            }
            rest = &l[1..];
        }
        let value = rest.strip_prefix(' ').ok_or(line)?;
        let value: f64 = value.parse().map_err(|_| format!("bad value: {line}"))?;
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .filter_map(|s| name.strip_suffix(s))
            .find(|base| matches!(types.get(base), Some(&"histogram" | &"summary")))
            .unwrap_or(name);
        if !types.contains_key(family) {
            return Err(format!("no TYPE before {line}"));
        }
        let name = name.into();
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    Ok(samples)
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut found = samples
        .iter()
        .filter(|s| s.name == name && s.labels == labels);
    let first = found.next()?.value;
    assert!(found.next().is_none(), "{name} {labels:?} appears twice");
    Some(first)
}

fn peer(name: &str, up: bool, counts: RovCounts, would_drop: u64) -> PeerView {
    PeerView {
        name: name.into(),
        address: "192.0.2.1".parse().unwrap(),
        asn: Asn(64500),
        rov: RovMode::Shadow,
        up,
        pending: 0,
        last_down: None,
        counts,
        would_drop,
        abuse: Default::default(),
    }
}

#[test]
fn parser_rejects_what_prometheus_rejects() {
    let typed = "# TYPE a gauge\n";
    assert_eq!(
        parse(&format!("{typed}a{{x=\"1\",y=\"q\\\"\"}} 2.5\n")).unwrap()[0].value,
        2.5
    );
    for bad in ["a 1", "# TYPE a gauge\n1a 1", "# TYPE a gauge\na{x=1} 1"] {
        assert!(parse(bad).is_err(), "{bad:?} parsed");
    }
    for bad in [
        "a{x=\"1\"} one",
        "a{x=\"1\",x=\"2\"} 1",
        "a{x=\"1} 1",
        "a  1",
    ] {
        assert!(parse(&format!("{typed}{bad}")).is_err(), "{bad:?} parsed");
    }
}

/// Expect: every gauge equals the snapshot it came from; the histograms and the counter
/// grow by what the RIB's view says was recorded; the text is valid Prometheus exposition format.
#[test]
fn render_reports_snapshots_and_recorded_times() {
    let before = parse(&install().render()).unwrap();
    let count = |s: &[Sample], name: &str| value(s, name, &[]).unwrap_or(0.0);
    let mut timings = Timings::default();
    timings.update.record(Duration::from_micros(40));
    timings.reevaluation.record(Duration::from_millis(120));
    send_hold_expired("metrics-p1");
    update_malformed("metrics-p1", Malformed::TreatAsWithdraw);
    notification_sent("metrics-p1", 3, 1);
    notification_received("metrics-p1", 6, 2);
    connection_refused(Refusal::UnknownAddress);

    let c1 = RovCounts {
        routes: 10,
        valid: 6,
        invalid: 3,
        not_found: 1,
        dropped: 2,
        held: 1,
        stale: 0,
    };
    let c2 = RovCounts {
        routes: 4,
        not_found: 4,
        ..RovCounts::default()
    };
    let held = HoldView {
        since: None,
        serial: 9,
        routes: 17,
        peers: 1,
        until: None,
    };
    let rib = RibView {
        peers: vec![
            peer("metrics-p1", true, c1, 5),
            peer("metrics-p2", false, c2, 0),
        ],
        held_update: Some(held),
        reevaluation: ReevaluationView {
            changes: 3,
            ..Default::default()
        },
        update_delay: None,
        generation: 0,
        timings,
    };
    let mut cache = SourceStatus::new("rtr", "127.0.0.1:8282".into(), Some(1));
    cache.state = SourceState::Up;
    cache.vrps = 2;
    cache.serial = Some(42);
    cache.last_update = Some(SystemTime::now() - Duration::from_secs(30));
    let rpki = RpkiStatus {
        sources: vec![cache],
        stale: false,
    };
    let vrp = |p: &str| Vrp {
        prefix: p.parse().unwrap(),
        max_length: 24,
        asn: Asn(64500),
    };
    let vrps = VrpSnapshot {
        table: [vrp("192.0.2.0/24"), vrp("198.51.100.0/24")]
            .into_iter()
            .collect(),
        serial: 7,
        ..Default::default()
    };

    // A second install shares the first recorder: it sees what was recorded above.
    let text = render(&install(), &rib, &rpki, &vrps);
    let after = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let get = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?}\n{text}"))
    };
    for (state, n) in [("valid", 6.0), ("invalid", 3.0), ("not_found", 1.0)] {
        assert_eq!(get(ROUTES, &[("peer", "metrics-p1"), ("state", state)]), n);
    }
    assert_eq!(
        get(ROUTES, &[("peer", "metrics-p2"), ("state", "not_found")]),
        4.0
    );
    assert_eq!(get(ROUTES_DROPPED, &[("peer", "metrics-p1")]), 2.0);
    assert_eq!(get(ROUTES_HELD, &[("peer", "metrics-p1")]), 1.0);
    assert_eq!(get(WOULD_DROP, &[("peer", "metrics-p1")]), 5.0);
    assert_eq!(get(PEER_UP, &[("peer", "metrics-p1")]), 1.0);
    assert_eq!(get(PEER_UP, &[("peer", "metrics-p2")]), 0.0);
    assert_eq!(get(SESSIONS, &[("state", "established")]), 1.0);
    assert_eq!(get(SESSIONS, &[("state", "down")]), 1.0);
    let source = [("source", "127.0.0.1:8282"), ("kind", "rtr")];
    assert_eq!(get(SOURCE_VRPS, &source), 2.0);
    assert_eq!(get(SOURCE_SERIAL, &source), 42.0);
    assert_eq!(get(SOURCE_UP, &source), 1.0);
    let since = get(SOURCE_SECONDS_SINCE_UPDATE, &source);
    assert!((30.0..40.0).contains(&since), "{since}");
    assert_eq!(get(VRPS, &[]), 2.0);
    assert_eq!(get(VRP_SNAPSHOT_SERIAL, &[]), 7.0);
    assert_eq!(get(RPKI_STALE, &[]), 0.0);
    assert_eq!(get(MASS_INVALIDATION_HELD, &[]), 1.0);
    assert_eq!(get(MASS_INVALIDATION_ROUTES, &[]), 17.0);

    // Other tests in this process may record too: only growth is certain.
    let grew = |name: &str| count(&after, name) - count(&before, name);
    assert!(grew(&format!("{UPDATE_PROCESSING_SECONDS}_count")) >= 1.0);
    assert!(grew(&format!("{REEVALUATION_SECONDS}_count")) >= 1.0);
    assert!(grew(&format!("{REEVALUATION_SECONDS}_sum")) >= 0.119);
    assert!(grew(ROV_CHANGES_TOTAL) >= 3.0);
    assert_eq!(get(SEND_HOLD_EXPIRED_TOTAL, &[("peer", "metrics-p1")]), 1.0);
    assert_eq!(get(EXPORT_PENDING, &[("peer", "metrics-p1")]), 0.0);
    let malformed = [("peer", "metrics-p1"), ("reason", "treat_as_withdraw")];
    assert_eq!(get(UPDATES_MALFORMED_TOTAL, &malformed), 1.0);
    let sent = [("peer", "metrics-p1"), ("code", "3"), ("subcode", "1")];
    assert_eq!(get(NOTIFICATIONS_SENT_TOTAL, &sent), 1.0);
    let received = [("peer", "metrics-p1"), ("code", "6"), ("subcode", "2")];
    assert_eq!(get(NOTIFICATIONS_RECEIVED_TOTAL, &received), 1.0);
    let refused = [("reason", "unknown_address")];
    assert!(get(CONNECTIONS_REFUSED_TOTAL, &refused) >= 1.0);
    let fast = [("le", "0.00005")];
    assert!(get(&format!("{UPDATE_PROCESSING_SECONDS}_bucket"), &fast) >= 1.0);

    for (name, _) in HISTOGRAMS.iter().chain(COUNTERS).chain(GAUGES) {
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "{name} undescribed"
        );
    }
}
