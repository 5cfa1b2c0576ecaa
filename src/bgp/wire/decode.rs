//! UPDATE decode (RFC 4271 §4.3, §6.3; RFC 7606; RFC 4760; RFC 6793) into `route::Update`.
//!
//! Where it sits: the session task calls [`decode_update`] on each UPDATE frame and sends
//! the result to the RIB; a NOTIFICATION error ends the session.

use std::net::Ipv4Addr;

use bytes::Bytes;
use ipnet::IpNet;

use super::attr::{RawAttrs, AS_PATH, MP_REACH, MP_UNREACH, NEXT_HOP, ORIGIN};
use super::cursor::Cursor;
use super::nlri::read_prefixes;
use super::update_attrs::{MpReach, Parsed};
use super::{family, Caps, PathIds, HEADER_LEN};
use crate::bgp::{Notification, Reason};
use crate::route::{AttrSet, Family, NextHop, Nlri, PathNlri, Update};

/// Decodes an UPDATE frame (header included, as [`super::Framer`] yields it).
///
/// Outcomes (RFC 7606 names):
/// - session reset, `Err`: withdrawn or attribute length past the message → 3/1; a bad
///   prefix in the withdrawn routes or NLRI field → 3/10; MP_REACH/MP_UNREACH twice → 3/1;
///   MP_REACH/MP_UNREACH malformed (too short, a bad prefix, a next hop length other than
///   16/32 for IPv6 or 4 for IPv4 — 4/16/32 once RFC 8950 extended next hop was negotiated,
///   RFC 7606 §7.11) → 3/9 with the attribute (RFC 4760 §7); an unrecognized well-known attribute → 3/2;
///   an attribute running past the attribute list with no NLRI to withdraw → 3/1.
/// - treat-as-withdraw, every announced prefix (body and MP_REACH) goes to `withdrawn`:
///   malformed ORIGIN, AS_PATH (incl. AS 0), NEXT_HOP (length; 0.0.0.0, multicast or class
///   E for body NLRI), MED, COMMUNITIES, EXTENDED/IPv6 EXTENDED/LARGE COMMUNITIES, wrong
///   O/T flags on these or on MP_REACH, an unspecified or multicast IPv6 next hop, a
///   missing ORIGIN or AS_PATH (or NEXT_HOP with body NLRI), and an attribute running past
///   the attribute list (RFC 7606 §4) when NLRI is present.
/// - attribute discard: malformed ATOMIC_AGGREGATE, AGGREGATOR, AS4_PATH, AS4_AGGREGATOR;
///   LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST (rovgate's peers are external); AS4_PATH
///   and AS4_AGGREGATOR from a 4-octet peer; repeats of an attribute (the first is kept).
///
/// Unknown optional transitive attributes pass on in `AttrSet::other` with the Partial
/// bit set; unknown optional non-transitive ones are dropped. A 2-octet peer's AS4_PATH
/// is merged into the path (RFC 6793 §4.2.3) and its AGGREGATOR is kept in 4-octet form.
/// MP attributes of other AFI/SAFIs than IPv4/IPv6 unicast are ignored.
pub fn decode_update(frame: &[u8], caps: &Caps) -> Result<Update, Notification> {
    decode_update_faults(frame, caps).map(|(update, _)| update)
}

/// An RFC 7606 error an UPDATE survived: the attribute's type code (`None`: the attribute
/// list as a whole) and what was wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The attribute's type code.
    pub attribute: Option<u8>,
    /// What was wrong with it.
    pub why: &'static str,
}

/// The errors one UPDATE survived: the first that made it treat-as-withdraw, and the first
/// attribute discarded for an error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Treat-as-withdraw: the UPDATE's announced prefixes were taken as withdrawn.
    pub withdraw: Option<Fault>,
    /// Attribute discard: the attribute was dropped, the routes kept.
    pub discard: Option<Fault>,
}

impl Faults {
    /// Notes a treat-as-withdraw error (the first one is kept).
    pub(super) fn withdraw(&mut self, attribute: Option<u8>, why: &'static str) {
        self.withdraw.get_or_insert(Fault { attribute, why });
    }

    /// Notes a discarded attribute (the first one is kept).
    pub(super) fn discard(&mut self, attribute: Option<u8>, why: &'static str) {
        self.discard.get_or_insert(Fault { attribute, why });
    }
}

