//! rovgate's own additions to passed-through attributes: large communities (RFC 8092) for
//! ROV tags and filtered reasons, and the origin validation state extended community
//! (RFC 8097).
//!
//! Where it sits: the UPDATE encoder (`encode.rs`) calls [`add`] for attribute sets the RIB
//! tagged (`route::Tags`); every other attribute passes through byte for byte. Sessions
//! call [`scrub`] on what peers send, so a peer cannot forge rovgate's own tags.

use bytes::Bytes;

use super::attr::{self, RawAttrs, EXT_COMMUNITIES, LARGE_COMMUNITIES, OPTIONAL, TRANSITIVE};
use crate::route::{RovState, FILTERED_FUNCTION, TAG_FUNCTION};

/// `other` without the tags only rovgate may set, as other route servers strip their own
/// informational communities on input: the large communities `rs_asn:1000:*` (RPKI state)
/// and `rs_asn:1101:*` (filtered reason), and every RFC 8097 origin validation state
/// extended community (§2: it is not sent across ASes, so a peer's copy is a forgery or a
/// leak). `None` when there is none to strip. An attribute left empty is dropped.
pub fn scrub(other: &[u8], rs_asn: u32) -> Option<Bytes> {
    attr::remove_values(other, |code, c| match code {
        LARGE_COMMUNITIES => {
            let word = |i: usize| {
                c.get(i..i + 4)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            };
            word(0) == Some(rs_asn) && matches!(word(4), Some(TAG_FUNCTION | FILTERED_FUNCTION))
        }
        EXT_COMMUNITIES => c.starts_with(&ORIGIN_VALIDATION_STATE),
        _ => false,
    })
}

/// `other` (a received attribute list) with `large` appended to its LARGE_COMMUNITIES and,
/// for `ext`, the RFC 8097 community appended to its EXTENDED COMMUNITIES; either attribute
/// is added at the end when absent. A value that would outgrow an attribute is not added.
pub fn add(other: &[u8], large: &[[u32; 3]], ext: Option<RovState>) -> Bytes {
    let large: Vec<u8> = large
        .iter()
        .flat_map(|c| c.iter().flat_map(|v| v.to_be_bytes()))
        .collect();
    let ext: Vec<u8> = ext.map_or(Vec::new(), |s| origin_validation_state(s).to_vec());
    let mut out = Vec::with_capacity(other.len() + large.len() + ext.len() + 8);
    let (mut large_done, mut ext_done) = (large.is_empty(), ext.is_empty());
    for a in RawAttrs::new(other) {
        let Ok(a) = a else { break };
        let extra = match a.code {
            LARGE_COMMUNITIES if !large_done => {
                large_done = true;
                &large
            }
            EXT_COMMUNITIES if !ext_done => {
                ext_done = true;
                &ext
            }
            _ => &[][..],
        };
        if extra.is_empty() || a.value.len() + extra.len() > usize::from(u16::MAX) {
            out.extend_from_slice(a.bytes);
        } else {
            attr::write(&mut out, a.flags, a.code, &[a.value, extra].concat());
        }
    }
    if !ext_done {
        attr::write(&mut out, OPTIONAL | TRANSITIVE, EXT_COMMUNITIES, &ext);
    }
    if !large_done {
        attr::write(&mut out, OPTIONAL | TRANSITIVE, LARGE_COMMUNITIES, &large);
    }
    Bytes::from(out)
}

/// The RFC 8097 extended community's type and subtype: 0x43 (non-transitive opaque), 0x00.
const ORIGIN_VALIDATION_STATE: [u8; 2] = [0x43, 0];

