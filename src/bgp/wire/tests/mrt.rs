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
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mrt").join(name)
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
}

fn ours(path: &Path) -> Tally {
    let mut t = Tally::default();
    for m in messages(path).filter(|m| m.bytes.get(18) == Some(&2)) {
        t.updates += 1;
        let caps = Caps { as4: m.as4, max_len: MAX_LEN_EXTENDED };
        let Ok(u) = decode_update(&m.bytes, &caps) else {
            t.errors += 1;
            continue;
        };
        for (a, prefixes) in &u.announced {
            let origin = a.as_path.origin().map(|x| x.0);
            t.announced.extend(prefixes.iter().map(|p| (m.peer, *p, origin)));
        }
        t.withdrawn.extend(u.withdrawn.iter().map(|p| (m.peer, *p)));
    }
    t.announced.sort();
    t.withdrawn.sort();
    t
}

fn bgpkit(path: &Path) -> Tally {
    let mut t = Tally::default();
    for e in crate::mrt::open(path).expect("open MRT").into_elem_iter() {
        match e.elem_type {
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
/// extended-timestamp stream, and bgpdump's edge cases.
#[test]
fn mrt_update_streams_decode_like_bgpkit() {
    let files = [
        ("updates.20190101.0000.gz", 159_948),
        ("updates.20020722.2238.gz", 0),
        ("updates.et-header.2015.gz", 0),
        ("updates.nlri_mask_trailing_bits.gz", 0),
        ("updates.long_withdrawal.gz", 0),
    ];
    for (name, announced) in files {
        let path = mrt(name);
        let (a, b) = (ours(&path), bgpkit(&path));
        assert!(a.updates > 0, "{name}: has UPDATEs");
        assert_eq!(a.errors, 0, "{name}: no session-reset errors in real streams");
        if announced > 0 {
            assert_eq!(a.announced.len(), announced, "{name}: the README's count");
        }
        if a.announced.len() != b.announced.len() {
            let mut only_b = b.announced.clone();
            for x in &a.announced { if let Ok(i) = only_b.binary_search(x) { only_b.remove(i); } }
            let mut only_a = a.announced.clone();
            for x in &b.announced { if let Ok(i) = only_a.binary_search(x) { only_a.remove(i); } }
            eprintln!("DEBUG only bgpkit {:?}\nonly ours {:?}", &only_b[..only_b.len().min(20)], &only_a[..only_a.len().min(20)]);
            eprintln!("DEBUG withdrawn ours {} bgpkit {}", a.withdrawn.len(), b.withdrawn.len());
        }
        assert_eq!(a.announced.len(), b.announced.len(), "{name}: announcements");
        let diff = a.announced.iter().zip(&b.announced).filter(|(x, y)| x != y).count();
        assert_eq!(diff, 0, "{name}: every (peer, prefix, origin) as bgpkit reads it");
        assert_eq!(a.withdrawn, b.withdrawn, "{name}: withdrawals");
    }
}
