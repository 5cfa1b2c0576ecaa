//! UPDATE encode from `route::Export`: announcements packed into as few messages as the
//! peer's maximum size allows, withdrawals, End-of-RIB.
//!
//! Where it sits: the session task calls [`encode_updates`] for each export the RIB sends
//! it. The attribute bytes of an `AttrSet` are made once per AS-number width and cached in
//! `AttrSet::encoded`, so exporting one set to many peers is close to a copy; only
//! NEXT_HOP (IPv4) or MP_REACH_NLRI (IPv6) is written per message.

use std::net::Ipv6Addr;

use bytes::Bytes;
use tracing::warn;

use super::attr::{self, RawAttrs, AGGREGATOR, AS4_AGGREGATOR, MED, MP_REACH, MP_UNREACH};
use super::attr::{NEXT_HOP, OPTIONAL, ORIGIN, TRANSITIVE};
use super::nlri::WireNlri;
use super::{actions, tags};
use super::{afi_safi, aspath, Caps, AS_TRANS, HEADER_LEN};
use crate::route::actions::NO_EXPORT;
use crate::route::{AttrSet, Export, Family, NextHop, RovState};

/// The fixed part of an UPDATE: header, withdrawn length, attribute length.
const UPDATE_MIN: usize = HEADER_LEN + 4;
/// NEXT_HOP attribute size.
const NEXT_HOP_SIZE: usize = 7;

/// Encodes one export as UPDATE messages appended to `out`, each at most `caps.max_len`;
/// `BeginRefresh`, `EndOfRefresh` and `LimitReached` are the session's to handle and encode
/// nothing here.
///
/// IPv4 prefixes go in the NLRI field with NEXT_HOP; IPv6 prefixes in MP_REACH_NLRI,
/// written first (RFC 7606 §5.1), with a 16- or 32-byte next hop, and so do IPv4 prefixes
/// with an IPv6 next hop to a peer that negotiated RFC 8950 (to any other they are
/// withdrawn). Announcements whose attributes cannot fit one message, or IPv6 ones with an
/// IPv4 next hop, are withdrawn instead (logged as a warning).
pub fn encode_updates(export: &Export, caps: &Caps, out: &mut Vec<Bytes>) {
    match export {
        Export::Announce(attrs, prefixes) => announce(attrs, prefixes, caps, out),
        Export::Withdraw(prefixes) => withdraw(prefixes, caps, out),
        Export::AnnouncePaths(attrs, paths) => announce(attrs, paths, caps, out),
        Export::WithdrawPaths(paths) => withdraw(paths, caps, out),
        Export::EndOfRib(family) => out.push(end_of_rib(*family)),
        // Not UPDATEs: the session turns these into ROUTE-REFRESH (BoRR, EoRR) or a Cease.
        Export::BeginRefresh(_) | Export::EndOfRefresh(_) | Export::LimitReached(_) => {}
    }
}

