//! NLRI prefixes on the wire (RFC 4271 §4.3): a length in bits, then just enough bytes.
//! Used for the withdrawn routes and NLRI fields and inside MP_REACH/MP_UNREACH.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::route::{Family, Nlri, PathNlri};

/// A prefix field that is not well-formed (RFC 7606 §5.3): a length beyond the family's
/// maximum, or a prefix running past the end of its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BadNlri;

/// Reads every prefix of `buf` into `out`, each after its 4-octet path identifier when
/// `with_ids` (RFC 7911 §3; `N` must be [`PathNlri`] then, or the ids are lost). Host bits
/// past the prefix length are cleared (RFC 4271: they are irrelevant), so equal prefixes
/// compare equal.
pub(super) fn read_prefixes<N: Nlri>(
    mut buf: &[u8],
    family: Family,
    with_ids: bool,
    out: &mut Vec<N>,
) -> Result<(), BadNlri> {
    let mut id = 0;
    loop {
        if with_ids {
            let Some((bytes, rest)) = buf.split_first_chunk::<4>() else {
                return if buf.is_empty() { Ok(()) } else { Err(BadNlri) };
            };
            id = u32::from_be_bytes(*bytes);
            buf = rest;
        }
        let Some((&len, rest)) = buf.split_first() else {
            return if with_ids { Err(BadNlri) } else { Ok(()) };
        };
        let (bytes, rest) = rest
            .split_at_checked(usize::from(len).div_ceil(8))
            .ok_or(BadNlri)?;
        out.push(N::new(id, prefix(family, len, bytes).ok_or(BadNlri)?));
        buf = rest;
    }
}

/// One prefix from its length and significant bytes; `None` if the length is too long.
fn prefix(family: Family, len: u8, bytes: &[u8]) -> Option<IpNet> {
    match family {
        Family::Ipv4Unicast => {
            let mut a = [0u8; 4];
            a.get_mut(..bytes.len())?.copy_from_slice(bytes);
            let addr = u32::from_be_bytes(a)
                & u32::MAX
                    .checked_shl(32 - u32::from(len.min(32)))
                    .unwrap_or(0);
            Ipv4Net::new(Ipv4Addr::from(addr), len).ok().map(IpNet::V4)
        }
        Family::Ipv6Unicast => {
            let mut a = [0u8; 16];
            a.get_mut(..bytes.len())?.copy_from_slice(bytes);
            let shift = 128 - u32::from(len.min(128));
            let addr = u128::from_be_bytes(a) & u128::MAX.checked_shl(shift).unwrap_or(0);
            Ipv6Net::new(Ipv6Addr::from(addr), len).ok().map(IpNet::V6)
        }
    }
}

/// The encoded size of a prefix: length byte and significant bytes.
pub(super) fn prefix_size(p: &IpNet) -> usize {
    1 + usize::from(p.prefix_len()).div_ceil(8)
}

/// Appends one prefix in wire form.
pub(super) fn write_prefix(out: &mut Vec<u8>, p: &IpNet) {
    let n = usize::from(p.prefix_len()).div_ceil(8);
    out.push(p.prefix_len());
    match p {
        IpNet::V4(p) => out.extend_from_slice(p.network().octets().get(..n).unwrap_or_default()),
        IpNet::V6(p) => out.extend_from_slice(p.network().octets().get(..n).unwrap_or_default()),
    }
}

/// What UPDATE encode writes as NLRI: a prefix, or a prefix with its path identifier
/// (RFC 7911 §3: the identifier's 4 octets, then the prefix).
pub(super) trait WireNlri: Copy {
    /// Whether it is an IPv4 prefix (else IPv6).
    fn is_v4(&self) -> bool;
    /// Its encoded size.
    fn size(&self) -> usize;
    /// Appends it in wire form.
    fn write(&self, out: &mut Vec<u8>);
}

impl WireNlri for IpNet {
    fn is_v4(&self) -> bool {
        matches!(self, IpNet::V4(_))
    }

    fn size(&self) -> usize {
        prefix_size(self)
    }

    fn write(&self, out: &mut Vec<u8>) {
        write_prefix(out, self)
    }
}

impl WireNlri for PathNlri {
    fn is_v4(&self) -> bool {
        self.prefix.is_v4()
    }

    fn size(&self) -> usize {
        4 + prefix_size(&self.prefix)
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_be_bytes());
        write_prefix(out, &self.prefix)
    }
}
