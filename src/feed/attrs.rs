//! TABLE_DUMP_V2 attribute lists into `AttrSet`s, through the codec.
//!
//! Where it sits: `feed` calls [`decode`] once per distinct attribute list. The list
//! becomes a synthetic UPDATE announcing the entry's prefix, which `bgp::wire::decode_update`
//! reads as it would read a peer's (4-octet AS): MP_REACH_NLRI, abbreviated to its next hop
//! in TABLE_DUMP_V2 (RFC 6396 §4.3.4), is rebuilt in full first.
//!
//! One exception to "as the codec would": a path holding AS 0 is kept. RFC 7607 makes such
//! an UPDATE treat-as-withdraw for a conforming receiver, but a replay sends what the file
//! holds, and some speakers (BIRD 2.0) pass such routes on. [`deliverable`] tells them apart.

use super::updates;
use crate::bgp::wire::attr::{self, RawAttrs, AS_PATH, MP_REACH, OPTIONAL};
use crate::bgp::wire::{self, Caps, MAX_LEN_EXTENDED};
use crate::route::{AttrSet, Family, Segment};

/// Whether a conforming receiver keeps a route with these attributes: false for a path
/// with AS 0 (RFC 7607: treat-as-withdraw). The replay sends such routes but does not wait
/// for them at the sink.
pub fn deliverable(attrs: &AttrSet) -> bool {
    !attrs.as_path.asns().any(|a| a == 0)
}

/// Decodes a TABLE_DUMP_V2 attribute list as the UPDATE that announces `nlri` (the
/// prefix in NLRI form) with it; `None` if the codec refuses it.
pub(super) fn decode(family: Family, raw: &[u8], nlri: &[u8]) -> Option<AttrSet> {
    let mut attrs = Vec::with_capacity(raw.len() + nlri.len() + 8);
    let (mut mp_reach, mut hidden) = (false, None);
    for a in RawAttrs::new(raw) {
        let a = a.ok()?;
        match a.code {
            MP_REACH => {
                write_mp_reach(&mut attrs, family, mp_next_hop(a.value)?, nlri);
                mp_reach = true;
            }
            AS_PATH => {
                let at = attrs.len() + a.bytes.len() - a.value.len();
                attrs.extend_from_slice(a.bytes);
                hidden = attrs.get_mut(at..).and_then(hide_as0);
            }
            _ => attrs.extend_from_slice(a.bytes),
        }
    }
    if family == Family::Ipv6Unicast && !mp_reach {
        return None;
    }
    let msg = updates::update_message(&attrs, if mp_reach { &[] } else { nlri })?;
    let caps = Caps {
        as4: true,
        max_len: MAX_LEN_EXTENDED,
        rov_ext_community: false,
        extended_next_hop: false,
    };
    let update = wire::decode_update(&msg, &caps).ok()?;
    let (mut set, _) = update.announced.into_iter().next()?;
    if let Some(placeholder) = hidden {
        restore_as0(&mut set, placeholder);
    }
    Some(set)
}

/// Appends a full MP_REACH_NLRI for `family` with this next hop and prefix.
fn write_mp_reach(attrs: &mut Vec<u8>, family: Family, next_hop: &[u8], nlri: &[u8]) {
    let afi = match family {
        Family::Ipv4Unicast => 1,
        Family::Ipv6Unicast => 2,
    };
    let mut value = vec![0, afi, 1, next_hop.len() as u8];
    value.extend_from_slice(next_hop);
    value.push(0);
    value.extend_from_slice(nlri);
    attr::write(attrs, OPTIONAL, MP_REACH, &value);
}

/// The next hop of a TABLE_DUMP_V2 MP_REACH_NLRI: the abbreviated form (length, address)
/// or the full one (AFI, SAFI, length, address, ...).
fn mp_next_hop(value: &[u8]) -> Option<&[u8]> {
    let (&len, rest) = value.split_first()?;
    if usize::from(len) == rest.len() {
        return Some(rest);
    }
    let len = usize::from(*value.get(3)?);
    value.get(4..4 + len)
}

/// The offsets of the 4-octet ASNs in an AS_PATH value; `None` if malformed.
fn asn_offsets(value: &[u8]) -> Option<Vec<usize>> {
    let mut offsets = Vec::new();
    let mut at = 0;
    while at < value.len() {
        let count = usize::from(*value.get(at + 1)?);
        offsets.extend((0..count).map(|i| at + 2 + 4 * i));
        at += 2 + 4 * count;
    }
    (at == value.len()).then_some(offsets)
}

/// Replaces every AS 0 of a 4-octet AS_PATH value by an ASN the path does not hold, so the
/// codec keeps the route; returns that ASN, or `None` when the path has no AS 0.
fn hide_as0(value: &mut [u8]) -> Option<u32> {
    let offsets = asn_offsets(value)?;
    let read = |v: &[u8], at: usize| {
        v.get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    };
    let asns: Vec<u32> = offsets.iter().filter_map(|&at| read(value, at)).collect();
    if !asns.contains(&0) {
        return None;
    }
    let placeholder = (0..=asns.len() as u32)
        .map(|i| u32::MAX - i)
        .find(|c| !asns.contains(c))?;
    for &at in &offsets {
        if read(value, at) == Some(0) {
            value
                .get_mut(at..at + 4)?
                .copy_from_slice(&placeholder.to_be_bytes());
        }
    }
    Some(placeholder)
}

/// Puts AS 0 back where [`hide_as0`] put `placeholder`.
fn restore_as0(set: &mut AttrSet, placeholder: u32) {
    for segment in &mut set.as_path.0 {
        let (Segment::Set(v)
        | Segment::Sequence(v)
        | Segment::ConfedSequence(v)
        | Segment::ConfedSet(v)) = segment;
        v.iter_mut()
            .filter(|a| **a == placeholder)
            .for_each(|a| *a = 0);
    }
}
