//! The UPDATEs of a packet capture, for the codec's tests, each with the capabilities its
//! session negotiated (the AS width from both OPENs). The capture is read by the one
//! capture reader of the tests, `bgp::test_capture`.

use std::collections::HashMap;
use std::path::Path;

use super::super::cursor::Cursor;
use super::*;
use crate::bgp::test_capture::{bgp_messages_by_direction, Direction};

/// The message types this reads, as on the wire (the header's type octet).
const OPEN: u8 = 1;
const UPDATE: u8 = 2;

/// Whether an OPEN advertises the 4-octet AS capability (65).
fn open_has_as4(open: &[u8]) -> bool {
    let mut c = Cursor::new(open.get(HEADER_LEN + 10..).unwrap_or_default());
    while let (Some(kind), Some(len)) = (c.u8(), c.u8()) {
        let mut caps = Cursor::new(c.take(usize::from(len)).unwrap_or_default());
        while let (Some(code), Some(len)) = (caps.u8(), caps.u8()) {
            caps.take(usize::from(len));
            if kind == 2 && code == 65 {
                return true;
            }
        }
    }
    false
}

/// Every UPDATE of a capture with the session's AS width (from both OPENs if the capture
/// has them, else `as4`), in capture order per direction.
pub(super) fn capture_updates(path: &Path, as4: bool) -> Vec<(Caps, Bytes)> {
    let mut order: Vec<Direction> = Vec::new();
    let mut messages: HashMap<Direction, Vec<Vec<u8>>> = HashMap::new();
    for (direction, m) in bgp_messages_by_direction(path) {
        if !messages.contains_key(&direction) {
            order.push(direction);
        }
        messages.entry(direction).or_default().push(m);
    }
    let kind = |m: &[u8]| m.get(18).copied();
    let opens = |d: &Direction| -> Vec<bool> {
        let of = messages.get(d).into_iter().flatten();
        of.filter(|m| kind(m) == Some(OPEN))
            .map(|m| open_has_as4(m))
            .collect()
    };
    let mut out = Vec::new();
    for direction in order {
        let both = [opens(&direction), opens(&(direction.1, direction.0))].concat();
        let as4 = if both.len() < 2 {
            as4
        } else {
            both.iter().all(|&x| x)
        };
        let caps = Caps {
            as4,
            max_len: MAX_LEN_EXTENDED,
            rov_ext_community: false,
            extended_next_hop: false,
        };
        let updates = messages[&direction].iter();
        let updates = updates.filter(|m| kind(m) == Some(UPDATE));
        out.extend(updates.map(|m| (caps, Bytes::copy_from_slice(m))));
    }
    out
}
