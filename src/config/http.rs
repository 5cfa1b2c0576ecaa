//! Who may use the HTTP API: `[server] http_token_file` and `http_names`.
//!
//! Where it sits: part of [`ServerConfig`]; `convert/http.rs` reads the token file and
//! checks the names, `http/guard.rs` enforces them on every request, and `check-config` and
//! the daemon's start print [`ServerConfig::http_warning`].

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use subtle::ConstantTimeEq;

use super::ServerConfig;

/// The HTTP API's access settings. Reads are always open; operator writes need the token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpAccess {
    /// The bearer token writes need (`http_token_file`); none: writes are off.
    pub token: Option<HttpToken>,
    /// Host names the API answers to besides its listen address and the loopback names
    /// (`http_names`), such as the name a reverse proxy forwards.
    pub names: Vec<HostName>,
}

/// The secret that operator writes carry as `Authorization: Bearer <token>`: compared in
/// constant time and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpToken {
    secret: String,
    /// The file it was read from (for messages).
    pub file: PathBuf,
}

impl HttpToken {
    /// The token read from `file`.
    pub fn new(secret: String, file: PathBuf) -> HttpToken {
        HttpToken { secret, file }
    }

    /// Whether `offered` is the token, in time that does not depend on where they differ.
    pub fn matches(&self, offered: &[u8]) -> bool {
        self.secret.as_bytes().ct_eq(offered).into()
    }
}

impl fmt::Debug for HttpToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HttpToken(from {})", self.file.display())
    }
}

/// One `http_names` entry: a DNS name or an IP address (IPv6 in brackets), with an
/// optional port; without one, any port matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostName {
    /// Lowercase, without a trailing dot or IPv6 brackets.
    pub host: String,
    /// The port the Host header must carry, if given.
    pub port: Option<u16>,
}

/// An `http_names` entry that is neither a host name nor an IP address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected a host name or IP address, optionally with :port, got {0:?}")]
pub struct HostNameError(String);

impl FromStr for HostName {
    type Err = HostNameError;

    /// Parses `name`, `name:port`, `192.0.2.1[:port]` or `[2001:db8::1][:port]`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || HostNameError(s.to_string());
        let (host, port) = match s.rsplit_once(':') {
            // A bare IPv6 address has colons but no brackets.
            Some((host, port)) if !host.contains(':') || host.ends_with(']') => {
                (host, Some(port.parse::<u16>().map_err(|_| bad())?))
            }
            _ => (s, None),
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
        let host = match literal {
            Some(v6) if v6.parse::<std::net::Ipv6Addr>().is_ok() => v6.to_string(),
            Some(_) => return Err(bad()),
            None if host.parse::<IpAddr>().is_ok() || is_dns_name(&host) => host,
            None => return Err(bad()),
        };
        Ok(HostName { host, port })
    }
}

/// Letters, digits and hyphens in dot-separated labels.
fn is_dns_name(s: &str) -> bool {
    let label = |l: &str| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    !s.is_empty() && s.split('.').all(label)
}

impl ServerConfig {
    /// A warning when the HTTP API listens beyond loopback without a token: its reads are
    /// open to everyone who reaches the port.
    pub fn http_warning(&self) -> Option<String> {
        let addr = self.http.filter(|a| !a.ip().is_loopback())?;
        if self.http_access.token.is_some() {
            return None;
        }
        Some(format!(
            "the HTTP API listens on {addr}, beyond loopback, without \
             [server] http_token_file: operator writes are off, and status, reports and \
             metrics are open to anyone who reaches it (firewall it, or put it behind a proxy)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_parse_with_and_without_port() {
        let cases = [
            ("rs.example.net", Some(("rs.example.net", None))),
            ("RS.Example.NET.", Some(("rs.example.net", None))),
            ("rs.example.net:443", Some(("rs.example.net", Some(443)))),
            ("192.0.2.1", Some(("192.0.2.1", None))),
            ("192.0.2.1:8080", Some(("192.0.2.1", Some(8080)))),
            ("2001:db8::1", Some(("2001:db8::1", None))),
            ("[2001:DB8::1]:8080", Some(("2001:db8::1", Some(8080)))),
            ("[2001:db8::1]", Some(("2001:db8::1", None))),
            ("", None),
            ("rs.example.net:http", None),
            ("rs.example.net:70000", None),
            ("rs example", None),
            ("a..b", None),
            ("[rs.example.net]", None),
            ("*.example.net", None),
        ];
        for (text, want) in cases {
            let got = text.parse::<HostName>().ok();
            let got = got.as_ref().map(|h| (h.host.as_str(), h.port));
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[test]
    fn token_matches_only_itself_and_never_prints() {
        let token = HttpToken::new("s3cret-s3cret-s3cret".into(), "/etc/token".into());
        assert!(token.matches(b"s3cret-s3cret-s3cret"));
        assert!(!token.matches(b"s3cret-s3cret-s3cre"));
        assert!(!token.matches(b"s3cret-s3cret-s3cret "));
        assert!(!token.matches(b""));
        assert_eq!(format!("{token:?}"), "HttpToken(from /etc/token)");
    }
}
