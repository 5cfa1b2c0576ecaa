//! Path attributes as raw bytes: flag bits, type codes, an iterator over an attribute list
//! and a writer. `AttrSet::other` is such a list; policy code that adds communities to it
//! reads and writes it with these.

use bytes::Bytes;

use super::cursor::Cursor;

/// Flag bit: optional (clear for well-known attributes).
pub const OPTIONAL: u8 = 0x80;
/// Flag bit: transitive.
pub const TRANSITIVE: u8 = 0x40;
/// Flag bit: partial (an optional transitive attribute some speaker did not recognize).
pub const PARTIAL: u8 = 0x20;
/// Flag bit: the length field is two bytes.
pub const EXTENDED: u8 = 0x10;

/// ORIGIN (RFC 4271).
pub const ORIGIN: u8 = 1;
/// AS_PATH (RFC 4271).
pub const AS_PATH: u8 = 2;
/// NEXT_HOP (RFC 4271).
pub const NEXT_HOP: u8 = 3;
/// MULTI_EXIT_DISC (RFC 4271).
pub const MED: u8 = 4;
/// LOCAL_PREF (RFC 4271).
pub const LOCAL_PREF: u8 = 5;
/// ATOMIC_AGGREGATE (RFC 4271).
pub const ATOMIC_AGGREGATE: u8 = 6;
/// AGGREGATOR (RFC 4271, 4-octet form per RFC 6793 in `AttrSet::other`).
pub const AGGREGATOR: u8 = 7;
/// COMMUNITIES (RFC 1997).
pub const COMMUNITIES: u8 = 8;
/// ORIGINATOR_ID (RFC 4456).
pub const ORIGINATOR_ID: u8 = 9;
/// CLUSTER_LIST (RFC 4456).
pub const CLUSTER_LIST: u8 = 10;
/// MP_REACH_NLRI (RFC 4760).
pub const MP_REACH: u8 = 14;
/// MP_UNREACH_NLRI (RFC 4760).
pub const MP_UNREACH: u8 = 15;
/// EXTENDED COMMUNITIES (RFC 4360).
pub const EXT_COMMUNITIES: u8 = 16;
/// AS4_PATH (RFC 6793).
pub const AS4_PATH: u8 = 17;
/// AS4_AGGREGATOR (RFC 6793).
pub const AS4_AGGREGATOR: u8 = 18;
/// IPv6 Address Specific Extended Community (RFC 5701).
pub const IPV6_EXT_COMMUNITIES: u8 = 25;
/// LARGE_COMMUNITY (RFC 8092).
pub const LARGE_COMMUNITIES: u8 = 32;

/// One attribute as it appears on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawAttr<'a> {
    /// The flags byte.
    pub flags: u8,
    /// The type code.
    pub code: u8,
    /// The value (after the length field).
    pub value: &'a [u8],
    /// The whole attribute: flags, type, length and value.
    pub bytes: &'a [u8],
}

/// An attribute list that ends inside an attribute (RFC 7606 §4): a header or value that
/// runs past the end of the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("path attribute runs past the end of the attribute list")]
pub struct Overrun;

/// Iterates over an attribute list; yields one `Err(Overrun)` and stops if the list is cut.
#[derive(Clone, Debug)]
pub struct RawAttrs<'a> {
    rest: &'a [u8],
}

impl<'a> RawAttrs<'a> {
    /// The attributes of `list` (the path attributes field of an UPDATE, or
    /// `AttrSet::other`).
    pub fn new(list: &'a [u8]) -> Self {
        RawAttrs { rest: list }
    }

    fn next_attr(&mut self) -> Option<RawAttr<'a>> {
        let whole = self.rest;
        let mut c = Cursor::new(whole);
        let flags = c.u8()?;
        let code = c.u8()?;
        let len = if flags & EXTENDED != 0 {
            usize::from(c.u16()?)
        } else {
            usize::from(c.u8()?)
        };
        let value = c.take(len)?;
        let (bytes, rest) = whole.split_at_checked(whole.len() - c.rest().len())?;
        self.rest = rest;
        Some(RawAttr {
            flags,
            code,
            value,
            bytes,
        })
    }
}

impl<'a> Iterator for RawAttrs<'a> {
    type Item = Result<RawAttr<'a>, Overrun>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match self.next_attr() {
            Some(a) => Some(Ok(a)),
            None => {
                self.rest = &[];
                Some(Err(Overrun))
            }
        }
    }
}

/// `list` without the community values `drop(code, value)` names, in COMMUNITIES (4-byte
/// values), EXTENDED COMMUNITIES (8) and LARGE_COMMUNITY (12); an attribute left empty is
/// dropped. `None` when there is none to drop.
pub fn remove_values(list: &[u8], drop: impl Fn(u8, &[u8]) -> bool) -> Option<Bytes> {
    let width = |code: u8| match code {
        COMMUNITIES => Some(4),
        EXT_COMMUNITIES => Some(8),
        LARGE_COMMUNITIES => Some(12),
        _ => None,
    };
    let hit =
        |a: &RawAttr| width(a.code).is_some_and(|w| a.value.chunks(w).any(|c| drop(a.code, c)));
    if !RawAttrs::new(list).filter_map(Result::ok).any(|a| hit(&a)) {
        return None;
    }
    let mut out = Vec::with_capacity(list.len());
    for a in RawAttrs::new(list) {
        let Ok(a) = a else { break };
        let Some(w) = width(a.code).filter(|_| hit(&a)) else {
            out.extend_from_slice(a.bytes);
            continue;
        };
        let kept: Vec<u8> = (a.value.chunks(w))
            .filter(|c| !drop(a.code, c))
            .flatten()
            .copied()
            .collect();
        if !kept.is_empty() {
            write(&mut out, a.flags, a.code, &kept);
        }
    }
    Some(Bytes::from(out))
}

/// The size of an attribute header for a value of `len` bytes.
pub fn header_size(len: usize) -> usize {
    if len > 255 {
        4
    } else {
        3
    }
}

/// Appends an attribute header; sets or clears [`EXTENDED`] by the length. A length
/// above 65535 is the caller's bug and is written as 65535.
pub fn write_header(out: &mut Vec<u8>, flags: u8, code: u8, len: usize) {
    if len > 255 {
        out.extend_from_slice(&[flags | EXTENDED, code]);
        out.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
    } else {
        out.extend_from_slice(&[flags & !EXTENDED, code, len as u8]);
    }
}

/// Appends a whole attribute.
pub fn write(out: &mut Vec<u8>, flags: u8, code: u8, value: &[u8]) {
    write_header(out, flags, code, value.len());
    out.extend_from_slice(value);
}
