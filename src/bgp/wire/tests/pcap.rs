//! Real BGP messages from packet captures (`../shared/data/pcap`), checked against the
//! values tcpdump's expected decodes (`*.out`) show, and against netgauze for every UPDATE
//! of every capture. A tiny pcap / pcapng reader (Ethernet, null, raw, C-HDLC, SLL; IPv4,
//! IPv6, TCP) with per-flow reassembly finds the BGP streams.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::super::attr::*;
use super::super::cursor::Cursor;
use super::*;
use crate::route::{NextHop, Update};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/pcap");

type Endpoint = (IpAddr, u16);

/// One TCP direction's bytes, reassembled by sequence number.
#[derive(Default)]
struct Flow {
    next: Option<u32>,
    pending: BTreeMap<u32, Vec<u8>>,
    data: Vec<u8>,
}

impl Flow {
    fn segment(&mut self, seq: u32, payload: &[u8]) {
        if payload.is_empty() {
            return;
        }
        self.pending.insert(seq, payload.to_vec());
        let mut next = self.next.unwrap_or(seq);
        while let Some((&s, _)) = self.pending.iter().find(|(&s, p)| s.wrapping_sub(next) as i32 <= 0 && s.wrapping_add(p.len() as u32).wrapping_sub(next) as i32 > 0) {
            let p = self.pending.remove(&s).unwrap_or_default();
            let skip = next.wrapping_sub(s) as usize;
            self.data.extend_from_slice(p.get(skip..).unwrap_or_default());
            next = s.wrapping_add(p.len() as u32);
        }
        self.pending.retain(|&s, p| s.wrapping_add(p.len() as u32).wrapping_sub(next) as i32 > 0);
        self.next = Some(next);
    }
}

/// Link-layer packets of a classic pcap or pcapng file, with their link type.
fn packets(file: &[u8]) -> Vec<(u32, &[u8])> {
    let mut out = Vec::new();
    let mut c = Cursor::new(file);
    if file.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let mut links = Vec::new();
        while let (Some(kind), Some(len)) = (c.array::<4>(), c.array::<4>()) {
            let (kind, len) = (u32::from_le_bytes(kind), u32::from_le_bytes(len) as usize);
            let Some(body) = c.take(len.saturating_sub(8)) else { break };
            let mut b = Cursor::new(body);
            match kind {
                1 => links.push(u32::from(b.array::<2>().map(u16::from_le_bytes).unwrap_or(1))),
                6 => {
                    let iface = b.array::<4>().map(u32::from_le_bytes).unwrap_or(0) as usize;
                    b.take(8);
                    let caplen = b.array::<4>().map(u32::from_le_bytes).unwrap_or(0) as usize;
                    b.take(4);
                    if let Some(data) = b.take(caplen) {
                        out.push((links.get(iface).copied().unwrap_or(1), data));
                    }
                }
                _ => {}
            }
        }
        return out;
    }
    let Some(header) = c.take(24) else { return out };
    let link = u32::from_le_bytes(header[20..24].try_into().expect("4 bytes"));
    while let Some(rec) = c.take(16) {
        let caplen = u32::from_le_bytes(rec[8..12].try_into().expect("4 bytes")) as usize;
        let Some(data) = c.take(caplen) else { break };
        out.push((link, data));
    }
    out
}

/// The IP packet inside a link-layer frame.
fn ip_packet(link: u32, frame: &[u8]) -> Option<&[u8]> {
    match link {
        0 | 101 => frame.get(if link == 0 { 4 } else { 0 }..),
        104 => frame.get(4..),
        113 => frame.get(16..),
        276 => frame.get(20..),
        _ => {
            let mut at = 12;
            while matches!(frame.get(at..at + 2), Some([0x81, 0x00] | [0x88, 0xa8])) {
                at += 4;
            }
            frame.get(at + 2..)
        }
    }
}

/// Source, destination, sequence number and payload of a TCP segment.
fn tcp(ip: &[u8]) -> Option<(Endpoint, Endpoint, u32, &[u8])> {
    let (src, dst, segment): (IpAddr, IpAddr, &[u8]) = match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
            if *ip.get(9)? != 6 {
                return None;
            }
            let s: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            (s.into(), d.into(), ip.get(ihl..total.min(ip.len()))?)
        }
        6 => {
            let plen = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            if *ip.get(6)? != 6 {
                return None;
            }
            let s: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            (s.into(), d.into(), ip.get(40..(40 + plen).min(ip.len()))?)
        }
        _ => return None,
    };
    let port = |at: usize| Some(u16::from_be_bytes([*segment.get(at)?, *segment.get(at + 1)?]));
    let seq = u32::from_be_bytes(segment.get(4..8)?.try_into().ok()?);
    let offset = usize::from(segment.get(12)? >> 4) * 4;
    Some(((src, port(0)?), (dst, port(2)?), seq, segment.get(offset..)?))
}

