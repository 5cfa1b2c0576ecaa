//! AS_PATH and AS4_PATH on the wire (RFC 4271 §4.3, RFC 6793): decode with 2- or 4-octet
//! ASNs, merge AS4_PATH into a 2-octet peer's AS_PATH, encode for either kind of peer.

use super::attr::{self, AS4_PATH, AS_PATH, OPTIONAL, TRANSITIVE};
use super::cursor::Cursor;
use super::AS_TRANS;
use crate::route::{AsPath, Segment};

const SET: u8 = 1;
const SEQUENCE: u8 = 2;
const CONFED_SEQUENCE: u8 = 3;
const CONFED_SET: u8 = 4;

/// Decodes an AS_PATH (or AS4_PATH, `as4` true) value; `None` if it is malformed
/// (RFC 7606 §7.2: unknown segment type, empty segment, segment overrun).
pub(super) fn decode(value: &[u8], as4: bool) -> Option<AsPath> {
    let width = if as4 { 4 } else { 2 };
    let mut c = Cursor::new(value);
    let mut segments = Vec::with_capacity(1);
    while !c.rest().is_empty() {
        let kind = c.u8()?;
        let count = usize::from(c.u8()?);
        if count == 0 {
            return None;
        }
        let raw = c.take(count * width)?;
        let asns: Vec<u32> = if as4 {
            raw.chunks_exact(4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        } else {
            raw.chunks_exact(2)
                .map(|b| u32::from(u16::from_be_bytes([b[0], b[1]])))
                .collect()
        };
        segments.push(segment(kind, asns)?);
    }
    Some(AsPath(segments))
}

fn segment(kind: u8, asns: Vec<u32>) -> Option<Segment> {
    Some(match kind {
        SET => Segment::Set(asns),
        SEQUENCE => Segment::Sequence(asns),
        CONFED_SEQUENCE => Segment::ConfedSequence(asns),
        CONFED_SET => Segment::ConfedSet(asns),
        _ => return None,
    })
}

fn is_confed(s: &Segment) -> bool {
    matches!(s, Segment::ConfedSequence(_) | Segment::ConfedSet(_))
}

/// Whether any AS of the path is 0, which makes an AS_PATH malformed (RFC 7607).
pub(super) fn has_zero(path: &AsPath) -> bool {
    path.asns().any(|a| a == 0)
}

/// Decodes an AS4_PATH value from a 2-octet peer; `None` if malformed or carrying AS 0
/// (RFC 6793 §6, RFC 7607: the attribute is then discarded). Confederation segments,
/// which must not appear in AS4_PATH, are dropped.
pub(super) fn decode_as4_path(value: &[u8]) -> Option<AsPath> {
    let mut path = decode(value, true)?;
    if has_zero(&path) {
        return None;
    }
    path.0.retain(|s| !is_confed(s));
    Some(path)
}

/// Reconstructs a 2-octet peer's path from AS_PATH and AS4_PATH (RFC 6793 §4.2.3): the
/// leading part of AS_PATH that AS4_PATH does not cover, then AS4_PATH. An AS4_PATH longer
/// than the AS_PATH is ignored.
pub(super) fn merge_as4(as_path: AsPath, as4_path: AsPath) -> AsPath {
    let (n, m) = (as_path.len(), as4_path.len());
    if n < m {
        return as_path;
    }
    let mut need = n - m;
    let mut out: Vec<Segment> = Vec::with_capacity(as_path.0.len() + as4_path.0.len());
    for seg in as_path.0 {
        if need == 0 && !is_confed(&seg) {
            break;
        }
        match seg {
            Segment::Sequence(mut v) => {
                v.truncate(need);
                need -= v.len();
                out.push(Segment::Sequence(v));
            }
            Segment::Set(v) => {
                need -= 1;
                out.push(Segment::Set(v));
            }
            confed => out.push(confed),
        }
    }
    for seg in as4_path.0 {
        match (out.last_mut(), seg) {
            (Some(Segment::Sequence(head)), Segment::Sequence(tail)) => head.extend(tail),
            (_, seg) => out.push(seg),
        }
    }
    AsPath(out)
}

/// Appends the AS_PATH attribute for a peer (`as4`: 4-octet ASNs; else 2-octet with
/// AS_TRANS). Returns whether a 2-octet peer also needs AS4_PATH (some ASN > 65535).
pub(super) fn write_as_path(out: &mut Vec<u8>, path: &AsPath, as4: bool) -> bool {
    let width = if as4 { 4 } else { 2 };
    write_segments(out, AS_PATH, TRANSITIVE, path.0.iter(), width);
    !as4 && path.asns().any(|a| a > 0xffff)
}

/// Appends AS4_PATH (4-octet, without confederation segments) for a 2-octet peer.
pub(super) fn write_as4_path(out: &mut Vec<u8>, path: &AsPath) {
    let segs = path.0.iter().filter(|s| !is_confed(s));
    write_segments(out, AS4_PATH, OPTIONAL | TRANSITIVE, segs, 4);
}

fn write_segments<'a>(
    out: &mut Vec<u8>,
    code: u8,
    flags: u8,
    segs: impl Iterator<Item = &'a Segment> + Clone,
    width: usize,
) {
    let len: usize = segs
        .clone()
        .map(|s| {
            let n = parts(s).1.len();
            n.div_ceil(255) * 2 + n * width
        })
        .sum();
    attr::write_header(out, flags, code, len);
    for seg in segs {
        let (kind, asns) = parts(seg);
        for chunk in asns.chunks(255) {
            out.extend_from_slice(&[kind, chunk.len() as u8]);
            for &a in chunk {
                if width == 4 {
                    out.extend_from_slice(&a.to_be_bytes());
                } else {
                    let a = u16::try_from(a).unwrap_or(AS_TRANS as u16);
                    out.extend_from_slice(&a.to_be_bytes());
                }
            }
        }
    }
}

fn parts(s: &Segment) -> (u8, &[u32]) {
    match s {
        Segment::Set(v) => (SET, v),
        Segment::Sequence(v) => (SEQUENCE, v),
        Segment::ConfedSequence(v) => (CONFED_SEQUENCE, v),
        Segment::ConfedSet(v) => (CONFED_SET, v),
    }
}
