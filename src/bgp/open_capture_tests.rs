//! OPEN tests on real captures: every OPEN in tcpdump's test captures against tcpdump's
//! decode (`*.out`), and every OPEN in every shared capture decodes and negotiates.

use super::tests::{local, peer};
use super::*;
use crate::bgp::test_capture as capture;
use crate::bgp::wire::family;

/// tcpdump's decode of each OPEN in a `.out` file, as the `PeerOpen` it describes.
fn expected_opens(out: &str) -> Vec<PeerOpen> {
    let mut opens: Vec<PeerOpen> = Vec::new();
    let (mut in_open, mut cap, mut mp_seen) = (false, 0u32, false);
    let finish = |opens: &mut Vec<PeerOpen>, mp_seen: bool| {
        if let Some(p) = opens.last_mut() {
            if !mp_seen {
                p.families = vec![Family::Ipv4Unicast];
            }
        }
    };
    for line in out.lines() {
        let t = line.trim();
        if t.starts_with("Open Message") {
            finish(&mut opens, mp_seen);
            (in_open, cap, mp_seen) = (true, 0, false);
            opens.push(PeerOpen {
                families: vec![],
                as4: false,
                route_refresh: false,
                ..peer()
            });
            continue;
        }
        // A packet line, or another message's first line (one tab, no more indent), ends it.
        if !line.starts_with('\t') || !line[1..].starts_with([' ', '\t']) {
            in_open = false;
        }
        let Some(p) = opens.last_mut().filter(|_| in_open) else {
            continue;
        };
        if let Some(rest) = t.strip_prefix("Version 4, my AS ") {
            let f: Vec<&str> = rest.split([',', ' ']).filter(|s| !s.is_empty()).collect();
            p.asn = Asn(f[0].parse().unwrap());
            p.hold_time = f[2].trim_end_matches('s').parse().unwrap();
            p.router_id = f[4].parse().unwrap();
        } else if let Some(rest) = t
            .strip_suffix(|c: char| c.is_ascii_digit())
            .and(t.rsplit_once("), length: "))
        {
            if !rest.0.starts_with("Option") {
                cap = rest.0.rsplit_once('(').unwrap().1.parse().unwrap();
                match cap {
                    1 => mp_seen = true,
                    2 => p.route_refresh = true,
                    6 => p.extended_message = true,
                    65 => p.as4 = true,
                    70 => p.enhanced_route_refresh = true,
                    _ => {}
                }
            }
        } else if let Some(asn) = t.strip_prefix("4 Byte AS ") {
            p.asn = Asn(asn.parse().unwrap());
        } else if let Some(flags) = t.strip_prefix("Restart Flags: [") {
            let (flags, time) = flags.split_once("], Restart Time ").unwrap();
            p.graceful_restart = Some(GracefulRestart {
                restart_time: time.trim_end_matches('s').parse().unwrap(),
                restarting: flags.split(", ").any(|f| f == "R"),
                families: vec![],
                forwarding_preserved: vec![],
            });
        } else if t.starts_with("AFI ") {
            let num = |s: &str| {
                s.rsplit_once('(')
                    .unwrap()
                    .1
                    .trim_end_matches(')')
                    .to_string()
            };
            let parts: Vec<&str> = t.split(", ").collect();
            let f = family(
                num(parts[0]).parse().unwrap(),
                num(parts[1]).parse().unwrap(),
            );
            match (cap, f) {
                (1, Some(f)) => p.families.push(f),
                (64, Some(f)) => {
                    let gr = p.graceful_restart.as_mut().unwrap();
                    gr.families.push(f);
                    if t.ends_with("Forwarding state preserved: yes") {
                        gr.forwarding_preserved.push(f);
                    }
                }
                (69, Some(f)) if t.ends_with("Receive") || t.ends_with("Both") => {
                    p.add_path_receive.push(f);
                }
                _ => {}
            }
        }
    }
    finish(&mut opens, mp_seen);
    opens
}

fn opens_in(path: &std::path::Path) -> Vec<Vec<u8>> {
    capture::bgp_messages(path)
        .into_iter()
        .filter(|m| m[18] == 1)
        .collect()
}

#[test]
fn real_opens_match_tcpdump_decodes() {
    let dir = capture::pcap_dir().join("tcpdump-tests");
    let mut checked = 0;
    for path in capture::captures(&dir) {
        let out = path.with_extension("out");
        let Ok(text) = std::fs::read_to_string(&out) else {
            continue;
        };
        let expected = expected_opens(&text);
        let got: Vec<PeerOpen> = opens_in(&path)
            .iter()
            .map(|m| decode_open(m).unwrap_or_else(|n| panic!("{}: {n}", path.display())))
            .collect();
        assert_eq!(got, expected, "{}", path.display());
        checked += got.len();
    }
    assert_eq!(checked, 22, "OPENs in tcpdump-tests");
}

#[test]
fn every_captured_open_decodes_and_negotiates() {
    let mut decoded = 0;
    for path in capture::captures(&capture::pcap_dir()) {
        for m in opens_in(&path) {
            let open = decode_open(&m).unwrap_or_else(|n| panic!("{}: {n}", path.display()));
            let ours = LocalSpeaker {
                asn: Asn(open.asn.0.wrapping_add(1)),
                ..local()
            };
            let result = negotiate(&ours, open.asn, &open);
            match result {
                Ok(n) => assert!(!n.families.is_empty() && n.hold_time <= 90),
                Err(n) => assert_eq!((n.code, n.subcode), (2, 7), "{}", path.display()),
            }
            decoded += 1;
        }
    }
    assert!(decoded >= 40, "only {decoded} OPENs found in the captures");
}
