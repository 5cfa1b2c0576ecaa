//! Config values read from strings: the [`Expected`] trait that says what a bad value should
//! have been, its impls for addresses and the config's choices, and the `host:port` check.
//!
//! Where it sits: inside `convert.rs`'s conversion; `Source::parse` and the child modules use
//! [`Expected`] for every value parsed with `FromStr`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use crate::config::{AddPath, ChoiceError, Role};
use crate::policy::{RovMode, UnknownMode};

/// A config value parsed from a string, and how to say what a bad one should have been.
pub(super) trait Expected: FromStr {
    fn expected(got: &str, e: Self::Err) -> String;
}

macro_rules! expected {
    ($($t:ty => $what:literal),* $(,)?) => {$(
        impl Expected for $t {
            fn expected(got: &str, _: Self::Err) -> String {
                format!(concat!("expected ", $what, ", got {:?}"), got)
            }
        }
    )*};
}

expected! {
    Ipv4Addr => "an IPv4 address",
    Ipv6Addr => "an IPv6 address",
    IpAddr => "an IP address",
    SocketAddr => "address:port (IPv6 as [address]:port)",
}

impl Expected for RovMode {
    fn expected(_: &str, e: UnknownMode) -> String {
        e.to_string()
    }
}

impl Expected for AddPath {
    fn expected(_: &str, e: ChoiceError) -> String {
        e.to_string()
    }
}

impl Expected for Role {
    fn expected(_: &str, e: ChoiceError) -> String {
        e.to_string()
    }
}

/// Checks `host:port` (IPv6 as `[addr]:port`); the host may be a name.
pub(super) fn check_host_port(s: &str) -> Result<(), String> {
    if s.parse::<SocketAddr>().is_ok() {
        return Ok(());
    }
    let bad = || format!("expected host:port (IPv6 as [address]:port), got {s:?}");
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    let name_ok = |label: &str| {
        !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let host_ok = !host.is_empty() && host.split('.').all(name_ok);
    match port.parse::<u16>() {
        Ok(p) if p != 0 && host_ok => Ok(()),
        _ => Err(bad()),
    }
}
