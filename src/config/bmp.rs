//! The `[bmp]` table: rovgate as a BGP Monitoring Protocol station (RFC 7854), where an
//! ISP's routers stream their neighbours' routes for a what-if without risk.
//!
//! Where it sits: parsed with the rest of the file by `convert.rs`; `daemon.rs` binds
//! `listen` and hands the [`BmpConfig`] to `bmp::spawn`.
//!
//! ```toml
//! [bmp]
//! hold_seconds = 300
//! [[bmp.listen]]
//! address = "127.0.0.1:11019"
//! [[bmp.router]]
//! address = "192.0.2.1"
//! name = "edge1"
//! role = "customer"
//! neighbours = { "192.0.2.9" = "upstream" }
//! # BMP export: rovgate connects out to each station (GoBGP's `bmp-servers`)
//! [[bmp.station]]
//! address = "192.0.2.50:1790"
//! statistics_seconds = 60
//! ```

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::convert::Source;
use super::{ConfigError, Role};

/// How long a disconnected router's routes are kept by default.
const DEFAULT_HOLD: Duration = Duration::from_secs(300);
/// How often a station gets Statistics Reports by default (GoBGP's default).
const DEFAULT_STATISTICS: Duration = Duration::from_secs(60);

/// The `[bmp]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BmpConfig {
    /// Where the station listens for routers (`[[bmp.listen]] address`); none: no station.
    pub listen: Vec<SocketAddr>,
    /// The routers it accepts, by address (`[[bmp.router]]`); any other is refused.
    pub routers: Vec<BmpRouter>,
    /// How long a router that disconnected keeps its neighbours' routes before they are
    /// removed (key `hold_seconds`, default 300).
    pub hold: Duration,
    /// The stations rovgate exports its members' routes to (`[[bmp.station]]`).
    pub stations: Vec<BmpStation>,
}

/// One `[[bmp.station]]`: a BMP collector rovgate connects to and streams to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BmpStation {
    /// Where it listens.
    pub address: SocketAddr,
    /// How often it gets Statistics Reports (key `statistics_seconds`, default 60; 0:
    /// never).
    pub statistics: Option<Duration>,
}

impl Default for BmpConfig {
    fn default() -> Self {
        BmpConfig {
            listen: Vec::new(),
            routers: Vec::new(),
            hold: DEFAULT_HOLD,
            stations: Vec::new(),
        }
    }
}

/// One `[[bmp.router]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BmpRouter {
    /// The name its neighbours' peers start with (`name/neighbour`).
    pub name: String,
    /// The address it connects from.
    pub address: IpAddr,
    /// The role of its neighbours, unless `neighbours` names one (default `peer`).
    pub role: Role,
    /// Roles of single neighbours, by their address.
    pub neighbours: BTreeMap<IpAddr, Role>,
}

