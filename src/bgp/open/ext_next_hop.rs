//! The Extended Next Hop Encoding capability (RFC 8950 §3, code 5): IPv4 unicast routes
//! with IPv6 next hops, as IXPs with IPv6-only peering LANs carry them.
//!
//! Where it sits: part of `open.rs`. [`capability`] adds it to rovgate's OPEN when the peer
//! is configured with `extended_next_hop = true`; [`advertises`] reads a peer's. rovgate
//! advertises and uses one tuple only: <AFI 1, SAFI 1, next-hop AFI 2>.

use crate::route::Family;

/// The capability code (RFC 8950 §3).
pub(super) const EXTENDED_NEXT_HOP: u8 = 5;

/// The tuple rovgate knows: NLRI AFI 1 (IPv4), SAFI 1 (unicast), next-hop AFI 2 (IPv6).
const V4_UNICAST_V6_NEXT_HOP: [u8; 6] = [0, 1, 0, 1, 0, 2];

/// The capability (code, length, tuple) for an OPEN offering `families` when `wanted`;
/// nothing without IPv4 unicast.
pub(super) fn capability(wanted: bool, families: &[Family]) -> Option<[u8; 8]> {
    let [a, b, c, d, e, f] = V4_UNICAST_V6_NEXT_HOP;
    (wanted && families.contains(&Family::Ipv4Unicast)).then_some([
        EXTENDED_NEXT_HOP,
        6,
        a,
        b,
        c,
        d,
        e,
        f,
    ])
}

/// Whether a capability value lists <1, 1, 2>; `None` when it is malformed (not a
/// multiple of 6 octets, RFC 8950 §3), which is 2/0 as for the other capabilities rovgate
/// reads (BIRD does the same).
pub(super) fn advertises(value: &[u8]) -> Option<bool> {
    if !value.len().is_multiple_of(6) {
        return None;
    }
    Some(value.chunks_exact(6).any(|t| t == V4_UNICAST_V6_NEXT_HOP))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{local, peer, with_caps};
    use super::super::{decode_open, encode_open, negotiate, LocalSpeaker, PeerOpen};
    use crate::route::{Asn, Family};

    #[test]
    fn our_open_offers_ipv4_with_ipv6_next_hops_only_when_configured() {
        let cases = [
            (false, Family::ALL.to_vec(), false),
            (true, Family::ALL.to_vec(), true),
            (true, vec![Family::Ipv4Unicast], true),
            (true, vec![Family::Ipv6Unicast], false),
        ];
        for (extended_next_hop, families, want) in cases {
            let l = LocalSpeaker {
                extended_next_hop,
                families: families.clone(),
                ..local()
            };
            let open = encode_open(&l);
            let code_5 = [5, 6, 0, 1, 0, 1, 0, 2];
            let sent = open.windows(8).any(|w| w == code_5);
            assert_eq!(sent, want, "{extended_next_hop} {families:?}");
            let p = decode_open(&open).expect("decodes");
            assert_eq!(
                p.extended_next_hop, want,
                "{extended_next_hop} {families:?}"
            );
        }
    }

    #[test]
    fn a_peers_capability_counts_only_with_the_ipv4_unicast_ipv6_tuple() {
        let cases: [(&str, &[u8], bool); 4] = [
            ("<1,1,2>", &[5, 6, 0, 1, 0, 1, 0, 2], true),
            (
                "<1,128,2>, <1,1,2>",
                &[5, 12, 0, 1, 0, 128, 0, 2, 0, 1, 0, 1, 0, 2],
                true,
            ),
            ("<1,2,2> only", &[5, 6, 0, 1, 0, 2, 0, 2], false),
            ("empty", &[5, 0], false),
        ];
        for (name, caps, want) in cases {
            let p = with_caps(caps).expect(name);
            assert_eq!(p.extended_next_hop, want, "{name}");
        }
        let n = with_caps(&[5, 5, 0, 1, 0, 1, 0]).expect_err("5 octets");
        assert_eq!((n.code, n.subcode), (2, 0), "malformed: 2/0");
    }

    /// Expected: used only when both sides advertised it and IPv4 unicast is carried.
    #[test]
    fn negotiated_only_when_both_sides_offer_it_for_ipv4_unicast() {
        let v6_only = vec![Family::Ipv6Unicast];
        let cases = [
            (true, true, Family::ALL.to_vec(), true),
            (true, false, Family::ALL.to_vec(), false),
            (false, true, Family::ALL.to_vec(), false),
            (true, true, v6_only, false),
        ];
        for (ours, theirs, families, want) in cases {
            let l = LocalSpeaker {
                extended_next_hop: ours,
                ..local()
            };
            let p = PeerOpen {
                extended_next_hop: theirs,
                families: families.clone(),
                ..peer()
            };
            let n = negotiate(&l, Asn(64496), &p).expect("negotiates");
            assert_eq!(n.extended_next_hop, want, "{ours} {theirs} {families:?}");
        }
    }
}