fn announce<N: WireNlri>(attrs: &AttrSet, prefixes: &[N], caps: &Caps, out: &mut Vec<Bytes>) {
    let ext = caps
        .rov_ext_community
        .then(|| attrs.tags.as_ref()?.state)
        .flatten();
    // The RFC 8097 variant goes to few peers and is not cached; everything else is.
    let uncached;
    let cached = match ext {
        Some(state) => {
            uncached = encode_attrs(attrs, caps.as4, Some(state));
            &uncached
        }
        None => attrs
            .encoded(caps.as4)
            .get_or_init(|| encode_attrs(attrs, caps.as4, None)),
    };
    let (v4, v6) = by_family(prefixes);
    let mut unsent = Vec::new();
    match (attrs.next_hop, v4.is_empty()) {
        (_, true) => {}
        (NextHop::V4(nh), false) => {
            let mut nh_attr = Vec::with_capacity(NEXT_HOP_SIZE);
            attr::write(&mut nh_attr, TRANSITIVE, NEXT_HOP, &nh.octets());
            let fixed = UPDATE_MIN + cached.len() + nh_attr.len();
            let build = |chunk: &[N], len| announce_v4(cached, &nh_attr, chunk, len);
            if !pack(&v4, caps.max_len.saturating_sub(fixed), build, out) {
                unsent.extend(v4);
            }
        }
        (NextHop::V6(g, ll), false) if caps.extended_next_hop => {
            if !announce_mp(cached, Family::Ipv4Unicast, (g, ll), &v4, caps, out) {
                unsent.extend(v4);
            }
        }
        // Without RFC 8950 the peer cannot take an IPv6 next hop for an IPv4 route: it
        // does not get the route (as from BIRD), nor an older path of it.
        (NextHop::V6(..), false) => withdraw(&v4, caps, out),
    }
    match (attrs.next_hop, v6.is_empty()) {
        (_, true) => {}
        (NextHop::V6(g, ll), false) => {
            if !announce_mp(cached, Family::Ipv6Unicast, (g, ll), &v6, caps, out) {
                unsent.extend(v6);
            }
        }
        (NextHop::V4(_), false) => unsent.extend(v6),
    }
    if !unsent.is_empty() {
        warn!(
            prefixes = unsent.len(),
            attr_len = cached.len(),
            max_len = caps.max_len,
            next_hop = %attrs.next_hop.addr(),
            "route cannot be encoded for this peer (attributes too large or next hop of the \
             other family): withdrawing it instead"
        );
        withdraw(&unsent, caps, out);
    }
}

fn withdraw<N: WireNlri>(prefixes: &[N], caps: &Caps, out: &mut Vec<Bytes>) {
    let (v4, v6) = by_family(prefixes);
    pack(&v4, caps.max_len - UPDATE_MIN, withdraw_v4, out);
    pack(&v6, caps.max_len - UPDATE_MIN - 4 - 3, withdraw_v6, out);
}

/// The End-of-RIB marker (RFC 4724): an empty UPDATE for IPv4, an empty MP_UNREACH_NLRI
/// for IPv6.
fn end_of_rib(family: Family) -> Bytes {
    match family {
        Family::Ipv4Unicast => finish(start(UPDATE_MIN, 0)),
        Family::Ipv6Unicast => {
            let mut m = start(UPDATE_MIN + 6, 6);
            attr::write(&mut m, OPTIONAL, MP_UNREACH, &[0, 2, 1]);
            finish(m)
        }
    }
}

fn by_family<N: WireNlri>(prefixes: &[N]) -> (Vec<N>, Vec<N>) {
    prefixes.iter().partition(|p| p.is_v4())
}

/// Splits `prefixes` into chunks of at most `budget` encoded bytes (what a message has
/// room for besides its fixed part) and pushes `build(chunk, nlri_len)` for each. `false`
/// (and nothing pushed) if a prefix cannot fit even alone.
fn pack<N: WireNlri>(
    prefixes: &[N],
    budget: usize,
    mut build: impl FnMut(&[N], usize) -> Bytes,
    out: &mut Vec<Bytes>,
) -> bool {
    let Some(largest) = prefixes.iter().map(N::size).max() else {
        return true;
    };
    if budget < largest {
        return false;
    }
    let (mut from, mut len) = (0, 0);
    for (i, p) in prefixes.iter().enumerate() {
        let size = p.size();
        if len + size > budget {
            out.push(build(prefixes.get(from..i).unwrap_or_default(), len));
            (from, len) = (i, 0);
        }
        len += size;
    }
    out.push(build(prefixes.get(from..).unwrap_or_default(), len));
    true
}