/// Whether an OPEN advertises the 4-octet AS capability (65).
fn open_has_as4(open: &[u8]) -> bool {
    let mut c = Cursor::new(open.get(HEADER_LEN + 10..).unwrap_or_default());
    while let (Some(kind), Some(len)) = (c.u8(), c.u8()) {
        let mut caps = Cursor::new(c.take(usize::from(len)).unwrap_or_default());
        while let (Some(code), Some(len)) = (caps.u8(), caps.u8()) {
            caps.take(usize::from(len));
            if kind == 2 && code == 65 {
                return true;
            }
        }
    }
    false
}

/// Every UPDATE of a capture with the session's AS width (from both OPENs if the capture
/// has them, else `as4`), in capture order per direction.
pub(super) fn capture_updates(path: &Path, as4: bool) -> Vec<(Caps, Bytes)> {
    let file = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut flows: HashMap<(Endpoint, Endpoint), Flow> = HashMap::new();
    let mut order = Vec::new();
    for (link, frame) in packets(&file) {
        let Some((src, dst, seq, payload)) = ip_packet(link, frame).and_then(tcp) else { continue };
        if !flows.contains_key(&(src, dst)) {
            order.push((src, dst));
        }
        flows.entry((src, dst)).or_default().segment(seq, payload);
    }
    let mut frames_of: HashMap<(Endpoint, Endpoint), Vec<Frame>> = HashMap::new();
    for (key, flow) in &flows {
        let start = flow.data.windows(16).position(|w| w == [0xff; 16]).unwrap_or(flow.data.len());
        let mut framer = Framer::new();
        framer.set_max_len(MAX_LEN_EXTENDED);
        let mut buf = BytesMut::from(&flow.data[start..]);
        let frames = frames_of.entry(*key).or_default();
        while let Ok(Some(f)) = framer.decode(&mut buf) {
            frames.push(f);
        }
    }
    let opens = |k: &(Endpoint, Endpoint)| -> Vec<bool> {
        frames_of.get(k).into_iter().flatten().filter(|f| f.kind == MessageType::Open).map(|f| open_has_as4(&f.bytes)).collect()
    };
    let mut out = Vec::new();
    for key in order {
        let both: Vec<bool> = [opens(&key), opens(&(key.1, key.0))].concat();
        let as4 = if both.len() < 2 { as4 } else { both.iter().all(|&x| x) };
        for f in frames_of.get(&key).into_iter().flatten().filter(|f| f.kind == MessageType::Update) {
            out.push((Caps { as4, max_len: MAX_LEN_EXTENDED }, f.bytes.clone()));
        }
    }
    out
}

/// The decoded UPDATEs of a tcpdump test capture; `as4` for sessions whose OPENs are not
/// in the capture.
fn tcpdump(name: &str, as4: bool) -> Vec<(Caps, Update)> {
    capture_updates(&Path::new(DATA).join("tcpdump-tests").join(name), as4)
        .into_iter()
        .map(|(caps, m)| (caps, decode_update(&m, &caps).unwrap_or_else(|n| panic!("{name}: {n}"))))
        .collect()
}

fn path_string(u: &Update) -> String {
    u.announced[0].0.as_path.to_string()
}

#[test]
fn tcpdump_4byte_asn_sessions_decode_as_tcpdump_shows() {
    let updates = tcpdump("bgp-4byte-asn.pcap", true);
    let mut got: Vec<(bool, String, String)> = updates
        .iter()
        .filter(|(_, u)| !u.announced.is_empty())
        .map(|(caps, u)| (caps.as4, path_string(u), u.announced[0].0.next_hop.addr().to_string()))
        .collect();
    got.sort();
    // 2-octet sessions (as4 false) have AS4_PATH merged in: the paths tcpdump shows in
    // AS4 Path, with AS_PATH's leading ASNs where AS_PATH is longer.
    let mut want: Vec<(bool, String, String)> = [
        (false, "200 1 222222 333333 4294967290", "1.0.2.1"),
        (true, "2764334674 200 1 222222 333333 4294967290", "1.0.3.1"),
        (false, "2764334674 200 1 222222 333333 4294967290", "1.0.4.1"),
        (true, "1", "1.0.0.1"),
        (true, "2764334674 1", "1.0.3.1"),
        (false, "2764334674 1", "1.0.4.1"),
        (false, "2764334674 1", "1.0.2.2"),
    ]
    .map(|(a, p, n)| (a, p.to_string(), n.to_string()))
    .to_vec();
    want.sort();
    assert_eq!(got, want);
    let first = updates.iter().find(|(_, u)| !u.announced.is_empty()).map(|(_, u)| &u.announced[0]).expect("announced");
    assert_eq!(first.0.origin, 2, "Incomplete");
    assert_eq!(first.1, ["4.4.4.4/32", "5.5.5.5/32", "1.1.1.1/32", "2.2.2.2/32", "3.3.3.3/32"].map(net));
    let withdrawals = updates.iter().filter(|(_, u)| u.withdrawn.len() == 5).count();
    assert_eq!(withdrawals, 3, "three sessions withdraw their five routes");
}

