//! Session security on the socket: TCP-MD5 signatures (RFC 2385) and GTSM (RFC 5082).
//!
//! Where it sits: the daemon gives each BGP listener the keys of the peers that have a
//! password (a listener answers a SYN only when the segment is signed with the key of its
//! source); a session secures its outgoing socket before connecting and an accepted one
//! before reading from it.
//!
//! This is the crate's one module with `unsafe`. Neither the standard library, tokio nor
//! socket2 sets `TCP_MD5SIG` or the minimum received TTL, so [`setsockopt`] calls
//! `setsockopt(2)` itself: with a pointer to a value that lives through the call and that
//! value's exact size, which the kernel copies and does not keep. Linux only, as the
//! options are.
#![allow(unsafe_code)]

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};

use socket2::{SockAddr, SockAddrStorage, SockRef};

/// Longest TCP-MD5 key Linux takes (`TCP_MD5SIG_MAXKEYLEN`).
pub const MD5_KEY_MAX: usize = 80;
/// The TTL (hop limit) GTSM sends with, and the least it accepts from a directly
/// connected peer (RFC 5082 §3 with a one-hop trust radius).
const GTSM_TTL: u32 = 255;

/// A peer's TCP-MD5 key; never shown in logs or status.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// The key, checked for the kernel's length limit.
    pub fn new(key: String) -> Result<Password, String> {
        match key.len() {
            1..=MD5_KEY_MAX => Ok(Password(key)),
            n => Err(format!("expected 1 to {MD5_KEY_MAX} bytes, found {n}")),
        }
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

/// What protects one peer's session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Security {
    /// TCP-MD5 key (`password`).
    pub password: Option<Password>,
    /// GTSM (`ttl_security`): send with TTL 255, take only segments that arrive with 255.
    pub ttl_security: bool,
}

impl Security {
    /// Gives a listener the key of `peer`, so that it answers `peer`'s signed SYNs.
    pub fn listen(&self, listener: &impl AsFd, peer: IpAddr) -> io::Result<()> {
        match &self.password {
            Some(password) => key_listener(listener, peer, password.0.as_bytes()),
            None => Ok(()),
        }
    }

    /// Takes `peer`'s key away from a listener (the peer was removed, or its key changed).
    pub fn unlisten(&self, listener: &impl AsFd, peer: IpAddr) -> io::Result<()> {
        match &self.password {
            Some(_) => key_listener(listener, peer, b""),
            None => Ok(()),
        }
    }

    /// Secures a socket to `peer` before it connects, or one just accepted from it.
    pub fn apply(&self, socket: &impl AsFd, peer: IpAddr) -> io::Result<()> {
        if let Some(password) = &self.password {
            set_md5_key(socket, peer, password.0.as_bytes())?;
        }
        if self.ttl_security {
            set_gtsm(socket)?;
        }
        Ok(())
    }
}

/// Sets (an empty key: removes) `peer`'s key on a listener; an IPv4 listener takes no
/// IPv6 peer's key, and needs none.
fn key_listener(listener: &impl AsFd, peer: IpAddr, key: &[u8]) -> io::Result<()> {
    match SockRef::from(listener).local_addr()?.is_ipv4() && peer.is_ipv6() {
        true => Ok(()),
        false => set_md5_key(listener, peer, key),
    }
}

/// The kernel's `struct tcp_md5sig` (linux/tcp.h); socket2's storage is a transparent
/// `sockaddr_storage`.
#[repr(C)]
struct TcpMd5Sig {
    addr: SockAddrStorage,
    flags: u8,
    prefix_len: u8,
    key_len: u16,
    ifindex: libc::c_int,
    key: [u8; MD5_KEY_MAX],
}

