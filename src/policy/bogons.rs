//! Bogons: prefixes and AS numbers that no member of an IXP may announce.
//!
//! Where it sits: one of the import checks `policy` runs on every path a peer sends. Pure
//! tables from the IANA registries; no I/O.
//!
//! - Prefixes: the default route (exactly), and any prefix inside a block that the IANA
//!   special-purpose registries (RFC 6890 and their later entries) mark as not globally
//!   reachable, or that is multicast or reserved. Blocks the registries mark as globally
//!   reachable (AS112's 192.31.196.0/24, 192.175.48.0/24 and 2620:4f:8000::/48, AMT, ORCHIDv2) are not bogons.
//!   An IPv6 prefix outside 2000::/3 is not global unicast, a reason of its own.
//! - AS numbers: 0 (RFC 7607), AS_TRANS 23456 (RFC 6793), documentation (RFC 5398), private
//!   use (RFC 6996), the last of each range (RFC 7300), and the IANA reserved 65552-131071.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::BitAnd;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::route::Asn;

/// Why a prefix may not be announced through the route server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrefixBogon {
    /// The default route, or a prefix inside the named special-purpose block.
    Bogon(&'static str),
    /// An IPv6 prefix outside the global unicast space 2000::/3.
    NotGlobalUnicast,
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8, name: &'static str) -> (Ipv4Net, &'static str) {
    (Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len), name)
}

const fn v6(s: [u16; 3], len: u8, name: &'static str) -> (Ipv6Net, &'static str) {
    let addr = Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
    (Ipv6Net::new_assert(addr, len), name)
}

/// IPv4 blocks no member may announce (a prefix inside one is a bogon).
const V4: [(Ipv4Net, &str); 14] = [
    v4(0, 0, 0, 0, 8, "this network (RFC 791)"),
    v4(10, 0, 0, 0, 8, "private use (RFC 1918)"),
    v4(100, 64, 0, 0, 10, "shared address space (RFC 6598)"),
    v4(127, 0, 0, 0, 8, "loopback (RFC 1122)"),
    v4(169, 254, 0, 0, 16, "link local (RFC 3927)"),
    v4(172, 16, 0, 0, 12, "private use (RFC 1918)"),
    v4(192, 0, 0, 0, 24, "IETF protocol assignments (RFC 6890)"),
    v4(192, 0, 2, 0, 24, "documentation (RFC 5737)"),
    v4(
        192,
        88,
        99,
        0,
        24,
        "deprecated 6to4 relay anycast (RFC 7526)",
    ),
    v4(192, 168, 0, 0, 16, "private use (RFC 1918)"),
    v4(198, 18, 0, 0, 15, "benchmarking (RFC 2544)"),
    v4(198, 51, 100, 0, 24, "documentation (RFC 5737)"),
    v4(203, 0, 113, 0, 24, "documentation (RFC 5737)"),
    v4(
        224,
        0,
        0,
        0,
        3,
        "multicast and reserved (RFC 5771, RFC 1112)",
    ),
];

/// IPv6 blocks inside 2000::/3 no member may announce.
const V6: [(Ipv6Net, &str); 8] = [
    v6([0x2001, 0, 0], 32, "Teredo (RFC 4380)"),
    v6([0x2001, 2, 0], 48, "benchmarking (RFC 5180)"),
    v6([0x2001, 0x10, 0], 28, "deprecated ORCHID (RFC 4843)"),
    v6([0x2001, 0xdb8, 0], 32, "documentation (RFC 3849)"),
    v6([0x2002, 0, 0], 16, "6to4 (RFC 3056)"),
    v6([0x3ffe, 0, 0], 16, "former 6bone (RFC 3701)"),
    v6([0x3fff, 0, 0], 20, "documentation (RFC 9637)"),
    v6([0x2001, 0, 0], 23, "IETF protocol assignments (RFC 2928)"),
];

/// Blocks inside 2001::/23 that the registry marks globally reachable: not bogons.
const V6_REACHABLE: [Ipv6Net; 4] = [
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 0), 32),
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 3, 0, 0, 0, 0, 0, 0), 32),
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 4, 0x112, 0, 0, 0, 0, 0), 48),
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 0x20, 0, 0, 0, 0, 0, 0), 28),
];

/// IPv6 global unicast (RFC 4291 §2.4).
const GLOBAL_UNICAST: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);

/// A block as integers, its network and mask and its length: whether a prefix lies inside
/// it is then a compare and a masked compare. (`Ipv4Net::contains` and `Ipv6Net::contains`
/// rebuild both masks on every call, and this test runs for every route a checked peer
/// sends: it was the largest cost of the import checks in a full-table load.)
#[derive(Clone, Copy)]
struct Bits<T> {
    net: T,
    mask: T,
    len: u8,
}

