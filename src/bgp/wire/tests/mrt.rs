//! Real UPDATE streams from MRT files (`../shared/data/mrt`): every message decodes
//! without panic, and the announcements and withdrawals match bgpkit-parser's view of the
//! same file, route by route (peer, prefix, origin).

use std::fs::File;
use std::io::BufReader;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use bgpkit_parser::models::{AsPathSegment, ElemType};

use super::*;

fn mrt(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/mrt")
        .join(name)
}

/// The raw messages of a gzip MRT file.
pub(super) fn messages(path: &Path) -> impl Iterator<Item = Bgp4mpMessage> {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let gz = BufReader::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)));
    Bgp4mpMessages::new(gz).map_while(Result::ok)
}

type Route = (IpAddr, IpNet, Option<u32>);

#[derive(Default, Debug)]
struct Tally {
    updates: usize,
    errors: usize,
    announced: Vec<Route>,
    withdrawn: Vec<(IpAddr, IpNet)>,
    as0: usize,
}

fn ours(path: &Path) -> Tally {
    let mut t = Tally::default();
    for m in messages(path).filter(|m| m.bytes.get(18) == Some(&2)) {
        t.updates += 1;
        let caps = Caps {
            as4: m.as4,
            max_len: MAX_LEN_EXTENDED,
            rov_ext_community: false,
            extended_next_hop: false,
        };
        let Ok(u) = decode_update(&m.bytes, &caps) else {
            t.errors += 1;
            continue;
        };
        for (a, prefixes) in &u.announced {
            let origin = a.as_path.origin().map(|x| x.0);
            t.announced
                .extend(prefixes.iter().map(|p| (m.peer, *p, origin)));
        }
        t.withdrawn.extend(u.withdrawn.iter().map(|p| (m.peer, *p)));
    }
    t.announced.sort();
    t.withdrawn.sort();
    t
}

fn has_as0(e: &bgpkit_parser::models::BgpElem) -> bool {
    let segments = e.as_path.iter().flat_map(|p| &p.segments);
    segments.flat_map(|s| s.iter()).any(|&a| u32::from(a) == 0)
}

/// bgpkit-parser's view, with RFC 7607 applied (a path with AS 0 is a withdrawal).
fn bgpkit(path: &Path) -> Tally {
    let mut t = Tally::default();
    for e in crate::mrt::open(path).expect("open MRT").into_elem_iter() {
        match e.elem_type {
            ElemType::ANNOUNCE if has_as0(&e) => {
                // RFC 7607: rovgate treats a path with AS 0 as withdrawn.
                t.withdrawn.push((e.peer_ip, e.prefix.prefix));
                t.as0 += 1;
            }
            ElemType::ANNOUNCE => {
                let origin = match e.as_path.as_ref().and_then(|p| p.segments.last()) {
                    Some(AsPathSegment::AsSequence(v)) => v.last().map(|&a| u32::from(a)),
                    _ => None,
                };
                t.announced.push((e.peer_ip, e.prefix.prefix, origin));
            }
            ElemType::WITHDRAW => t.withdrawn.push((e.peer_ip, e.prefix.prefix)),
        }
    }
    t.announced.sort();
    t.withdrawn.sort();
    t
}

/// The 2019 RouteViews stream (MESSAGE_AS4), a 2002 stream (2-octet MESSAGE), an
/// extended-timestamp stream (4 routes with AS 0 in the path), and bgpdump's edge cases:
/// one UPDATE whose last NLRI prefix runs past the message is a session reset (3/10).
#[test]
fn mrt_update_streams_decode_like_bgpkit() {
    let files = [
        ("updates.20190101.0000.gz", 54_107, 159_948, 2_626, 0),
        ("updates.20020722.2238.gz", 393, 825, 2_419, 0),
        ("updates.et-header.2015.gz", 89_679, 577_733, 7, 0),
        ("updates.long_withdrawal.gz", 1, 0, 4_096, 0),
        ("updates.nlri_mask_trailing_bits.gz", 1, 0, 0, 1),
    ];
    for (name, updates, announced, withdrawn, errors) in files {
        let path = mrt(name);
        let a = ours(&path);
        eprintln!(
            "{name}: {} UPDATEs, {} announced, {} withdrawn",
            a.updates,
            a.announced.len(),
            a.withdrawn.len()
        );
        if updates > 0 {
            let counts = (a.updates, a.announced.len(), a.withdrawn.len(), a.errors);
            assert_eq!(
                counts,
                (updates, announced, withdrawn, errors),
                "{name}: (updates, announced, withdrawn, errors)"
            );
        }
        if errors == 0 {
            let b = bgpkit(&path);
            assert_eq!(
                a.announced, b.announced,
                "{name}: every (peer, prefix, origin) as bgpkit reads it"
            );
            assert_eq!(
                a.withdrawn, b.withdrawn,
                "{name}: withdrawals (with AS 0 paths: {})",
                b.as0
            );
        }
    }
}

#[test]
fn nlri_running_past_the_message_is_invalid_network_field() {
    let m = messages(&mrt("updates.nlri_mask_trailing_bits.gz"))
        .next()
        .expect("one message");
    let caps = Caps {
        as4: m.as4,
        max_len: MAX_LEN,
        rov_ext_community: false,
        extended_next_hop: false,
    };
    assert_eq!(
        decode_update(&m.bytes, &caps)
            .map_err(|n| (n.code, n.subcode))
            .err(),
        Some((3, 10))
    );
}