#[test]
fn tcpdump_large_communities_pass_through_in_other() {
    let updates = tcpdump("bgp-large-community.pcap", true);
    let lc = |a: u32, b: u32, c: u32| [a.to_be_bytes(), b.to_be_bytes(), c.to_be_bytes()].concat();
    let want: [(&str, Vec<u8>); 5] = [
        ("203.0.113.16/32", [lc(65535, 1, 1), lc(u32::MAX, u32::MAX, u32::MAX)].concat()),
        ("203.0.113.12/32", [lc(65536, 1, 1), lc(65536, 1, 2)].concat()),
        ("203.0.113.11/32", lc(65536, 1, 1)),
        ("203.0.113.15/32", [lc(65536, 0, 1), lc(65536, 1, 0)].concat()),
        ("203.0.113.13/32", [lc(65536, 1, 1), lc(65536, 1, 2), lc(65536, 1, 3)].concat()),
    ];
    assert_eq!(updates.len(), want.len());
    for ((_, u), (prefix, value)) in updates.iter().zip(want) {
        let (a, p) = &u.announced[0];
        assert_eq!(p, &vec![net(prefix)]);
        assert_eq!(a.as_path.to_string(), "65536");
        assert_eq!(a.next_hop, NextHop::V4("192.0.2.2".parse().expect("addr")));
        let kept = RawAttrs::new(&a.other).find_map(|x| x.ok().filter(|x| x.code == LARGE_COMMUNITIES));
        assert_eq!(kept.map(|x| (x.flags, x.value.to_vec())), Some((OPTIONAL | TRANSITIVE, value)));
    }
}

#[test]
fn tcpdump_ipv6_link_local_next_hop() {
    let updates = tcpdump("mpbgp-linklocal-nexthop.pcap", false);
    let (a, p) = &updates[0].1.announced[0];
    assert_eq!(p, &vec![net("4:5::/64")]);
    let nh = NextHop::V6("dead:beef::1".parse().expect("addr"), Some("fe80::1ff:fe01:0".parse().expect("addr")));
    assert_eq!((a.next_hop, a.origin, a.as_path.to_string()), (nh, 2, "1".to_string()));
}

fn all_captures() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![PathBuf::from(DATA)];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("pcap dir").flatten() {
            let p = e.path();
            let name = p.to_string_lossy();
            if p.is_dir() {
                dirs.push(p);
            } else if name.ends_with("cap") || name.ends_with(".pcapng") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Every UPDATE in every capture decodes without panic; where netgauze (strict) also
/// reads it, both see the same unicast NLRI and withdrawals (or rovgate withdraws what
/// netgauze sees announced: treat-as-withdraw for errors netgauze does not check, such as
/// a missing NEXT_HOP). ADD-PATH captures are read without the capability by both, so
/// they are only checked for not panicking.
#[test]
fn every_captured_update_decodes_and_agrees_with_netgauze() {
    let (mut total, mut compared) = (0, 0);
    for file in all_captures() {
        let name = file.to_string_lossy().to_string();
        let add_path = name.contains("add-path") || name.contains("addpath");
        for (caps, m) in capture_updates(&file, true) {
            total += 1;
            let ours = decode_update(&m, &caps);
            let (Ok(u), Some(theirs), false) = (ours, super::roundtrip::netgauze_strict(&m, caps.as4), add_path) else {
                continue;
            };
            compared += 1;
            let sorted = |mut v: Vec<IpNet>| {
                v.sort();
                v
            };
            let ann = sorted(u.announced.iter().flat_map(|(_, v)| v.clone()).collect());
            let (their_ann, their_wd) = (sorted(theirs.announced), sorted(theirs.withdrawn));
            if ann.is_empty() && !their_ann.is_empty() {
                assert_eq!(sorted(u.withdrawn), sorted([their_wd, their_ann].concat()), "{name}: treat-as-withdraw");
            } else {
                assert_eq!((ann, sorted(u.withdrawn)), (their_ann, their_wd), "{name}");
            }
        }
    }
    assert!(total > 500, "captures hold hundreds of UPDATEs, found {total}");
    assert!(compared > 400, "most UPDATEs compared with netgauze, {compared} of {total}");
}
