//! The path attributes of one received UPDATE, attribute by attribute, with the RFC 7606
//! outcome of each error: session reset (an `Err(Notification)`), treat-as-withdraw
//! (`Faults::withdraw`), or attribute discard (the attribute is dropped, `Faults::discard`).
//!
//! Where it sits: called by `decode::decode_update` for the path attributes field; what it
//! keeps of the unparsed attributes becomes `AttrSet::other`.

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use tracing::debug;

use super::attr::*;
use super::cursor::Cursor;
use super::decode::Faults;
use super::nlri::read_prefixes;
use super::{aspath, family, Caps, PathIds, AS_TRANS};
use crate::bgp::{Notification, Reason};
use crate::route::{AsPath, Family, NextHop, Nlri};

/// MP_REACH_NLRI for a unicast family.
#[derive(Debug)]
pub(super) struct MpReach<N> {
    pub(super) next_hop: NextHop,
    pub(super) prefixes: Vec<N>,
}

/// What the attribute list held, as far as rovgate cares; `N`: the MP prefixes, with or
/// without ADD-PATH path identifiers.
#[derive(Debug, Default)]
pub(super) struct Parsed<N> {
    pub(super) origin: Option<u8>,
    pub(super) as_path: Option<AsPath>,
    pub(super) as4_path: Option<AsPath>,
    pub(super) next_hop: Option<Ipv4Addr>,
    pub(super) med: Option<u32>,
    /// Offset in `other` of the AGGREGATOR's AS field and the AS it holds.
    aggregator: Option<(usize, u32)>,
    /// AS4_AGGREGATOR's AS from a 2-octet peer.
    as4_aggregator: Option<u32>,
    other: Vec<u8>,
    pub(super) mp_reach: Option<MpReach<N>>,
    /// MP_UNREACH_NLRI: family (if unicast) and withdrawn prefixes.
    pub(super) mp_unreach: Option<(Option<Family>, Vec<N>)>,
    /// Errors that ask for treat-as-withdraw (RFC 7606 §2) or discarded an attribute.
    pub(super) faults: Faults,
    /// The attribute list ended inside an attribute (RFC 7606 §4).
    pub(super) overrun: bool,
    /// How many attributes the list held (duplicates and discarded ones included).
    pub(super) count: usize,
    seen: [u64; 4],
    /// The families whose MP prefixes carry path identifiers.
    ids: PathIds,
}

impl<N: Nlri> Parsed<N> {
    /// Parses the path attributes field, the MP prefixes of the families in `ids` with
    /// their path identifiers. `Err` is a session reset.
    pub(super) fn parse(list: &[u8], caps: &Caps, ids: PathIds) -> Result<Self, Notification> {
        let mut p = Parsed {
            other: Vec::with_capacity(list.len()),
            ids,
            ..Parsed::default()
        };
        for a in RawAttrs::new(list) {
            let Ok(a) = a else {
                p.overrun = true;
                break;
            };
            p.count += 1;
            p.attribute(a, caps)?;
        }
        Ok(p)
    }

    /// The attributes kept as wire bytes, AGGREGATOR in 4-octet form (RFC 6793 §4.2.3).
    pub(super) fn take_other(&mut self) -> Bytes {
        if let (Some((at, AS_TRANS)), Some(real)) = (self.aggregator, self.as4_aggregator) {
            if let Some(field) = self.other.get_mut(at..at + 4) {
                field.copy_from_slice(&real.to_be_bytes());
            }
        }
        // An exact-size buffer makes a `Bytes` without a shared header (one allocation).
        Bytes::from(std::mem::take(&mut self.other).into_boxed_slice())
    }

    /// The path: AS_PATH, with AS4_PATH merged in for a 2-octet peer unless an AGGREGATOR
    /// that is not AS_TRANS says to ignore it (RFC 6793 §4.2.3).
    pub(super) fn take_as_path(&mut self) -> Option<AsPath> {
        let path = self.as_path.take()?;
        let agg_says_ignore = matches!(self.aggregator, Some((_, a)) if a != AS_TRANS);
        Some(match self.as4_path.take() {
            Some(as4) if !agg_says_ignore => aspath::merge_as4(path, as4),
            _ => path,
        })
    }