/// [`decode_update`], and the errors the UPDATE survived (for the session's counters and
/// log; `Err` is a session reset).
pub fn decode_update_faults(frame: &[u8], caps: &Caps) -> Result<(Update, Faults), Notification> {
    decode(frame, caps, PathIds::default())
}

/// [`decode_update_faults`] for a sender that uses ADD-PATH (RFC 7911) for the families in
/// `ids`: their prefixes are read after their path identifiers; the other families' get
/// path id 0. A path identifier cut short is a bad prefix (3/10, or 3/9 in MP attributes).
pub fn decode_update_paths(
    frame: &[u8],
    caps: &Caps,
    ids: PathIds,
) -> Result<(Update<PathNlri>, Faults), Notification> {
    decode(frame, caps, ids)
}

/// An UPDATE's variable fields.
struct Fields<'a> {
    withdrawn: &'a [u8],
    attrs: &'a [u8],
    nlri: &'a [u8],
}

/// Cuts an UPDATE frame into its fields; a length past the message is 3/1.
fn fields(frame: &[u8]) -> Result<Fields<'_>, Notification> {
    let malformed_list = || Notification::from(Reason::MalformedAttributeList);
    let mut c = Cursor::new(frame.get(HEADER_LEN..).ok_or_else(malformed_list)?);
    let wlen = c.u16().ok_or_else(malformed_list)?;
    let withdrawn = c.take(usize::from(wlen)).ok_or_else(malformed_list)?;
    let alen = c.u16().ok_or_else(malformed_list)?;
    let attrs = c.take(usize::from(alen)).ok_or_else(malformed_list)?;
    Ok(Fields {
        withdrawn,
        attrs,
        nlri: c.rest(),
    })
}

fn decode<N: Nlri>(
    frame: &[u8],
    caps: &Caps,
    ids: PathIds,
) -> Result<(Update<N>, Faults), Notification> {
    let bad_network = |_| Notification::from(Reason::InvalidNetwork);
    let Fields {
        withdrawn,
        attrs,
        nlri: body_nlri,
    } = fields(frame)?;
    let mut update = Update::default();
    let v4 = Family::Ipv4Unicast;
    read_prefixes(withdrawn, v4, ids.of(v4), &mut update.withdrawn).map_err(bad_network)?;
    let mut nlri = Vec::new();
    read_prefixes(body_nlri, v4, ids.of(v4), &mut nlri).map_err(bad_network)?;
    if withdrawn.is_empty() && attrs.is_empty() && nlri.is_empty() {
        update.end_of_rib = Some(Family::Ipv4Unicast);
        return Ok((update, Faults::default()));
    }

    let mut p = Parsed::parse(attrs, caps, ids)?;
    if p.overrun {
        if nlri.is_empty() && p.mp_reach.is_none() {
            return Err(Reason::MalformedAttributeList.into());
        }
        p.faults.withdraw(None, "attribute list overrun");
    }
    if let Some((family, prefixes)) = p.mp_unreach.take() {
        if prefixes.is_empty() && p.count == 1 && withdrawn.is_empty() && nlri.is_empty() {
            update.end_of_rib = family;
        }
        update.withdrawn.extend(prefixes);
    }
    announce(&mut update, &mut p, nlri);
    Ok((update, p.faults))
}

