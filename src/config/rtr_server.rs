//! The `[[rtr_server]]` tables: where rovgate serves its VRP set to routers over RTR.
//!
//! Where it sits: parsed with the rest of the file by `convert.rs`; `daemon.rs` binds each
//! `listen` and hands the configs to `rpki::server::spawn`.

use ipnet::IpNet;
use serde::Deserialize;
use toml::Spanned;

use super::convert::Source;
use super::ConfigError;
use crate::rpki::server::RtrServerConfig;

/// RFC 8210 §6's defaults for refresh, retry and expire.
const DEFAULT_TIMING: (u32, u32, u32) = (3600, 600, 7200);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRtrServer {
    listen: Spanned<String>,
    refresh: Option<Spanned<u32>>,
    retry: Option<Spanned<u32>>,
    expire: Option<Spanned<u32>>,
    #[serde(default)]
    allow: Vec<Spanned<String>>,
}

impl Source<'_> {
    /// The `[[rtr_server]]` tables, with RFC 8210's ranges for the timers (refresh 1 to
    /// 86400, retry 1 to 7200, expire 600 to 172800 and above both).
    pub(super) fn rtr_servers(
        &self,
        raw: &[RawRtrServer],
    ) -> Result<Vec<RtrServerConfig>, ConfigError> {
        raw.iter()
            .enumerate()
            .map(|(i, r)| self.rtr_server(i, r))
            .collect()
    }

    fn rtr_server(&self, i: usize, raw: &RawRtrServer) -> Result<RtrServerConfig, ConfigError> {
        let key = |k: &str| format!("rtr_server[{i}].{k}");
        let timer = |value: &Option<Spanned<u32>>, name: &str, default: u32, range: (u32, u32)| {
            let Some(v) = value else { return Ok(default) };
            let n = *v.get_ref();
            if n < range.0 || n > range.1 {
                let message = format!("expected {} to {} seconds", range.0, range.1);
                return Err(self.at(v, key(name), message));
            }
            Ok(n)
        };
        let (refresh, retry, expire) = DEFAULT_TIMING;
        let refresh = timer(&raw.refresh, "refresh", refresh, (1, 86400))?;
        let retry = timer(&raw.retry, "retry", retry, (1, 7200))?;
        let expire = timer(&raw.expire, "expire", expire, (600, 172800))?;
        if expire <= refresh.max(retry) {
            let at = raw
                .expire
                .as_ref()
                .or(raw.refresh.as_ref())
                .or(raw.retry.as_ref());
            let message = "expected expire above refresh and retry (RFC 8210 §6)";
            return Err(match at {
                Some(v) => self.at(v, key("expire"), message),
                None => self.at(&raw.listen, key("expire"), message),
            });
        }
        let allow = raw.allow.iter().enumerate().map(|(j, a)| {
            let text = a.get_ref();
            // A bare address allows just that address.
            let net = text
                .parse::<IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from));
            net.map(|n| n.trunc()).map_err(|_| {
                self.at(
                    a,
                    key(&format!("allow[{j}]")),
                    format!("expected a prefix or an address, got {text:?}"),
                )
            })
        });
        let listen = raw.listen.get_ref().parse().map_err(|_| {
            let got = raw.listen.get_ref();
            let message = format!("expected address:port (IPv6 as [address]:port), got {got:?}");
            self.at(&raw.listen, key("listen"), message)
        })?;
        Ok(RtrServerConfig {
            listen,
            refresh,
            retry,
            expire,
            allow: allow.collect::<Result<_, _>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, ConfigError};

    const SERVER: &str =
        "[server]\nasn = 64500\nrouter_id = \"192.0.2.254\"\nlisten = [\"127.0.0.1:179\"]\n";

    fn parse(rest: &str) -> Result<Config, ConfigError> {
        Config::parse(&format!("{SERVER}{rest}"), Path::new("x.toml"))
    }

    /// Two servers: RFC 8210's timers by default, an access list of a prefix and an address.
    #[test]
    fn rtr_servers_parse_with_defaults() {
        let config = parse(
            "[[rtr_server]]\nlisten = \"127.0.0.1:3323\"\n\
             [[rtr_server]]\nlisten = \"[::1]:3324\"\nrefresh = 60\nallow = [\"192.0.2.0/24\", \"::1\"]\n",
        )
        .unwrap();
        let [a, b] = &config.rtr_servers[..] else {
            panic!("two servers")
        };
        assert_eq!((a.refresh, a.retry, a.expire), (3600, 600, 7200));
        assert!(a.allow.is_empty());
        assert_eq!(b.refresh, 60);
        let allow: Vec<String> = b.allow.iter().map(|n| n.to_string()).collect();
        assert_eq!(allow, ["192.0.2.0/24", "::1/128"]);
    }

    /// Bad values name their key and line.
    #[test]
    fn bad_rtr_server_values_name_key_and_line() {
        let cases = [
            (
                "listen = \"localhost\"\n",
                "rtr_server[0].listen",
                "address:port",
            ),
            (
                "listen = \"127.0.0.1:1\"\nallow = [\"x\"]\n",
                "rtr_server[0].allow[0]",
                "prefix",
            ),
            (
                "listen = \"127.0.0.1:1\"\nexpire = 10\n",
                "rtr_server[0].expire",
                "600 to",
            ),
            (
                "listen = \"127.0.0.1:1\"\nrefresh = 8000\n",
                "rtr_server[0].expire",
                "above",
            ),
        ];
        for (body, key, message) in cases {
            let e = parse(&format!("[[rtr_server]]\n{body}")).unwrap_err();
            assert_eq!(e.key.as_deref(), Some(key), "{e}");
            assert!(e.to_string().contains(message), "{e}");
            assert!(e.line.is_some_and(|l| l >= 6), "{e}");
        }
    }
}