fn announce_v4<N: WireNlri>(cached: &[u8], nh_attr: &[u8], chunk: &[N], nlri_len: usize) -> Bytes {
    let alen = cached.len() + nh_attr.len();
    let mut m = start(UPDATE_MIN + alen + nlri_len, alen);
    let (head, tail) = cached
        .split_at_checked(after_as_path(cached))
        .unwrap_or((&[], cached));
    m.extend_from_slice(head);
    m.extend_from_slice(nh_attr);
    m.extend_from_slice(tail);
    chunk.iter().for_each(|p| p.write(&mut m));
    finish(m)
}

/// Announces `prefixes` of `family` in MP_REACH_NLRI with an IPv6 next hop (global and
/// optional link-local): IPv6 routes, and IPv4 ones under RFC 8950. `false` (nothing
/// pushed) if a prefix cannot fit a message.
fn announce_mp<N: WireNlri>(
    cached: &[u8],
    family: Family,
    (global, link_local): (Ipv6Addr, Option<Ipv6Addr>),
    prefixes: &[N],
    caps: &Caps,
    out: &mut Vec<Bytes>,
) -> bool {
    let head = mp_reach_head(family, global, link_local);
    let fixed = UPDATE_MIN + 4 + head.len() + cached.len();
    let build = |chunk: &[N], len| announce_v6(cached, &head, chunk, len);
    pack(prefixes, caps.max_len.saturating_sub(fixed), build, out)
}

/// One UPDATE with `chunk` in MP_REACH_NLRI after `head` (IPv6 prefixes, or IPv4 ones
/// under RFC 8950).
fn announce_v6<N: WireNlri>(cached: &[u8], head: &[u8], chunk: &[N], nlri_len: usize) -> Bytes {
    let mp_len = head.len() + nlri_len;
    let alen = attr::header_size(mp_len) + mp_len + cached.len();
    let mut m = start(UPDATE_MIN + alen, alen);
    attr::write_header(&mut m, OPTIONAL, MP_REACH, mp_len);
    m.extend_from_slice(head);
    chunk.iter().for_each(|p| p.write(&mut m));
    m.extend_from_slice(cached);
    finish(m)
}

/// MP_REACH_NLRI before the NLRI: AFI and SAFI of `family`, an IPv6 next hop (RFC 2545,
/// RFC 8950 for IPv4), reserved.
fn mp_reach_head(family: Family, global: Ipv6Addr, link_local: Option<Ipv6Addr>) -> Vec<u8> {
    let (afi, safi) = afi_safi(family);
    let [a0, a1] = afi.to_be_bytes();
    let mut v = vec![a0, a1, safi, 16];
    v.extend_from_slice(&global.octets());
    if let Some(ll) = link_local {
        v[3] = 32;
        v.extend_from_slice(&ll.octets());
    }
    v.push(0);
    v
}

fn withdraw_v4<N: WireNlri>(chunk: &[N], nlri_len: usize) -> Bytes {
    let mut m = Vec::with_capacity(UPDATE_MIN + nlri_len);
    m.extend_from_slice(&[0xff; 16]);
    m.extend_from_slice(&[0, 0, 2]);
    m.extend_from_slice(&(nlri_len as u16).to_be_bytes());
    chunk.iter().for_each(|p| p.write(&mut m));
    m.extend_from_slice(&[0, 0]);
    finish(m)
}

fn withdraw_v6<N: WireNlri>(chunk: &[N], nlri_len: usize) -> Bytes {
    let (afi, safi) = afi_safi(Family::Ipv6Unicast);
    let mp_len = 3 + nlri_len;
    let alen = attr::header_size(mp_len) + mp_len;
    let mut m = start(UPDATE_MIN + alen, alen);
    attr::write_header(&mut m, OPTIONAL, MP_UNREACH, mp_len);
    m.extend_from_slice(&afi.to_be_bytes());
    m.push(safi);
    chunk.iter().for_each(|p| p.write(&mut m));
    finish(m)
}