/// The prefixes an UPDATE frame withdraws and announces, `(withdrawn, announced)`, its
/// other attributes not decoded: for a receiver that only counts routes, such as the
/// replay's IXP members (17 M announcements at 83 members, on the cores of the device
/// under test, where [`decode_update`] was a third of the tool's time). What
/// `decode_update` would treat as withdrawn for a bad attribute counts as announced here.
/// The errors are `decode_update`'s for the length fields, the prefix fields and the MP
/// attributes' structure; next hops are not looked at.
pub fn update_prefixes(frame: &[u8]) -> Result<(Vec<IpNet>, Vec<IpNet>), Notification> {
    let bad_network = |_| Notification::from(Reason::InvalidNetwork);
    let Fields {
        withdrawn: withdrawn_field,
        attrs,
        nlri,
    } = fields(frame)?;
    let (mut withdrawn, mut announced) = (Vec::new(), Vec::new());
    let v4 = Family::Ipv4Unicast;
    read_prefixes(withdrawn_field, v4, false, &mut withdrawn).map_err(bad_network)?;
    read_prefixes(nlri, v4, false, &mut announced).map_err(bad_network)?;
    // An attribute list cut short ends the attributes, as it does for `decode_update`.
    for a in RawAttrs::new(attrs).map_while(Result::ok) {
        let (out, reach) = match a.code {
            MP_REACH => (&mut announced, true),
            MP_UNREACH => (&mut withdrawn, false),
            _ => continue,
        };
        let err =
            || Notification::with_data(Reason::OptionalAttribute, Bytes::copy_from_slice(a.bytes));
        let mut v = Cursor::new(a.value);
        let (afi, safi) = (v.u16().ok_or_else(err)?, v.u8().ok_or_else(err)?);
        if reach {
            let nh_len = usize::from(v.u8().ok_or_else(err)?);
            v.take(nh_len + 1).ok_or_else(err)?; // the next hop, and the reserved byte
        }
        if let Some(f) = family(afi, safi) {
            read_prefixes(v.rest(), f, false, out).map_err(|_| err())?;
        }
    }
    Ok((withdrawn, announced))
}

/// Puts the announced prefixes into `update`: as announcements, or as withdrawals when an
/// error or a missing mandatory attribute asks for treat-as-withdraw.
fn announce<N: Nlri>(update: &mut Update<N>, p: &mut Parsed<N>, nlri: Vec<N>) {
    let mp = p.mp_reach.take().filter(|m| !m.prefixes.is_empty());
    if nlri.is_empty() && mp.is_none() {
        return;
    }
    if p.origin.is_none() {
        p.faults.withdraw(Some(ORIGIN), "missing");
    }
    if p.as_path.is_none() {
        p.faults.withdraw(Some(AS_PATH), "missing");
    }
    let body_nh = match (nlri.is_empty(), p.next_hop) {
        (true, _) => None,
        (false, Some(nh)) if usable(nh) => Some(nh),
        (false, nh) => {
            let why = if nh.is_some() {
                "unusable address"
            } else {
                "missing"
            };
            p.faults.withdraw(Some(NEXT_HOP), why);
            None
        }
    };
    if matches!(&mp, Some(MpReach { next_hop: NextHop::V4(nh), .. }) if !usable(*nh)) {
        p.faults.withdraw(Some(MP_REACH), "unusable IPv4 next hop");
    }
    let withdraw = p.faults.withdraw.is_some();
    let (Some(origin), Some(as_path), false) = (p.origin, p.take_as_path(), withdraw) else {
        update.withdrawn.extend(nlri);
        update
            .withdrawn
            .extend(mp.into_iter().flat_map(|m| m.prefixes));
        return;
    };
    let (mut path, mut other) = (Some(as_path), Some(p.take_other()));
    let groups = groups(body_nh.map(|nh| (NextHop::V4(nh), nlri)), mp);
    let last = groups.len().saturating_sub(1);
    for (i, (nh, prefixes)) in groups.into_iter().enumerate() {
        // The last group takes path and attributes, earlier ones copy them.
        let (as_path, other) = if i == last {
            (path.take(), other.take())
        } else {
            (path.clone(), other.clone())
        };
        let attrs = AttrSet::new(
            origin,
            as_path.unwrap_or_default(),
            nh,
            p.med,
            other.unwrap_or_default(),
        );
        update.announced.push((attrs, prefixes));
    }
}

/// Announced prefixes by next hop: the body NLRI, then MP_REACH_NLRI's (joined with the
/// body's when both are IPv4 with the same next hop).
fn groups<N>(body: Option<(NextHop, Vec<N>)>, mp: Option<MpReach<N>>) -> Vec<(NextHop, Vec<N>)> {
    let mut groups = Vec::with_capacity(2);
    groups.extend(body);
    if let Some(m) = mp {
        match groups.first_mut() {
            Some((nh, v)) if *nh == m.next_hop => v.extend(m.prefixes),
            _ => groups.push((m.next_hop, m.prefixes)),
        }
    }
    groups
}

/// Whether an IPv4 next hop can be a host address (RFC 4271 §6.3 semantic check): not
/// 0.0.0.0, not multicast, not class E or broadcast.
fn usable(nh: Ipv4Addr) -> bool {
    !nh.is_unspecified() && !nh.is_multicast() && nh.octets()[0] < 240
}
