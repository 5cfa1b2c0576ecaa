//! OPEN tests of the wire form: rovgate's own OPEN byte for byte in the classic form, and
//! OPENs in the RFC 9072 extended form (optional parameters over 255 octets) read, rejected
//! with the RFC's NOTIFICATIONs when malformed, and sent when the parameters need it.

use super::tests::{local, raw_open};
use super::*;

#[test]
fn our_open_is_the_classic_form_byte_for_byte() {
    let caps: &[u8] = &[
        1, 4, 0, 1, 0, 1, // multiprotocol IPv4 unicast
        1, 4, 0, 2, 0, 1, // multiprotocol IPv6 unicast
        2, 0, // route refresh
        70, 0, // enhanced route refresh
        65, 4, 0, 0, 0xfb, 0xf4, // 4-octet AS 64500
        64, 2, 0, 120, // graceful restart, receiving speaker, 120 s
        6, 0, // extended message
    ];
    let params = [[2, caps.len() as u8].as_slice(), caps].concat();
    let want = raw_open(4, 64500, 90, [192, 0, 2, 254], &params);
    assert_eq!(encode_open(&local()).to_vec(), want);
}

/// An OPEN from AS 64496 in the RFC 9072 form: Non-Ext OP Len 255, Non-Ext OP Type 255, a
/// 2-octet length, then `params` (each parameter with a 2-octet length).
fn extended_open(params: &[u8]) -> Vec<u8> {
    let mut body = vec![4, 0xfb, 0xf0, 0, 90, 10, 0, 0, 1, 255, 255];
    body.extend((params.len() as u16).to_be_bytes());
    body.extend(params);
    let mut m = vec![0xff; 16];
    m.extend(((19 + body.len()) as u16).to_be_bytes());
    m.push(1);
    m.extend(body);
    m
}

/// A Capabilities parameter in the RFC 9072 form.
fn extended_param(caps: &[u8]) -> Vec<u8> {
    [[2].as_slice(), &(caps.len() as u16).to_be_bytes(), caps].concat()
}

#[test]
fn rfc9072_opens_are_read_with_their_capabilities() {
    // 4-octet AS, multiprotocol IPv6 unicast, route refresh; then 150 unknown capabilities
    // (300 octets) in a second parameter, so the parameters pass 255 octets.
    let caps = [65, 4, 0, 0, 0xfb, 0xf0, 1, 4, 0, 2, 0, 1, 2, 0];
    let filler = [99, 0].repeat(150);
    let short = extended_open(&extended_param(&caps));
    let long = extended_open(&[extended_param(&caps), extended_param(&filler)].concat());
    for (name, frame) in [("short", short), ("over 255 octets", long)] {
        let p = decode_open(&frame).expect(name);
        assert_eq!(
            (p.asn, p.as4, p.route_refresh),
            (Asn(64496), true, true),
            "{name}"
        );
        assert_eq!(p.families, vec![Family::Ipv6Unicast], "{name}");
    }
}

#[test]
fn malformed_rfc9072_lengths_are_the_rfc_notifications() {
    let param = extended_param(&[2, 0]);
    let mut overrun = extended_open(&param);
    overrun[30] += 1; // the parameters' length passes the end of the message
    let mut param_overrun = extended_open(&param);
    param_overrun[33] += 1; // the parameter's length passes the parameters' end
    let mut no_length = extended_open(&[]);
    no_length.truncate(30); // the message ends after Non-Ext OP Type
    no_length[17] = 30;
    let mut trailing = extended_open(&param);
    trailing.extend([0; 2]);
    trailing[17] += 2;
    let cases: Vec<(&str, Vec<u8>, (u8, u8))> = vec![
        ("parameters overrun the message", overrun, (2, 0)),
        ("parameter overruns the parameters", param_overrun, (2, 0)),
        ("no extended length", no_length, (2, 0)),
        ("bytes after the parameters", trailing, (1, 2)),
        ("unknown parameter type", extended_open(&[1, 0, 0]), (2, 4)),
    ];
    for (name, frame, code) in cases {
        let n = decode_open(&frame).expect_err(name);
        assert_eq!((n.code, n.subcode), code, "{name}");
    }
}

#[test]
fn parameters_over_255_octets_are_sent_in_the_rfc9072_form() {
    // No configuration asks for 50 multiprotocol capabilities; it is the way to pass 255.
    let many = LocalSpeaker {
        families: vec![Family::Ipv6Unicast; 50],
        ..local()
    };
    let bytes = encode_open(&many);
    assert_eq!(
        (bytes[28], bytes[29]),
        (255, 255),
        "Non-Ext OP Len and Type"
    );
    let caps_len = 50 * 6 + 16;
    let params_len = u16::from_be_bytes([bytes[30], bytes[31]]);
    assert_eq!(usize::from(params_len), caps_len + 3);
    assert_eq!(
        &bytes[32..35],
        &[[2].as_slice(), &(caps_len as u16).to_be_bytes()].concat()
    );
    let p = decode_open(&bytes).unwrap();
    assert_eq!((p.asn, p.families), (Asn(64500), vec![Family::Ipv6Unicast]));
    assert_eq!(
        encode_open(&local())[28],
        30,
        "a short OPEN stays in the classic form"
    );
}