impl<T: Copy + BitAnd<Output = T> + PartialEq> Bits<T> {
    /// Whether the prefix of length `len` at `addr` lies inside the block.
    fn holds(&self, addr: T, len: u8) -> bool {
        len >= self.len && addr & self.mask == self.net
    }
}

/// `$name`: a block of `$net` as [`Bits`] of `$int`.
macro_rules! bits_fn {
    ($name:ident, $net:ty, $int:ty) => {
        const fn $name(block: $net) -> Bits<$int> {
            let len = block.prefix_len();
            let mask = match <$int>::MAX.checked_shl(<$int>::BITS - len as u32) {
                Some(mask) => mask,
                None => 0,
            };
            let net = block.addr().to_bits() & mask;
            Bits { net, mask, len }
        }
    };
}
bits_fn!(v4_bits, Ipv4Net, u32);
bits_fn!(v6_bits, Ipv6Net, u128);

/// A table of blocks as [`Bits`], entry by entry: `$net` takes an entry `$e` to its block,
/// `$of` ([`v4_bits`], [`v6_bits`]) the block to its bits. (A macro: const fns take no
/// closures.)
macro_rules! bits_of {
    ($table:expr, $of:ident, |$e:ident| $net:expr) => {{
        let mut bits = [$of({
            let $e = $table[0];
            $net
        }); $table.len()];
        let mut i = 1;
        while i < bits.len() {
            bits[i] = $of({
                let $e = $table[i];
                $net
            });
            i += 1;
        }
        bits
    }};
}

/// [`V4`] as [`Bits`].
const V4_BITS: [Bits<u32>; V4.len()] = bits_of!(V4, v4_bits, |e| e.0);

/// The first octets that some block of [`V4`] covers, a bit each: a route starting with any
/// other (most routes) is no bogon without a look at the blocks.
const V4_FIRST_OCTETS: [u64; 4] = {
    let mut octets = [0; 4];
    let mut i = 0;
    while i < V4_BITS.len() {
        let b = V4_BITS[i];
        let mut octet = b.net >> 24;
        while octet <= (b.net | !b.mask) >> 24 {
            octets[octet as usize / 64] |= 1 << (octet % 64);
            octet += 1;
        }
        i += 1;
    }
    octets
};

/// [`V6`], [`V6_REACHABLE`] and [`GLOBAL_UNICAST`] as [`Bits`].
const V6_BITS: [Bits<u128>; V6.len()] = bits_of!(V6, v6_bits, |e| e.0);
const V6_REACHABLE_BITS: [Bits<u128>; V6_REACHABLE.len()] = bits_of!(V6_REACHABLE, v6_bits, |e| e);
const GLOBAL_UNICAST_BITS: Bits<u128> = v6_bits(GLOBAL_UNICAST);

/// Whether `prefix` is a bogon, and which.
pub fn prefix_bogon(prefix: &IpNet) -> Option<PrefixBogon> {
    let len = prefix.prefix_len();
    if len == 0 {
        return Some(PrefixBogon::Bogon("default route"));
    }
    match prefix {
        IpNet::V4(p) => {
            let addr = p.addr().to_bits();
            let octet = addr >> 24;
            if V4_FIRST_OCTETS[octet as usize / 64] & 1 << (octet % 64) == 0 {
                return None;
            }
            let i = V4_BITS.iter().position(|b| b.holds(addr, len))?;
            Some(PrefixBogon::Bogon(V4[i].1))
        }
        IpNet::V6(p) => {
            let addr = p.addr().to_bits();
            if !GLOBAL_UNICAST_BITS.holds(addr, len) {
                return Some(PrefixBogon::NotGlobalUnicast);
            }
            // Every reachable block lies inside a bogon block: looked at only for those.
            let i = V6_BITS.iter().position(|b| b.holds(addr, len))?;
            let reachable = V6_REACHABLE_BITS.iter().any(|b| b.holds(addr, len));
            (!reachable).then_some(PrefixBogon::Bogon(V6[i].1))
        }
    }
}

