//! OPEN tests: round trips, error NOTIFICATIONs, capabilities and negotiation outcomes
//! (real captured OPENs are in `open_capture_tests.rs`, the classic and RFC 9072 wire forms
//! in `open_rfc9072_tests.rs`).

use std::net::Ipv4Addr;

use super::*;

pub(super) fn local() -> LocalSpeaker {
    LocalSpeaker::new(Asn(64500), Ipv4Addr::new(192, 0, 2, 254))
}

/// A peer OPEN as a typical IPv4+IPv6 peer in AS 64496 sends it.
pub(super) fn peer() -> PeerOpen {
    PeerOpen {
        asn: Asn(64496),
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

#[test]
fn encode_then_decode_round_trips() {
    for (asn, my_as) in [(64500u32, 64500u16), (4_200_000_000, AS_TRANS)] {
        let l = LocalSpeaker {
            asn: Asn(asn),
            ..local()
        };
        let bytes = encode_open(&l);
        assert_eq!(&bytes[..16], &[0xff; 16]);
        assert_eq!(
            usize::from(u16::from_be_bytes([bytes[16], bytes[17]])),
            bytes.len()
        );
        assert_eq!((bytes[18], bytes[19]), (1, 4), "type OPEN, version 4");
        assert_eq!(u16::from_be_bytes([bytes[20], bytes[21]]), my_as);
        let p = decode_open(&bytes).unwrap();
        let want = PeerOpen {
            asn: Asn(asn),
            hold_time: 90,
            router_id: l.router_id,
            families: Family::ALL.to_vec(),
            as4: true,
            route_refresh: true,
            enhanced_route_refresh: true,
            extended_message: true,
            graceful_restart: Some(GracefulRestart {
                restart_time: 120,
                restarting: false,
                families: vec![],
                forwarding_preserved: vec![],
            }),
            extended_next_hop: false,
            add_path_receive: vec![],
        };
        assert_eq!(p, want);
    }
    let v6_only = LocalSpeaker {
        families: vec![Family::Ipv6Unicast],
        graceful_restart_time: 9999,
        ..local()
    };
    let p = decode_open(&encode_open(&v6_only)).unwrap();
    assert_eq!(p.families, vec![Family::Ipv6Unicast]);
    assert_eq!(p.graceful_restart.unwrap().restart_time, 4095);
}

/// An OPEN from raw parts: version, my AS, hold time, id, optional parameters.
pub(super) fn raw_open(version: u8, my_as: u16, hold: u16, id: [u8; 4], params: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend(((29 + params.len()) as u16).to_be_bytes());
    m.extend([1, version]);
    m.extend(my_as.to_be_bytes());
    m.extend(hold.to_be_bytes());
    m.extend(id);
    m.push(params.len() as u8);
    m.extend(params);
    m
}

#[test]
fn decode_errors_are_the_rfc_notifications() {
    let id = [10, 0, 0, 1];
    let mut bad_marker = raw_open(4, 64496, 90, id, &[]);
    bad_marker[3] = 0;
    let mut long = raw_open(4, 64496, 90, id, &[]);
    long.extend([0; 4]);
    long[17] += 4; // trailing bytes after the parameters
    let n = |code, subcode, data: &[u8]| Notification::new(code, subcode, data.to_vec());
    let keepalive = [vec![0xff; 16], vec![0, 19, 4]].concat();
    #[rustfmt::skip]
    let cases: Vec<(&str, Vec<u8>, Notification)> = vec![
        ("version 3", raw_open(3, 64496, 90, id, &[]), n(2, 1, &[0, 4])),
        ("hold time 1", raw_open(4, 64496, 1, id, &[]), n(2, 6, &[])),
        ("hold time 2", raw_open(4, 64496, 2, id, &[]), n(2, 6, &[])),
        ("id 0.0.0.0", raw_open(4, 64496, 90, [0; 4], &[]), n(2, 3, &[])),
        ("unknown parameter 1", raw_open(4, 64496, 90, id, &[1, 2, 0, 0]), n(2, 4, &[])),
        ("parameter overruns", raw_open(4, 64496, 90, id, &[2, 9, 1, 4]), n(2, 0, &[])),
        ("marker", bad_marker, n(1, 1, &[])),
        ("trailing bytes", long, n(1, 2, &[0, 33])),
        ("truncated", vec![0xff; 17], n(1, 2, &[])),
        ("keepalive", keepalive, n(1, 3, &[4])),
    ];
    for (name, frame, want) in cases {
        assert_eq!(decode_open(&frame).expect_err(name), want, "{name}");
    }
}

pub(super) fn with_caps(caps: &[u8]) -> Result<PeerOpen, Notification> {
    let params = [[2, caps.len() as u8].as_slice(), caps].concat();
    decode_open(&raw_open(4, 64496, 90, [10, 0, 0, 1], &params))
}

#[test]
fn unknown_capabilities_are_ignored() {
    // 4-octet AS 64496; unknown code 99; route refresh; Multiple Labels (RFC 8277, which
    // netgauze 0.13 mis-parses); multiprotocol IPv4 flowspec only: no IPv4 unicast implied.
    let caps = [
        65, 4, 0, 0, 0xfb, 0xf0, 99, 2, 7, 7, 2, 0, 8, 4, 0, 1, 4, 7, 1, 4, 0, 1, 0, 133,
    ];
    let p = with_caps(&caps).unwrap();
    assert_eq!((p.asn, p.as4, p.route_refresh), (Asn(64496), true, true));
    assert_eq!(p.families, vec![]);
    let none = decode_open(&raw_open(4, 64496, 90, [10, 0, 0, 1], &[])).unwrap();
    assert_eq!(
        (none.families, none.as4),
        (vec![Family::Ipv4Unicast], false)
    );
    // A graceful-restart capability with a family we do not route keeps the others.
    let gr = with_caps(&[64, 10, 0x80, 60, 0, 1, 133, 0, 0, 2, 1, 0x80]).unwrap();
    let gr = gr.graceful_restart.unwrap();
    assert_eq!((gr.restart_time, gr.restarting), (60, true));
    assert_eq!(gr.families, vec![Family::Ipv6Unicast]);
    assert_eq!(gr.forwarding_preserved, vec![Family::Ipv6Unicast]);
}

#[test]
fn malformed_capabilities_are_2_0() {
    let cases: [(&str, &[u8]); 4] = [
        ("multiprotocol of 3 octets", &[1, 3, 0, 1, 1]),
        ("4-octet AS of 2 octets", &[65, 2, 0xfb, 0xf0]),
        ("graceful restart of 3 octets", &[64, 3, 0, 60, 0]),
        ("capability overruns its parameter", &[65, 9, 0, 0]),
    ];
    for (name, caps) in cases {
        let n = with_caps(caps).expect_err(name);
        assert_eq!((n.code, n.subcode), (2, 0), "{name}");
    }
}

#[test]
fn negotiation_failures_name_their_notification() {
    let l = local();
    let cases: Vec<(&str, PeerOpen, (u8, u8))> = vec![
        (
            "wrong AS",
            PeerOpen {
                asn: Asn(64497),
                ..peer()
            },
            (2, 2),
        ),
        (
            "AS_TRANS without 4-octet AS",
            PeerOpen {
                asn: Asn(23456),
                as4: false,
                ..peer()
            },
            (2, 2),
        ),
        (
            "hold time 1",
            PeerOpen {
                hold_time: 1,
                ..peer()
            },
            (2, 6),
        ),
        (
            "hold time 2",
            PeerOpen {
                hold_time: 2,
                ..peer()
            },
            (2, 6),
        ),
        (
            "id 0.0.0.0",
            PeerOpen {
                router_id: Ipv4Addr::UNSPECIFIED,
                ..peer()
            },
            (2, 3),
        ),
        (
            "no family in common",
            PeerOpen {
                families: vec![],
                ..peer()
            },
            (2, 7),
        ),
    ];
    for (name, p, code) in cases {
        let n = negotiate(&l, Asn(64496), &p).expect_err(name);
        assert_eq!((n.code, n.subcode), code, "{name}");
    }
    let same_id = PeerOpen {
        asn: l.asn,
        router_id: l.router_id,
        ..peer()
    };
    let n = negotiate(&l, l.asn, &same_id).expect_err("iBGP with our id");
    assert_eq!((n.code, n.subcode), (2, 3));
    let ebgp = PeerOpen {
        router_id: l.router_id,
        ..peer()
    };
    assert!(
        negotiate(&l, Asn(64496), &ebgp).is_ok(),
        "RFC 6286: same id is fine on eBGP"
    );
    let v4 = LocalSpeaker {
        families: vec![Family::Ipv4Unicast],
        ..local()
    };
    let p = PeerOpen {
        families: vec![Family::Ipv6Unicast],
        ..peer()
    };
    let n = negotiate(&v4, Asn(64496), &p).unwrap_err();
    assert_eq!(
        n.data.to_vec(),
        vec![1, 4, 0, 1, 0, 1],
        "our multiprotocol capability"
    );
}

#[test]
fn negotiation_agrees_on_the_common_ground() {
    let gr = GracefulRestart {
        restart_time: 120,
        restarting: true,
        families: Family::ALL.to_vec(),
        forwarding_preserved: vec![Family::Ipv6Unicast],
    };
    let p = PeerOpen {
        families: vec![Family::Ipv6Unicast],
        extended_message: true,
        graceful_restart: Some(gr),
        ..peer()
    };
    let l = LocalSpeaker {
        hold_time: 240,
        ..local()
    };
    let n = negotiate(&l, Asn(64496), &p).unwrap();
    assert_eq!((n.peer_asn, n.peer_router_id), (Asn(64496), p.router_id));
    assert_eq!((n.hold_time, n.keepalive), (180, 60));
    assert_eq!(n.families, vec![Family::Ipv6Unicast]);
    assert!(n.as4 && n.route_refresh && n.extended_message && !n.enhanced_route_refresh);
    let gr = n.graceful_restart.unwrap();
    assert_eq!(
        (gr.families, gr.forwarding_preserved),
        (vec![Family::Ipv6Unicast], vec![Family::Ipv6Unicast])
    );
    let zero = negotiate(
        &local(),
        Asn(64496),
        &PeerOpen {
            hold_time: 0,
            ..peer()
        },
    )
    .unwrap();
    assert_eq!((zero.hold_time, zero.keepalive), (0, 0));
    let short = negotiate(
        &local(),
        Asn(64496),
        &PeerOpen {
            hold_time: 3,
            ..peer()
        },
    )
    .unwrap();
    assert_eq!((short.hold_time, short.keepalive), (3, 1));
}