    fn malformed(&mut self, a: &RawAttr, why: &'static str) {
        self.faults.withdraw(Some(a.code), why);
    }

    fn attribute(&mut self, a: RawAttr, caps: &Caps) -> Result<(), Notification> {
        let (word, bit) = (usize::from(a.code / 64), a.code % 64);
        if self.seen.get(word).is_some_and(|w| w & (1 << bit) != 0) {
            if matches!(a.code, MP_REACH | MP_UNREACH) {
                return Err(Reason::MalformedAttributeList.into());
            }
            self.faults.discard(Some(a.code), "repeated attribute");
            return Ok(());
        }
        if let Some(w) = self.seen.get_mut(word) {
            *w |= 1 << bit;
        }
        match a.code {
            ORIGIN | AS_PATH | NEXT_HOP | MED => self.mandatory(a, caps),
            COMMUNITIES | EXT_COMMUNITIES | LARGE_COMMUNITIES | IPV6_EXT_COMMUNITIES => {
                self.communities(a)
            }
            ATOMIC_AGGREGATE | AGGREGATOR | AS4_PATH | AS4_AGGREGATOR => self.discardable(a, caps),
            // Every rovgate peer is external (RFC 7947 clients, customers, peers,
            // upstreams): RFC 7606 §7.5, §7.9, §7.10 discard these from external peers.
            LOCAL_PREF | ORIGINATOR_ID | CLUSTER_LIST => {
                debug!(
                    code = a.code,
                    "iBGP-only attribute from an external peer discarded"
                );
            }
            MP_REACH => self.mp_reach(a, caps)?,
            MP_UNREACH => self.mp_unreach(a)?,
            _ => self.unknown(a)?,
        }
        Ok(())
    }

    /// ORIGIN, AS_PATH, NEXT_HOP, MED: any error is treat-as-withdraw (RFC 7606 §7.1-7.4).
    fn mandatory(&mut self, a: RawAttr, caps: &Caps) {
        let want = if a.code == MED { OPTIONAL } else { TRANSITIVE };
        if a.flags & (OPTIONAL | TRANSITIVE) != want {
            return self.malformed(&a, "attribute flags");
        }
        let ok = match a.code {
            ORIGIN => match a.value {
                &[o] if o <= 2 => {
                    self.origin = Some(o);
                    true
                }
                _ => false,
            },
            AS_PATH => {
                self.as_path = aspath::decode(a.value, caps.as4).filter(|p| !aspath::has_zero(p));
                self.as_path.is_some()
            }
            NEXT_HOP => {
                self.next_hop = <[u8; 4]>::try_from(a.value).ok().map(Ipv4Addr::from);
                self.next_hop.is_some()
            }
            _ => {
                self.med = <[u8; 4]>::try_from(a.value).ok().map(u32::from_be_bytes);
                self.med.is_some()
            }
        };
        if !ok {
            self.malformed(&a, "attribute value or length");
        }
    }

    /// COMMUNITIES (RFC 7606 §7.8), EXTENDED COMMUNITIES (§7.14), IPv6 extended
    /// communities (§7.15), LARGE_COMMUNITY (RFC 8092 §6): optional transitive, a
    /// non-zero multiple of 4, 8, 20, 12 bytes; else treat-as-withdraw. Kept as received.
    fn communities(&mut self, a: RawAttr) {
        let unit = match a.code {
            COMMUNITIES => 4,
            EXT_COMMUNITIES => 8,
            IPV6_EXT_COMMUNITIES => 20,
            _ => 12,
        };
        if a.flags & (OPTIONAL | TRANSITIVE) != OPTIONAL | TRANSITIVE {
            self.malformed(&a, "attribute flags");
        } else if a.value.is_empty() || !a.value.len().is_multiple_of(unit) {
            self.malformed(&a, "community attribute length");
        } else {
            self.other.extend_from_slice(a.bytes);
        }
    }

