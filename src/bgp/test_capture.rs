//! Test support: BGP messages out of the real packet captures in `../shared/data/pcap`.
//!
//! Where it sits: only in tests (`#[cfg(test)]` in `bgp/mod.rs`), the one capture reader of
//! the OPEN tests (`open_capture_tests.rs`) and the codec's (`wire/tests/capture.rs`). Reads
//! classic pcap and pcapng; Ethernet (with VLAN tags), BSD loopback, raw IP, Cisco HDLC and
//! Linux cooked links; IPv4 and IPv6; reassembles each TCP direction by sequence number
//! (segments out of order wait for the gap to fill, retransmissions are dropped, a gap that
//! never fills is skipped) and splits the stream at BGP markers.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// One end of a TCP connection.
pub type Endpoint = (IpAddr, u16);
/// One direction of a TCP connection: (source, destination).
pub type Direction = (Endpoint, Endpoint);

/// The shared captures directory.
pub fn pcap_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/pcap")
}

/// Every capture file under `dir`, recursively, sorted.
pub fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)
        .expect("captures directory")
        .flatten()
    {
        let path = entry.path();
        let name = path.to_string_lossy().to_string();
        if path.is_dir() {
            out.extend(captures(&path));
        } else if [".pcap", ".pcapng", ".cap"]
            .iter()
            .any(|e| name.ends_with(e))
        {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The BGP messages (header included) in a capture, in the order they complete.
pub fn bgp_messages(path: &Path) -> Vec<Vec<u8>> {
    let messages = bgp_messages_by_direction(path);
    messages.into_iter().map(|(_, m)| m).collect()
}

/// The BGP messages (header included) in a capture with the direction each was sent in, in
/// the order they complete.
pub fn bgp_messages_by_direction(path: &Path) -> Vec<(Direction, Vec<u8>)> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut streams: HashMap<Direction, Stream> = HashMap::new();
    let mut order = Vec::new();
    let mut out = Vec::new();
    for (link, frame) in packets(&data) {
        let Some((direction, seq, payload)) = link_payload(link, frame).and_then(ip_tcp) else {
            continue;
        };
        let stream = streams.entry(direction).or_insert_with(|| {
            order.push(direction);
            Stream::default()
        });
        for m in stream.push(seq, payload) {
            out.push((direction, m));
        }
    }
    for direction in order {
        let stream = streams.get_mut(&direction).expect("a stream of the order");
        out.extend(stream.finish().into_iter().map(|m| (direction, m)));
    }
    out
}

/// One TCP direction: the next expected sequence number, segments waiting for a gap before
/// them to fill, and bytes not yet split into messages.
#[derive(Default)]
struct Stream {
    next: Option<u32>,
    waiting: BTreeMap<u32, Vec<u8>>,
    buf: Vec<u8>,
}

impl Stream {
    /// Takes a segment; returns the messages it completes.
    fn push(&mut self, seq: u32, payload: &[u8]) -> Vec<Vec<u8>> {
        if payload.is_empty() {
            return Vec::new(); // a SYN, a bare ACK: the data starts with the first payload
        }
        self.waiting.insert(seq, payload.to_vec());
        let next = *self.next.get_or_insert(seq);
        self.next = Some(self.take_in_order(next));
        self.split()
    }

    /// Appends the waiting segments that continue the stream at `next`; drops those wholly
    /// before it (retransmissions); returns the new `next`.
    fn take_in_order(&mut self, mut next: u32) -> u32 {
        while let Some((&seq, _)) = self.waiting.first_key_value() {
            let segment = self.waiting.remove(&seq).unwrap_or_default();
            let end = seq.wrapping_add(segment.len() as u32);
            if (seq.wrapping_sub(next) as i32) > 0 {
                self.waiting.insert(seq, segment); // a gap before it
                break;
            }
            if (end.wrapping_sub(next) as i32) > 0 {
                let skip = next.wrapping_sub(seq) as usize;
                self.buf.extend_from_slice(&segment[skip..]);
                next = end;
            }
        }
        next
    }

    /// At the end of the capture: skips each gap that never filled (resynchronising on the
    /// next marker) and returns the messages after it.
    fn finish(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some((&seq, _)) = self.waiting.first_key_value() {
            self.buf.clear();
            self.next = Some(self.take_in_order(seq));
            out.extend(self.split());
        }
        out
    }

    /// Splits whole messages off the front of the buffer, from the first marker on.
    fn split(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(start) = (self.buf.windows(16)).position(|w| w.iter().all(|&b| b == 0xff)) {
            let Some(len) = self.buf.get(start + 16..start + 18) else {
                break;
            };
            let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
            if len < 19 || self.buf.len() < start + len {
                break;
            }
            out.push(self.buf[start..start + len].to_vec());
            self.buf.drain(..start + len);
        }
        out
    }
}

fn u16_at(d: &[u8], at: usize, le: bool) -> Option<u16> {
    let b = d.get(at..at + 2)?;
    Some(if le {
        u16::from_le_bytes([b[0], b[1]])
    } else {
        u16::from_be_bytes([b[0], b[1]])
    })
}

fn u32_at(d: &[u8], at: usize, le: bool) -> Option<u32> {
    let b: [u8; 4] = d.get(at..at + 4)?.try_into().ok()?;
    Some(if le {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    })
}

/// (link type, frame) for each packet of a pcap or pcapng file.
fn packets(d: &[u8]) -> Vec<(u32, &[u8])> {
    let mut out = Vec::new();
    match u32_at(d, 0, true) {
        Some(0xa1b2_c3d4 | 0xa1b2_3c4d) => classic(d, true, &mut out),
        Some(0xd4c3_b2a1 | 0x4d3c_b2a1) => classic(d, false, &mut out),
        Some(0x0a0d_0d0a) => pcapng(d, &mut out),
        _ => {}
    }
    out
}

fn classic<'a>(d: &'a [u8], le: bool, out: &mut Vec<(u32, &'a [u8])>) {
    let link = u32_at(d, 20, le).unwrap_or(0);
    let mut at = 24;
    while let Some(caplen) = u32_at(d, at + 8, le) {
        let Some(frame) = d.get(at + 16..at + 16 + caplen as usize) else {
            break;
        };
        out.push((link, frame));
        at += 16 + caplen as usize;
    }
}

fn pcapng<'a>(d: &'a [u8], out: &mut Vec<(u32, &'a [u8])>) {
    let le = u32_at(d, 8, true) == Some(0x1a2b_3c4d);
    let (mut at, mut links) = (0, Vec::new());
    while let (Some(kind), Some(len)) = (u32_at(d, at, le), u32_at(d, at + 4, le)) {
        let Some(body) = d.get(at + 8..at + len as usize) else {
            break;
        };
        match kind {
            1 => links.push(u32::from(u16_at(body, 0, le).unwrap_or(0))),
            2 | 6 => {
                let iface = if kind == 6 {
                    u32_at(body, 0, le)
                } else {
                    u16_at(body, 0, le).map(u32::from)
                };
                let link = iface
                    .and_then(|i| links.get(i as usize).copied())
                    .unwrap_or(1);
                let caplen = u32_at(body, 12, le).unwrap_or(0) as usize;
                if let Some(frame) = body.get(20..20 + caplen) {
                    out.push((link, frame));
                }
            }
            _ => {}
        }
        at += len.max(12) as usize;
    }
}

/// The IP packet inside a link-layer frame.
fn link_payload(link: u32, f: &[u8]) -> Option<&[u8]> {
    match link {
        0 => f.get(4..), // BSD loopback
        1 => {
            let mut at = 12;
            while matches!(u16_at(f, at, false)?, 0x8100 | 0x88a8) {
                at += 4; // VLAN tags
            }
            f.get(at + 2..)
        }
        101 | 12 | 14 => Some(f), // raw IP
        104 => f.get(4..),        // Cisco HDLC
        113 => f.get(16..),       // Linux cooked
        276 => f.get(20..),       // Linux cooked v2
        _ => None,
    }
}

/// (direction, sequence number, payload) of a TCP segment in an IPv4 or IPv6 packet.
fn ip_tcp(ip: &[u8]) -> Option<(Direction, u32, &[u8])> {
    let (src, dst, tcp): (IpAddr, IpAddr, &[u8]) = match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(u16_at(ip, 2, false)?);
            (*ip.get(9)? == 6).then_some(())?;
            let s: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            (s.into(), d.into(), ip.get(ihl..total.min(ip.len()))?)
        }
        6 => {
            let total = 40 + usize::from(u16_at(ip, 4, false)?);
            (*ip.get(6)? == 6).then_some(())?;
            let s: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            (s.into(), d.into(), ip.get(40..total.min(ip.len()))?)
        }
        _ => return None,
    };
    let offset = usize::from(tcp.get(12)? >> 4) * 4;
    let direction = ((src, u16_at(tcp, 0, false)?), (dst, u16_at(tcp, 2, false)?));
    Some((direction, u32_at(tcp, 4, false)?, tcp.get(offset..)?))
}
