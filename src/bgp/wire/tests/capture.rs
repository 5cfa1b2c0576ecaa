//! A tiny packet-capture reader for the codec's tests: classic pcap and pcapng; Ethernet
//! (with VLAN tags), null, raw IP, C-HDLC, SLL and SLL2 links; IPv4, IPv6 and TCP with
//! per-direction reassembly by sequence number; BGP messages found by the framer.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;

use super::super::cursor::Cursor;
use super::*;

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
        while let Some((&s, _)) = self.pending.iter().find(|(&s, p)| {
            s.wrapping_sub(next) as i32 <= 0
                && s.wrapping_add(p.len() as u32).wrapping_sub(next) as i32 > 0
        }) {
            let p = self.pending.remove(&s).unwrap_or_default();
            let skip = next.wrapping_sub(s) as usize;
            self.data
                .extend_from_slice(p.get(skip..).unwrap_or_default());
            next = s.wrapping_add(p.len() as u32);
        }
        self.pending
            .retain(|&s, p| s.wrapping_add(p.len() as u32).wrapping_sub(next) as i32 > 0);
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
            let Some(body) = c.take(len.saturating_sub(8)) else {
                break;
            };
            let mut b = Cursor::new(body);
            match kind {
                1 => links.push(u32::from(
                    b.array::<2>().map(u16::from_le_bytes).unwrap_or(1),
                )),
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
    let port = |at: usize| {
        Some(u16::from_be_bytes([
            *segment.get(at)?,
            *segment.get(at + 1)?,
        ]))
    };
    let seq = u32::from_be_bytes(segment.get(4..8)?.try_into().ok()?);
    let offset = usize::from(segment.get(12)? >> 4) * 4;
    Some((
        (src, port(0)?),
        (dst, port(2)?),
        seq,
        segment.get(offset..)?,
    ))
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
        let Some((src, dst, seq, payload)) = ip_packet(link, frame).and_then(tcp) else {
            continue;
        };
        if !flows.contains_key(&(src, dst)) {
            order.push((src, dst));
        }
        flows.entry((src, dst)).or_default().segment(seq, payload);
    }
    let mut frames_of: HashMap<(Endpoint, Endpoint), Vec<Frame>> = HashMap::new();
    for (key, flow) in &flows {
        let start = flow
            .data
            .windows(16)
            .position(|w| w == [0xff; 16])
            .unwrap_or(flow.data.len());
        let mut framer = Framer::new();
        framer.set_max_len(MAX_LEN_EXTENDED);
        let mut buf = BytesMut::from(&flow.data[start..]);
        let frames = frames_of.entry(*key).or_default();
        while let Ok(Some(f)) = framer.decode(&mut buf) {
            frames.push(f);
        }
    }
    let opens = |k: &(Endpoint, Endpoint)| -> Vec<bool> {
        frames_of
            .get(k)
            .into_iter()
            .flatten()
            .filter(|f| f.kind == MessageType::Open)
            .map(|f| open_has_as4(&f.bytes))
            .collect()
    };
    let mut out = Vec::new();
    for key in order {
        let both: Vec<bool> = [opens(&key), opens(&(key.1, key.0))].concat();
        let as4 = if both.len() < 2 {
            as4
        } else {
            both.iter().all(|&x| x)
        };
        for f in frames_of
            .get(&key)
            .into_iter()
            .flatten()
            .filter(|f| f.kind == MessageType::Update)
        {
            out.push((
                Caps {
                    as4,
                    max_len: MAX_LEN_EXTENDED,
                    rov_ext_community: false,
                },
                f.bytes.clone(),
            ));
        }
    }
    out
}