    /// ATOMIC_AGGREGATE, AGGREGATOR (RFC 7606 §7.6, §7.7), AS4_PATH and AS4_AGGREGATOR
    /// (RFC 6793 §6): errors discard the attribute. AS4_* from a 4-octet peer are discarded
    /// too (RFC 6793 §4.2.1); from a 2-octet peer they are merged, never kept.
    fn discardable(&mut self, a: RawAttr, caps: &Caps) {
        let want = if a.code == ATOMIC_AGGREGATE {
            TRANSITIVE
        } else {
            OPTIONAL | TRANSITIVE
        };
        let flags_ok = a.flags & (OPTIONAL | TRANSITIVE) == want;
        let kept = flags_ok
            && match a.code {
                ATOMIC_AGGREGATE => {
                    a.value.is_empty() && {
                        self.other.extend_from_slice(a.bytes);
                        true
                    }
                }
                AGGREGATOR => self.aggregator(a, caps.as4),
                AS4_PATH if !caps.as4 => {
                    self.as4_path = aspath::decode_as4_path(a.value);
                    self.as4_path.is_some()
                }
                AS4_AGGREGATOR if !caps.as4 => {
                    let asn = a
                        .value
                        .get(..4)
                        .and_then(|b| b.try_into().ok())
                        .map(u32::from_be_bytes);
                    self.as4_aggregator = asn.filter(|&x| x != 0 && a.value.len() == 8);
                    self.as4_aggregator.is_some()
                }
                _ => false,
            };
        if !kept {
            let why = match a.code {
                _ if !flags_ok => "attribute flags",
                AS4_PATH | AS4_AGGREGATOR if caps.as4 => "AS4 attribute from a 4-octet peer",
                _ => "attribute value or length",
            };
            self.faults.discard(Some(a.code), why);
        }
    }

    /// AGGREGATOR: 8 bytes from a 4-octet peer, 6 from a 2-octet one, stored as 8.
    fn aggregator(&mut self, a: RawAttr, as4: bool) -> bool {
        let mut c = Cursor::new(a.value);
        let asn = if as4 { c.u32() } else { c.u16().map(u32::from) };
        let (Some(asn), Some(ip), true) = (asn, c.array::<4>(), c.rest().is_empty()) else {
            return false;
        };
        if asn == 0 {
            return false;
        }
        let at = self.other.len() + 3;
        let [a0, a1, a2, a3] = asn.to_be_bytes();
        write(
            &mut self.other,
            a.flags,
            AGGREGATOR,
            &[a0, a1, a2, a3, ip[0], ip[1], ip[2], ip[3]],
        );
        self.aggregator = Some((at, asn));
        true
    }

    /// An attribute rovgate does not know: well-known is NOTIFICATION 3/2 (RFC 4271 §6.3);
    /// optional transitive passes on with the Partial bit set; optional non-transitive is
    /// dropped.
    fn unknown(&mut self, a: RawAttr) -> Result<(), Notification> {
        if a.flags & OPTIONAL == 0 {
            return Err(Notification::with_data(
                Reason::UnrecognizedWellKnown,
                Bytes::copy_from_slice(a.bytes),
            ));
        }
        if a.flags & TRANSITIVE != 0 {
            let start = self.other.len();
            self.other.extend_from_slice(a.bytes);
            if let Some(f) = self.other.get_mut(start) {
                *f |= PARTIAL;
            }
        }
        Ok(())
    }