/// Signs segments to and from `peer` on `socket` with `key` (an empty key removes it): a
/// listener (for the connections it accepts from `peer`) or a socket about to connect.
pub fn set_md5_key(socket: &impl AsFd, peer: IpAddr, key: &[u8]) -> io::Result<()> {
    let sock = SockRef::from(socket);
    // On an IPv6 socket, an IPv4 peer arrives IPv4-mapped.
    let peer = match (peer, sock.local_addr()?.is_ipv6()) {
        (IpAddr::V4(v4), true) => IpAddr::V6(v4.to_ipv6_mapped()),
        (peer, _) => peer,
    };
    let mut sig = TcpMd5Sig {
        addr: SockAddr::from(SocketAddr::new(peer, 0)).as_storage(),
        flags: 0,
        prefix_len: 0,
        key_len: key.len() as u16,
        ifindex: 0,
        key: [0; MD5_KEY_MAX],
    };
    let room = sig.key.get_mut(..key.len()).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "TCP-MD5 key longer than 80 bytes",
        )
    })?;
    room.copy_from_slice(key);
    setsockopt(socket, libc::IPPROTO_TCP, libc::TCP_MD5SIG, &sig)
}

/// Sends with TTL 255 and drops segments that arrive with less (GTSM, one hop).
pub fn set_gtsm(socket: &impl AsFd) -> io::Result<()> {
    let sock = SockRef::from(socket);
    let min = GTSM_TTL as libc::c_int;
    match sock.local_addr()?.is_ipv6() {
        false => {
            sock.set_ttl_v4(GTSM_TTL)?;
            setsockopt(socket, libc::IPPROTO_IP, libc::IP_MINTTL, &min)
        }
        true => {
            sock.set_unicast_hops_v6(GTSM_TTL)?;
            setsockopt(socket, libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT, &min)
        }
    }
}

/// `setsockopt(2)` with `value`, passed by pointer and size.
fn setsockopt<T>(socket: &impl AsFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    let fd = socket.as_fd().as_raw_fd();
    let len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `fd` is open for as long as `socket` is borrowed; `value` points to a live,
    // initialised `T` of `len` bytes, which the kernel only reads during the call.
    let rc = unsafe { libc::setsockopt(fd, level, name, (value as *const T).cast(), len) };
    match rc {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_int(socket: &impl AsFd, level: i32, name: i32) -> i32 {
        let (mut value, mut len) = (0 as libc::c_int, 4 as libc::socklen_t);
        let fd = socket.as_fd().as_raw_fd();
        // SAFETY: as in `setsockopt`, with `value` and `len` written by the kernel.
        let rc =
            unsafe { libc::getsockopt(fd, level, name, (&mut value as *mut i32).cast(), &mut len) };
        assert_eq!(rc, 0, "{}", io::Error::last_os_error());
        value
    }

    #[tokio::test]
    async fn gtsm_sets_both_ttls_on_either_family() {
        let v4 = tokio::net::TcpSocket::new_v4().unwrap();
        set_gtsm(&v4).unwrap();
        assert_eq!(SockRef::from(&v4).ttl_v4().unwrap(), 255);
        assert_eq!(read_int(&v4, libc::IPPROTO_IP, libc::IP_MINTTL), 255);
        let v6 = tokio::net::TcpSocket::new_v6().unwrap();
        set_gtsm(&v6).unwrap();
        assert_eq!(SockRef::from(&v6).unicast_hops_v6().unwrap(), 255);
        assert_eq!(
            read_int(&v6, libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT),
            255
        );
    }

    #[tokio::test]
    async fn md5_keys_are_taken_for_either_family_and_removed() {
        let listener = tokio::net::TcpListener::bind("[::1]:0").await.unwrap();
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        set_md5_key(&listener, v4, b"secret").unwrap();
        set_md5_key(&listener, "2001:db8::1".parse().unwrap(), &[b'k'; 80]).unwrap();
        set_md5_key(&listener, v4, b"").unwrap();
        let keyed = Security {
            password: Some(Password::new("k".into()).unwrap()),
            ttl_security: false,
        };
        keyed.listen(&listener, v4).unwrap();
        keyed.unlisten(&listener, v4).unwrap();
        assert!(keyed.unlisten(&listener, v4).is_err(), "the key is gone");
        let v4_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        keyed
            .listen(&v4_listener, "2001:db8::1".parse().unwrap())
            .unwrap();
        let err = set_md5_key(&listener, v4, &[b'k'; 81]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(Password::new(String::new()).is_err() && Password::new("x".repeat(81)).is_err());
        assert_eq!(
            format!("{:?}", Password::new("s3cr3t".into())),
            "Ok(Password(..))"
        );
    }
}