/// A new UPDATE with header, empty withdrawn routes and this attribute length.
fn start(capacity: usize, attr_len: usize) -> Vec<u8> {
    let mut m = Vec::with_capacity(capacity);
    m.extend_from_slice(&[0xff; 16]);
    m.extend_from_slice(&[0, 0, 2, 0, 0]);
    m.extend_from_slice(&(attr_len as u16).to_be_bytes());
    m
}

/// Fills in the length and freezes the message.
fn finish(mut m: Vec<u8>) -> Bytes {
    let len = (m.len() as u16).to_be_bytes();
    if let Some(field) = m.get_mut(16..18) {
        field.copy_from_slice(&len);
    }
    Bytes::from(m)
}

/// Where NEXT_HOP goes in cached attributes (after ORIGIN and AS_PATH, keeping type order).
fn after_as_path(cached: &[u8]) -> usize {
    let origin = 4;
    let as_path = RawAttrs::new(cached.get(origin..).unwrap_or_default()).next();
    match as_path {
        Some(Ok(a)) => origin + a.bytes.len(),
        _ => 0,
    }
}

/// The attributes of a set for 4-octet (`as4`) or 2-octet peers, without NEXT_HOP and
/// MP_REACH_NLRI: ORIGIN, AS_PATH, MED, the received others without the action
/// communities addressed to the route server and with rovgate's tags added (and the
/// RFC 8097 extended community for `ext`), and AS4_PATH if needed.
fn encode_attrs(a: &AttrSet, as4: bool, ext: Option<RovState>) -> Bytes {
    let mut out = Vec::with_capacity(64 + a.other.len());
    attr::write(&mut out, TRANSITIVE, ORIGIN, &[a.origin]);
    let needs_as4_path = aspath::write_as_path(&mut out, &a.as_path, as4);
    if let Some(med) = a.med {
        attr::write(&mut out, OPTIONAL, MED, &med.to_be_bytes());
    }
    let large = a.tags.as_ref().map_or(&[][..], |m| &m.large[..]);
    let stripped = (a.actions.as_deref())
        .filter(|actions| actions.strip)
        .and_then(|actions| actions::strip_actions(&a.other, actions));
    let received = stripped.as_ref().unwrap_or(&a.other);
    // RFC 7999 §3.2: a blackhole route should not leave the receiving AS.
    let blackhole = a.tags.as_ref().is_some_and(|m| m.blackhole.is_some());
    let standard: &[u32] = if blackhole { &[NO_EXPORT] } else { &[] };
    let other = if large.is_empty() && ext.is_none() && standard.is_empty() {
        received.clone()
    } else {
        tags::add(received, standard, large, ext)
    };
    if as4 {
        out.extend_from_slice(&other);
    } else {
        write_other_as2(&mut out, &other);
    }
    if needs_as4_path {
        aspath::write_as4_path(&mut out, &a.as_path);
    }
    Bytes::from(out)
}

/// `other` for a 2-octet peer: AGGREGATOR in 6-byte form, with AS_TRANS and AS4_AGGREGATOR
/// when its AS needs 4 octets (RFC 6793 §4.2.2); the rest as is.
fn write_other_as2(out: &mut Vec<u8>, other: &[u8]) {
    for a in RawAttrs::new(other) {
        let Ok(a) = a else { break };
        let agg = (a.code == AGGREGATOR)
            .then(|| <[u8; 8]>::try_from(a.value).ok())
            .flatten();
        let Some([a0, a1, a2, a3, ip @ ..]) = agg else {
            out.extend_from_slice(a.bytes);
            continue;
        };
        let asn = u32::from_be_bytes([a0, a1, a2, a3]);
        let short = u16::try_from(asn).unwrap_or(AS_TRANS as u16).to_be_bytes();
        attr::write(
            out,
            a.flags,
            AGGREGATOR,
            &[short[0], short[1], ip[0], ip[1], ip[2], ip[3]],
        );
        if asn > 0xffff {
            attr::write(out, OPTIONAL | TRANSITIVE, AS4_AGGREGATOR, a.value);
        }
    }
}