/// Whether `asn` may not appear in an AS_PATH, and why.
pub fn asn_bogon(asn: Asn) -> Option<&'static str> {
    Some(match asn.0 {
        0 => "AS 0 (RFC 7607)",
        23456 => "AS_TRANS (RFC 6793)",
        64496..=64511 | 65536..=65551 => "documentation (RFC 5398)",
        64512..=65534 | 4_200_000_000..=4_294_967_294 => "private use (RFC 6996)",
        65535 | 4_294_967_295 => "last of a range (RFC 7300)",
        65552..=131071 => "reserved by IANA",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(s: &str) -> Option<PrefixBogon> {
        prefix_bogon(&s.parse().unwrap())
    }

    #[test]
    fn ipv4_prefixes() {
        let bogons = [
            "0.0.0.0/0",
            "0.0.0.0/8",
            "10.1.0.0/16",
            "100.64.0.0/10",
            "127.0.0.1/32",
            "169.254.1.0/24",
            "172.31.0.0/16",
            "192.0.0.0/24",
            "192.0.2.0/24",
            "192.168.10.0/24",
            "198.19.0.0/16",
            "198.51.100.0/24",
            "203.0.113.128/25",
            "224.0.0.0/4",
            "240.0.0.0/4",
            "255.255.255.255/32",
        ];
        for p in bogons {
            assert!(matches!(prefix(p), Some(PrefixBogon::Bogon(_))), "{p}");
        }
        // Globally reachable: AS112, AMT, and ordinary space, including what covers a bogon.
        for p in [
            "192.31.196.0/24",
            "192.175.48.0/24",
            "192.52.193.0/24",
            "1.1.1.0/24",
            "100.63.255.0/24",
            "172.32.0.0/11",
            "192.0.0.0/8",
            "223.255.255.0/24",
        ] {
            assert_eq!(prefix(p), None, "{p}");
        }
    }

    #[test]
    fn ipv6_prefixes() {
        for p in [
            "::/0",
            "2001::/32",
            "2001:2::/48",
            "2001:10::/28",
            "2001:db8:1::/48",
            "2002:c000:200::/40",
            "3ffe::/16",
            "3fff:100::/24",
            "2001:100::/24",
        ] {
            assert!(matches!(prefix(p), Some(PrefixBogon::Bogon(_))), "{p}");
        }
        for p in ["::1/128", "fc00::/7", "fe80::/10", "ff02::/16", "4000::/3"] {
            assert_eq!(prefix(p), Some(PrefixBogon::NotGlobalUnicast), "{p}");
        }
        for p in [
            "2001:1::/32",
            "2001:3::/32",
            "2001:4:112::/48",
            "2001:20::/28",
            "2001:200::/23",
            "2a00:1450::/32",
            "2620:4f:8000::/48",
            "2000::/3",
        ] {
            assert_eq!(prefix(p), None, "{p}");
        }
    }

    /// The integer tables answer as `ipnet` does with the blocks as written: every IPv4
    /// /16 and /24 inside 192/8, every IPv6 /16 and every /32 inside 2001::/16.
    #[test]
    fn the_integer_tables_agree_with_the_blocks() {
        let v4 = |p: Ipv4Net| V4.iter().find(|(b, _)| b.contains(&p)).map(|(_, n)| *n);
        let nets = (0..=u16::MAX).map(|i| Ipv4Net::new((u32::from(i) << 16).into(), 16));
        let in_192 =
            (0..=u16::MAX).map(|i| Ipv4Net::new((0xc000_0000 | u32::from(i) << 8).into(), 24));
        for p in nets.chain(in_192).map(Result::unwrap) {
            let expected = v4(p).map(PrefixBogon::Bogon);
            assert_eq!(prefix_bogon(&IpNet::V4(p)), expected, "{p}");
        }
        let v6 = |p: Ipv6Net| {
            if !GLOBAL_UNICAST.contains(&p) {
                return Some(PrefixBogon::NotGlobalUnicast);
            }
            if V6_REACHABLE.iter().any(|b| b.contains(&p)) {
                return None;
            }
            V6.iter()
                .find(|(b, _)| b.contains(&p))
                .map(|(_, n)| PrefixBogon::Bogon(n))
        };
        let nets = (0..=u16::MAX).map(|i| Ipv6Net::new((u128::from(i) << 112).into(), 16));
        let in_2001 = (0..=u16::MAX)
            .map(|i| Ipv6Net::new((0x2001_u128 << 112 | u128::from(i) << 96).into(), 32));
        for p in nets.chain(in_2001).map(Result::unwrap) {
            assert_eq!(prefix_bogon(&IpNet::V6(p)), v6(p), "{p}");
        }
        // What `prefix_bogon` relies on to look at the reachable blocks only after a match.
        for r in V6_REACHABLE {
            assert!(V6.iter().any(|(b, _)| b.contains(&r)), "{r}");
        }
    }

    #[test]
    fn asns() {
        for asn in [
            0,
            23456,
            64496,
            64511,
            64512,
            65534,
            65535,
            65536,
            65551,
            65552,
            131071,
            4_200_000_000,
            4_294_967_294,
            4_294_967_295,
        ] {
            assert!(asn_bogon(Asn(asn)).is_some(), "AS{asn}");
        }
        for asn in [1, 112, 3333, 23455, 23457, 64495, 131072, 4_199_999_999] {
            assert_eq!(asn_bogon(Asn(asn)), None, "AS{asn}");
        }
    }
}