/// The RFC 8097 extended community: type and subtype, five reserved octets, then 0 valid,
/// 1 not found, 2 invalid.
fn origin_validation_state(state: RovState) -> [u8; 8] {
    let code = match state {
        RovState::Valid => 0,
        RovState::NotFound => 1,
        RovState::Invalid => 2,
    };
    let [kind, subtype] = ORIGIN_VALIDATION_STATE;
    [kind, subtype, 0, 0, 0, 0, 0, code]
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMUNITY: [u8; 7] = [0xc0, 8, 4, 0, 1, 0, 2];

    /// (name, received attributes, RFC 8097 state, expected attributes)
    type Case = (&'static str, Vec<u8>, Option<RovState>, Vec<u8>);

    #[test]
    fn tags_join_existing_attributes_or_are_appended() {
        let lc = [0xc0, 32, 12, 0, 0, 0, 9, 0, 0, 0, 8, 0, 0, 0, 7];
        let tag = [[64500, 1000, 4]];
        let tag_bytes = [0, 0, 0xfb, 0xf4, 0, 0, 3, 0xe8, 0, 0, 0, 4];
        let ext_bytes = [0x43, 0, 0, 0, 0, 0, 0, 2];
        let cases: [Case; 3] = [
            (
                "no large communities yet: one attribute appended",
                COMMUNITY.to_vec(),
                None,
                [&COMMUNITY[..], &[0xc0, 32, 12], &tag_bytes].concat(),
            ),
            (
                "existing large communities: the tag joins them",
                [&COMMUNITY[..], &lc].concat(),
                None,
                [&COMMUNITY[..], &[0xc0, 32, 24], &lc[3..], &tag_bytes].concat(),
            ),
            (
                "RFC 8097 community added as a new extended communities attribute",
                COMMUNITY.to_vec(),
                Some(RovState::Invalid),
                [
                    &COMMUNITY[..],
                    &[0xc0, 16, 8],
                    &ext_bytes,
                    &[0xc0, 32, 12],
                    &tag_bytes,
                ]
                .concat(),
            ),
        ];
        for (name, other, ext, expected) in cases {
            assert_eq!(add(&other, &tag, ext)[..], expected[..], "{name}");
        }
    }

    #[test]
    fn peers_cannot_forge_rovgates_own_communities() {
        let lc = |c: [[u32; 3]; 2]| {
            let v: Vec<u8> = c.iter().flatten().flat_map(|w| w.to_be_bytes()).collect();
            [&[0xc0, 32, 24][..], &v].concat()
        };
        let forged = lc([[64500, 1000, 1], [64496, 1, 2]]);
        let kept = [&[0xc0, 32, 12][..], &lc([[0; 3], [64496, 1, 2]])[15..]].concat();
        let got = scrub(&[&COMMUNITY[..], &forged].concat(), 64500).expect("scrubbed");
        assert_eq!(got[..], [&COMMUNITY[..], &kept].concat()[..]);
        let only_ours = lc([[64500, 1000, 1], [64500, 1101, 13]]);
        let got = scrub(&[&COMMUNITY[..], &only_ours].concat(), 64500).expect("scrubbed");
        assert_eq!(got[..], COMMUNITY[..], "an emptied attribute is dropped");
        let others = lc([[64501, 1000, 1], [64496, 1, 2]]);
        assert_eq!(scrub(&others, 64500), None, "another AS's communities stay");
        assert_eq!(scrub(&COMMUNITY, 64500), None);
    }

    #[test]
    fn peers_cannot_forge_the_rfc_8097_state() {
        let target = [0, 2, 0xfd, 0xf2, 0, 0, 0, 7];
        let forged = [0x43, 0, 0, 0, 0, 0, 0, 0];
        let ext = |values: &[&[u8; 8]]| {
            let v: Vec<u8> = values.iter().flat_map(|c| c.iter().copied()).collect();
            [&[0xc0, 16, v.len() as u8][..], &v].concat()
        };
        let got = scrub(&[&COMMUNITY[..], &ext(&[&forged, &target])].concat(), 64500);
        let kept = [&COMMUNITY[..], &ext(&[&target])].concat();
        assert_eq!(got.as_deref(), Some(&kept[..]), "the route target stays");
        let got = scrub(&[&ext(&[&forged]), &COMMUNITY[..]].concat(), 64500);
        assert_eq!(
            got.as_deref(),
            Some(&COMMUNITY[..]),
            "an emptied attribute is dropped"
        );
        assert_eq!(
            scrub(&ext(&[&target]), 64500),
            None,
            "nothing forged, nothing to do"
        );
    }

    #[test]
    fn nothing_to_add_leaves_the_attributes_as_received() {
        assert_eq!(add(&COMMUNITY, &[], None)[..], COMMUNITY[..]);
    }
}
