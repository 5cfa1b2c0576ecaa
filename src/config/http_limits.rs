//! The `[http]` table: limits of the HTTP server, so that idle or slow clients cannot use
//! up rovgate's file descriptors (which BGP sessions need too).
//!
//! Where it sits: parsed with the rest of the file by `convert.rs`; `daemon.rs` hands the
//! [`HttpConfig`] to `http::serve`. Where the server listens stays `server.http`.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::convert::Source;
use super::ConfigError;

/// The `[http]` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpConfig {
    /// At most this many HTTP connections are open at once; at the limit, new connections
    /// wait in the kernel's queue until one closes (key `max_connections`, default 64).
    pub max_connections: usize,
    /// A connection that sends no complete request header for this long, counted from when
    /// it connects or its last answer was sent, is closed: the header-read and the idle
    /// keep-alive timeout alike (key `header_timeout_seconds`, default 10).
    pub header_timeout: Duration,
}

impl Default for HttpConfig {
    /// 64 connections (an operator's browser, a few scripts and a Prometheus leave plenty
    /// spare), 10 s to send a request.
    fn default() -> Self {
        HttpConfig {
            max_connections: 64,
            header_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHttp {
    max_connections: Option<Spanned<usize>>,
    header_timeout_seconds: Option<Spanned<u64>>,
}

impl Source<'_> {
    /// The `[http]` table; absent keys take [`HttpConfig::default`]'s values.
    pub(super) fn http(&self, raw: &RawHttp) -> Result<HttpConfig, ConfigError> {
        let default = HttpConfig::default();
        let max = raw.max_connections.as_ref();
        if let Some(m) = max.filter(|m| *m.get_ref() == 0) {
            return Err(self.at(m, "http.max_connections", "expected at least 1"));
        }
        let timeout = raw.header_timeout_seconds.as_ref();
        if let Some(t) = timeout.filter(|t| *t.get_ref() == 0) {
            let key = "http.header_timeout_seconds";
            return Err(self.at(t, key, "expected at least 1 second"));
        }
        Ok(HttpConfig {
            max_connections: max.map_or(default.max_connections, |m| *m.get_ref()),
            header_timeout: timeout.map_or(default.header_timeout, |t| {
                Duration::from_secs(*t.get_ref())
            }),
        })
    }
}