    /// MP_REACH_NLRI (RFC 4760, RFC 7606 §7.11): a structure or NLRI error is NOTIFICATION
    /// 3/9 with the attribute as data (RFC 4760 §7); wrong flags or a semantically wrong
    /// next hop are treat-as-withdraw. Other AFI/SAFIs are ignored.
    fn mp_reach(&mut self, a: RawAttr, caps: &Caps) -> Result<(), Notification> {
        let err =
            || Notification::with_data(Reason::OptionalAttribute, Bytes::copy_from_slice(a.bytes));
        let mut c = Cursor::new(a.value);
        let (afi, safi) = (c.u16().ok_or_else(err)?, c.u8().ok_or_else(err)?);
        let nh_len = usize::from(c.u8().ok_or_else(err)?);
        let nh = c.take(nh_len).ok_or_else(err)?;
        c.u8().ok_or_else(err)?; // reserved (SNPAs, RFC 4760)
        let Some(family) = family(afi, safi) else {
            debug!(afi, safi, "MP_REACH_NLRI for another AFI/SAFI ignored");
            return Ok(());
        };
        let next_hop = mp_next_hop(family, nh, caps.extended_next_hop).ok_or_else(err)?;
        let mut prefixes = Vec::new();
        let with_ids = self.ids.of(family);
        read_prefixes(c.rest(), family, with_ids, &mut prefixes).map_err(|_| err())?;
        if a.flags & (OPTIONAL | TRANSITIVE) != OPTIONAL {
            self.malformed(&a, "attribute flags");
        }
        if let NextHop::V6(g, _) = next_hop {
            if g.is_unspecified() || g.is_multicast() {
                self.malformed(&a, "IPv6 next hop");
            }
        }
        self.mp_reach = Some(MpReach { next_hop, prefixes });
        Ok(())
    }

    /// MP_UNREACH_NLRI: errors are NOTIFICATION 3/9; other AFI/SAFIs are ignored.
    fn mp_unreach(&mut self, a: RawAttr) -> Result<(), Notification> {
        let err =
            || Notification::with_data(Reason::OptionalAttribute, Bytes::copy_from_slice(a.bytes));
        let mut c = Cursor::new(a.value);
        let (afi, safi) = (c.u16().ok_or_else(err)?, c.u8().ok_or_else(err)?);
        let family = family(afi, safi);
        let mut prefixes = Vec::new();
        match family {
            Some(f) => {
                read_prefixes(c.rest(), f, self.ids.of(f), &mut prefixes).map_err(|_| err())?
            }
            None => debug!(afi, safi, "MP_UNREACH_NLRI for another AFI/SAFI ignored"),
        }
        self.mp_unreach = Some((family, prefixes));
        Ok(())
    }
}

/// The next hop of MP_REACH_NLRI: 4 bytes for IPv4, 16 or 32 (global and link-local,
/// RFC 2545) for IPv6, and for IPv4 too when RFC 8950 `extended` next hops were negotiated.
/// Any other length is not what was expected: RFC 7606 §7.11 asks for a session reset.
fn mp_next_hop(family: Family, nh: &[u8], extended: bool) -> Option<NextHop> {
    match (family, nh.len()) {
        (Family::Ipv4Unicast, 4) => <[u8; 4]>::try_from(nh).ok().map(|b| NextHop::V4(b.into())),
        (Family::Ipv4Unicast, _) if extended => ipv6_next_hop(nh),
        (Family::Ipv6Unicast, _) => ipv6_next_hop(nh),
        _ => None,
    }
}

/// A 16-byte global IPv6 next hop, or a 32-byte global and link-local pair (RFC 2545).
fn ipv6_next_hop(nh: &[u8]) -> Option<NextHop> {
    let v6 = |b: &[u8]| <[u8; 16]>::try_from(b).ok().map(Ipv6Addr::from);
    match nh.len() {
        16 => Some(NextHop::V6(v6(nh)?, None)),
        32 => {
            let (g, ll) = nh.split_at_checked(16)?;
            let ll = v6(ll)?;
            Some(NextHop::V6(v6(g)?, (!ll.is_unspecified()).then_some(ll)))
        }
        _ => None,
    }
}