impl BmpRouter {
    /// The role of neighbour `address` (its own, else the router's).
    pub fn role_of(&self, address: IpAddr) -> Role {
        self.neighbours.get(&address).copied().unwrap_or(self.role)
    }
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBmp {
    hold_seconds: Option<u64>,
    #[serde(default)]
    listen: Vec<RawListen>,
    #[serde(default)]
    router: Vec<RawRouter>,
    #[serde(default)]
    station: Vec<RawStation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStation {
    address: Spanned<String>,
    statistics_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListen {
    address: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRouter {
    name: Spanned<String>,
    address: Spanned<String>,
    role: Option<Spanned<String>>,
    #[serde(default)]
    neighbours: BTreeMap<String, Spanned<String>>,
}

impl Source<'_> {
    /// The `[bmp]` table: addresses, roles, and router names and addresses each once.
    pub(super) fn bmp(&self, raw: &RawBmp) -> Result<BmpConfig, ConfigError> {
        let listen = (raw.listen.iter().enumerate())
            .map(|(i, l)| self.socket_address(&l.address, format!("bmp.listen[{i}].address")));
        let stations = raw.station.iter().enumerate().map(|(i, s)| {
            let key = format!("bmp.station[{i}].address");
            Ok(BmpStation {
                address: self.socket_address(&s.address, key)?,
                statistics: match s.statistics_seconds {
                    None => Some(DEFAULT_STATISTICS),
                    Some(0) => None,
                    Some(n) => Some(Duration::from_secs(n)),
                },
            })
        });
        let mut names = HashSet::new();
        let mut addresses = HashSet::new();
        let mut routers = Vec::new();
        for (i, r) in raw.router.iter().enumerate() {
            let router = self.bmp_router(i, r)?;
            if !names.insert(router.name.clone()) {
                let key = format!("bmp.router[{i}].name");
                return Err(self.at(&r.name, key, "duplicate router name"));
            }
            if !addresses.insert(router.address) {
                let key = format!("bmp.router[{i}].address");
                return Err(self.at(&r.address, key, "duplicate router address"));
            }
            routers.push(router);
        }
        Ok(BmpConfig {
            listen: listen.collect::<Result<_, _>>()?,
            routers,
            hold: raw.hold_seconds.map_or(DEFAULT_HOLD, Duration::from_secs),
            stations: stations.collect::<Result<_, _>>()?,
        })
    }

    fn socket_address(
        &self,
        text: &Spanned<String>,
        key: String,
    ) -> Result<SocketAddr, ConfigError> {
        let expected = "expected address:port (IPv6 as [address]:port)";
        text.get_ref()
            .parse()
            .map_err(|_| self.at(text, key, expected))
    }

    fn bmp_router(&self, i: usize, raw: &RawRouter) -> Result<BmpRouter, ConfigError> {
        let key = |k: &str| format!("bmp.router[{i}].{k}");
        let name = raw.name.get_ref();
        if name.trim().is_empty() || name.contains('/') {
            let message = "expected a nonempty name without '/'";
            return Err(self.at(&raw.name, key("name"), message));
        }
        let address = raw.address.get_ref().parse();
        let address =
            address.map_err(|_| self.at(&raw.address, key("address"), "expected an IP address"))?;
        let role = |r: &Spanned<String>, k: String| {
            r.get_ref().parse::<Role>().map_err(|e| self.at(r, k, e))
        };
        let mut neighbours = BTreeMap::new();
        for (n, r) in &raw.neighbours {
            let k = key(&format!("neighbours.{n:?}"));
            let at: IpAddr = n
                .parse()
                .map_err(|_| self.at(r, k.clone(), "expected an IP address as the key"))?;
            neighbours.insert(at, role(r, k)?);
        }
        Ok(BmpRouter {
            name: name.clone(),
            address,
            role: raw
                .role
                .as_ref()
                .map_or(Ok(Role::Peer), |r| role(r, key("role")))?,
            neighbours,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, Role};

    const SERVER: &str = "[server]\nasn = 64500\nrouter_id = \"192.0.2.254\"\n\
                          listen = [\"127.0.0.1:179\"]\n";

    fn parse(bmp: &str) -> Result<Config, String> {
        let text = format!("{SERVER}{bmp}");
        Config::parse(&text, Path::new("rovgate.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn routers_with_roles_and_listeners() {
        let c = parse(
            "[bmp]\nhold_seconds = 5\n[[bmp.listen]]\naddress = \"127.0.0.1:11019\"\n\
             [[bmp.router]]\nname = \"edge1\"\naddress = \"192.0.2.1\"\nrole = \"customer\"\n\
             neighbours = { \"2001:db8::9\" = \"upstream\" }\n\
             [[bmp.router]]\nname = \"edge2\"\naddress = \"192.0.2.2\"\n\
             [[bmp.station]]\naddress = \"[2001:db8::50]:1790\"\nstatistics_seconds = 0\n",
        )
        .expect("valid");
        assert_eq!(c.bmp.listen, ["127.0.0.1:11019".parse().unwrap()]);
        assert_eq!(c.bmp.hold.as_secs(), 5);
        let edge1 = &c.bmp.routers[0];
        assert_eq!(
            edge1.role_of("2001:db8::9".parse().unwrap()),
            Role::Upstream
        );
        assert_eq!(edge1.role_of("192.0.2.7".parse().unwrap()), Role::Customer);
        assert_eq!(c.bmp.routers[1].role, Role::Peer, "the default role");
        let station = &c.bmp.stations[0];
        assert_eq!(station.address, "[2001:db8::50]:1790".parse().unwrap());
        assert_eq!(station.statistics, None, "0: no Statistics Reports");
        assert_eq!(parse("").expect("valid").bmp.hold.as_secs(), 300);
    }

    #[test]
    fn errors_name_line_and_key() {
        let cases = [
            (
                "[[bmp.listen]]\naddress = \"nowhere\"\n",
                "rovgate.toml:6: key bmp.listen[0].address: expected address:port",
            ),
            (
                "[[bmp.router]]\nname = \"a/b\"\naddress = \"192.0.2.1\"\n",
                "rovgate.toml:6: key bmp.router[0].name: expected a nonempty name",
            ),
            (
                "[[bmp.router]]\nname = \"a\"\naddress = \"192.0.2.1\"\nrole = \"boss\"\n",
                "rovgate.toml:8: key bmp.router[0].role: expected one of customer",
            ),
            (
                "[[bmp.router]]\nname = \"a\"\naddress = \"192.0.2.1\"\nneighbours = { x = \"peer\" }\n",
                "rovgate.toml:8: key bmp.router[0].neighbours.\"x\": expected an IP address",
            ),
            (
                "[[bmp.router]]\nname = \"a\"\naddress = \"192.0.2.1\"\n\
                 [[bmp.router]]\nname = \"b\"\naddress = \"192.0.2.1\"\n",
                "rovgate.toml:10: key bmp.router[1].address: duplicate router address",
            ),
            ("[bmp]\nport = 1\n", "rovgate.toml:6: key bmp.port"),
            (
                "[[bmp.station]]\naddress = \"collector\"\n",
                "rovgate.toml:6: key bmp.station[0].address: expected address:port",
            ),
        ];
        for (bmp, expected) in cases {
            let e = parse(bmp).expect_err(bmp);
            assert!(e.starts_with(expected), "{bmp}: {e}");
        }
    }
}
