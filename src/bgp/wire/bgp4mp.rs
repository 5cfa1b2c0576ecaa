//! Raw BGP messages from MRT update files (RFC 6396 §4.4: BGP4MP and BGP4MP_ET records,
//! MESSAGE and MESSAGE_AS4 subtypes), as the peer sent them.
//!
//! Where it sits: beside the sessions, for replaying real update streams and for the
//! codec's tests and benchmark (`crate::mrt` reads the same files as routes through
//! bgpkit-parser, which does not keep the wire bytes).

use std::io::{self, Read};
use std::net::IpAddr;

use bytes::Bytes;

use super::cursor::Cursor;

const BGP4MP: u16 = 16;
const BGP4MP_ET: u16 = 17;
const MESSAGE: u16 = 1;
const MESSAGE_AS4: u16 = 4;
const MESSAGE_LOCAL: u16 = 6;
const MESSAGE_AS4_LOCAL: u16 = 7;

/// One BGP message recorded in an MRT file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bgp4mpMessage {
    /// The session used 4-octet AS numbers (MESSAGE_AS4 subtypes).
    pub as4: bool,
    /// The peer's AS.
    pub peer_asn: u32,
    /// The peer's address.
    pub peer: IpAddr,
    /// The whole BGP message, header included.
    pub bytes: Bytes,
}

/// Iterates over the BGP messages of an (already decompressed) MRT stream, skipping other
/// records (state changes, table dumps, ADD-PATH subtypes). A record cut short or
/// malformed ends the iteration with one error.
pub struct Bgp4mpMessages<R> {
    reader: R,
    done: bool,
}

impl<R: Read> Bgp4mpMessages<R> {
    /// Reads messages from `reader`.
    pub fn new(reader: R) -> Self {
        Bgp4mpMessages {
            reader,
            done: false,
        }
    }

    /// The next record's type, subtype and body; `None` at a clean end of stream.
    fn record(&mut self) -> io::Result<Option<(u16, u16, Bytes)>> {
        let mut header = [0u8; 12];
        match self.reader.read_exact(&mut header) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            r => r?,
        }
        let mut c = Cursor::new(&header);
        let (_time, kind, subtype, len) = (c.u32(), c.u16(), c.u16(), c.u32());
        let (kind, subtype) = (kind.unwrap_or(0), subtype.unwrap_or(0));
        let len = usize::try_from(len.unwrap_or(0)).map_err(|_| bad("record length"))?;
        let mut body = vec![0u8; len];
        self.reader.read_exact(&mut body)?;
        Ok(Some((kind, subtype, Bytes::from(body))))
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed MRT BGP4MP record: {what}"),
    )
}

/// The message inside a BGP4MP MESSAGE* record body (after the ET microseconds).
fn message(body: &Bytes, as4: bool) -> io::Result<Bgp4mpMessage> {
    let mut c = Cursor::new(body);
    let peer_asn = if as4 { c.u32() } else { c.u16().map(u32::from) };
    let _local_asn = if as4 { c.u32() } else { c.u16().map(u32::from) };
    let (_ifindex, afi) = (c.u16(), c.u16());
    let peer: Option<IpAddr> = match afi {
        Some(1) => c.array::<4>().map(IpAddr::from),
        Some(2) => c.array::<16>().map(IpAddr::from),
        _ => return Err(bad("address family")),
    };
    let local = c.take(if afi == Some(1) { 4 } else { 16 });
    let (Some(peer_asn), Some(peer), Some(_)) = (peer_asn, peer, local) else {
        return Err(bad("record too short"));
    };
    let bytes = body.slice(body.len() - c.rest().len()..);
    Ok(Bgp4mpMessage {
        as4,
        peer_asn,
        peer,
        bytes,
    })
}

impl<R: Read> Iterator for Bgp4mpMessages<R> {
    type Item = io::Result<Bgp4mpMessage>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let (kind, subtype, body) = match self.record() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            let as4 = match subtype {
                MESSAGE | MESSAGE_LOCAL => false,
                MESSAGE_AS4 | MESSAGE_AS4_LOCAL => true,
                _ => continue,
            };
            let body = match kind {
                BGP4MP => body,
                BGP4MP_ET if body.len() >= 4 => body.slice(4..),
                _ => continue,
            };
            let m = message(&body, as4);
            self.done = m.is_err();
            return Some(m);
        }
        self.done = true;
        None
    }
}
