//! `RawPeer`: a minimal BGP speaker over a raw socket, for what no real BGP speaker does on
//! purpose: send deliberately broken UPDATEs (`MalformedUpdatePeer` in
//! `tests/bgp_malformed.rs`), or stop reading while it keeps sending KEEPALIVEs, its TCP
//! window shut (`tests/export.rs`, a member whose router's control plane is stuck).
//! [`connect_from`] is its TCP connect from a chosen loopback address, also for a stranger
//! that only knocks (`tests/refused.rs`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A BGP connection from a fixed loopback address, past OPEN.
pub struct RawPeer {
    /// The connection.
    pub stream: TcpStream,
}

/// A BGP message of `kind` with `body`.
pub fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    m.push(kind);
    m.extend_from_slice(body);
    m
}

/// A TCP connection from `from` (an IPv4 loopback address, any port) to `to`, reads timing
/// out after 15 s. With `recv_buffer`, the socket's receive buffer is that small (set before
/// connecting, so the TCP window stays that small).
pub fn connect_from(from: &str, to: SocketAddr, recv_buffer: Option<usize>) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    let from: SocketAddr = format!("{from}:0").parse().unwrap();
    socket.bind(&from.into()).unwrap();
    socket.connect(&to.into()).unwrap();
    let stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    stream
}

impl RawPeer {
    /// Connects from `from` (a loopback address) to `to` as AS `asn` (a 2-octet AS) and
    /// sends OPEN (hold 90, multiprotocol IPv4 unicast, 4-octet AS) and KEEPALIVE. With
    /// `recv_buffer`, the receive buffer is that small ([`connect_from`]).
    pub fn connect(from: &str, asn: u16, to: SocketAddr, recv_buffer: Option<usize>) -> Self {
        let mut stream = connect_from(from, to, recv_buffer);
        let [a, b] = asn.to_be_bytes();
        let id = from.parse::<std::net::Ipv4Addr>().unwrap().octets();
        let caps = [2, 12, 1, 4, 0, 1, 0, 1, 65, 4, 0, 0, a, b];
        let mut open = vec![4, a, b, 0, 90, id[0], id[1], id[2], id[3], caps.len() as u8];
        open.extend_from_slice(&caps);
        stream.write_all(&message(1, &open)).unwrap();
        stream.write_all(&message(4, &[])).unwrap();
        RawPeer { stream }
    }

    /// Sends a message of `kind` with `body`.
    pub fn send(&mut self, kind: u8, body: &[u8]) {
        self.stream.write_all(&message(kind, body)).unwrap();
    }

    /// Reads messages until a NOTIFICATION arrives or the connection closes; returns its
    /// (code, subcode), if any.
    pub fn notification(&mut self) -> Option<(u8, u8)> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            while buf.len() >= 19 {
                let len = u16::from_be_bytes([buf[16], buf[17]]) as usize;
                if buf.len() < len {
                    break;
                }
                if buf[18] == 3 {
                    return Some((buf[19], buf[20]));
                }
                buf.drain(..len);
            }
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}
