//! The ADD-PATH capability (RFC 7911 §4): rovgate offers to send, for its families, when
//! the peer is configured so; it uses ADD-PATH towards a peer for each family the peer
//! said it can receive ([`Negotiated::add_path`](super::Negotiated::add_path)), and sends
//! the best path, without path identifiers, for the others. rovgate never offers to
//! receive (a route server need not).
//!
//! Where it sits: part of `open/message.rs` (the bytes) and `open.rs` (the outcome).

use super::Family;
use crate::bgp::wire;

/// The capability code.
pub(super) const ADD_PATH: u8 = 69;
/// Send/Receive: the sender can receive multiple paths.
const RECEIVE: u8 = 1;
/// Send/Receive: the sender can send multiple paths.
const SEND: u8 = 2;

/// The capability offering to send for `families`.
pub(super) fn capability(families: &[Family]) -> Vec<u8> {
    let mut cap = vec![ADD_PATH, (4 * families.len()) as u8];
    for &f in families {
        let (afi, safi) = wire::afi_safi(f);
        cap.extend(afi.to_be_bytes());
        cap.extend([safi, SEND]);
    }
    cap
}

/// The families a peer's capability value (length a multiple of 4, checked) says it can
/// receive multiple paths of; families rovgate does not know are left out.
pub(super) fn receivers(value: &[u8], out: &mut Vec<Family>) {
    for t in value.chunks_exact(4) {
        let family = wire::family(u16::from_be_bytes([t[0], t[1]]), t[2]);
        match family.filter(|f| t[3] & RECEIVE != 0 && !out.contains(f)) {
            Some(f) => out.push(f),
            None => continue,
        }
    }
    out.sort();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected: RFC 7911 §4 bytes; receive (1) and both (3) count, send (2) alone does not.
    #[test]
    fn capability_bytes_and_what_a_peer_can_receive() {
        assert_eq!(
            capability(&Family::ALL),
            [69, 8, 0, 1, 1, 2, 0, 2, 1, 2],
            "send for IPv4 and IPv6 unicast"
        );
        // (the peer's tuples, the families it can receive)
        let cases: [(&[u8], &[Family]); 4] = [
            (&[0, 1, 1, 1], &[Family::Ipv4Unicast]),
            (&[0, 2, 1, 3, 0, 1, 1, 2], &[Family::Ipv6Unicast]),
            (&[0, 1, 1, 2], &[]),
            (&[0, 1, 128, 1, 0, 2, 1, 1, 0, 1, 1, 3], &Family::ALL),
        ];
        for (value, expected) in cases {
            let mut got = Vec::new();
            receivers(value, &mut got);
            assert_eq!(got, expected, "{value:?}");
        }
    }
}
