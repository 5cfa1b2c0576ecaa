//! The JSON every birdwatcher answer shares: the `api` block and `ttl` around each body,
//! and routes with their BGP attributes as birdwatcher writes them.
//!
//! Where it sits: under `http::birdwatcher`, which makes the bodies.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::bgp::wire::attr::LOCAL_PREF;
use crate::bgp::wire::attr::{RawAttrs, COMMUNITIES, EXT_COMMUNITIES, LARGE_COMMUNITIES};
use crate::rib::PeerView;
use crate::route::AttrSet;

/// How long Alice-LG may keep an answer (the `ttl` it reads).
const TTL: Duration = Duration::from_secs(60);

/// Every answer: the `api` block and `ttl` Alice-LG reads first, then the body.
#[derive(Serialize)]
pub struct Answer<T> {
    /// What birdwatcher says about itself.
    pub api: Meta,
    /// Until when the answer may be kept.
    pub ttl: String,
    /// The body (`status`, `protocols` or `routes`).
    #[serde(flatten)]
    pub body: T,
}

/// The `api` block.
#[derive(Serialize)]
pub struct Meta {
    /// rovgate's version (Alice-LG reads the capitalised key).
    #[serde(rename = "Version")]
    pub version: &'static str,
    /// Always false: every answer is made on request.
    pub result_from_cache: bool,
    /// When the answer was made.
    pub cache_status: CacheStatus,
}

/// `cache_status`.
#[derive(Serialize)]
pub struct CacheStatus {
    /// `{"date": ...}`.
    pub cached_at: Date,
}

/// A time as birdwatcher nests it.
#[derive(Serialize)]
pub struct Date {
    /// RFC 3339, UTC.
    pub date: String,
}

/// An RFC 3339 time in UTC, to the second.
pub fn rfc3339(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `body` with the `api` block of an answer made now.
pub fn answer<T>(body: T) -> Json<Answer<T>> {
    let now = SystemTime::now();
    Json(Answer {
        api: Meta {
            version: env!("CARGO_PKG_VERSION"),
            result_from_cache: false,
            cache_status: CacheStatus {
                cached_at: Date { date: rfc3339(now) },
            },
        },
        ttl: rfc3339(now + TTL),
        body,
    })
}

/// The body of every `/routes` answer.
#[derive(Serialize)]
pub struct RoutesBody {
    /// The routes.
    pub routes: Vec<Route>,
}

/// One path as BIRD's `show route all` shows it, in birdwatcher's JSON.
#[derive(Debug, Serialize)]
pub struct Route {
    /// The prefix.
    pub network: String,
    /// The peer's address (Alice-LG matches routes to neighbours by it).
    pub gateway: IpAddr,
    /// The peer's address.
    pub learnt_from: IpAddr,
    /// The protocol id of the peer it came from.
    pub from_protocol: String,
    /// Always empty: a route server has no interface per path.
    pub interface: &'static str,
    /// BIRD's default for BGP routes.
    pub metric: u32,
    /// The best path of its prefix.
    pub primary: bool,
    /// `["BGP", "univ"]`.
    #[serde(rename = "type")]
    pub kind: [&'static str; 2],
    /// Its BGP attributes.
    pub bgp: Bgp,
}

/// A path's BGP attributes, as birdwatcher writes them.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Bgp {
    /// `IGP`, `EGP` or `Incomplete`.
    pub origin: &'static str,
    /// Every AS of the path, as strings.
    pub as_path: Vec<String>,
    /// The next hop.
    pub next_hop: Option<IpAddr>,
    /// LOCAL_PREF as received, as a string (omitted: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_pref: Option<String>,
    /// MULTI_EXIT_DISC, as a string (omitted: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub med: Option<String>,
    /// Standard communities as `[high, low]`.
    pub communities: Vec<[u32; 2]>,
    /// Large communities as received, then those rovgate adds.
    pub large_communities: Vec<[u32; 3]>,
    /// Extended communities as `[kind, a, b]` (`rt`, `ro`, or `generic` with hex values).
    pub ext_communities: Vec<[String; 3]>,
}

/// The BGP attributes of `attrs` (as received) with `added` large communities after.
pub fn bgp(attrs: &AttrSet, added: &[[u32; 3]]) -> Bgp {
    let mut out = Bgp {
        origin: match attrs.origin {
            0 => "IGP",
            1 => "EGP",
            _ => "Incomplete",
        },
        as_path: attrs.as_path.asns().map(|a| a.to_string()).collect(),
        next_hop: Some(attrs.next_hop.addr()),
        med: attrs.med.map(|m| m.to_string()),
        ..Bgp::default()
    };
    for attr in RawAttrs::new(&attrs.other).map_while(Result::ok) {
        let words = |width: usize| attr.value.chunks_exact(width);
        match attr.code {
            COMMUNITIES => out.communities.extend(words(4).map(|c| {
                let c = word(c);
                [c >> 16, c & 0xffff]
            })),
            LARGE_COMMUNITIES => (out.large_communities)
                .extend(words(12).map(|c| [word(c), word(&c[4..]), word(&c[8..])])),
            EXT_COMMUNITIES => out.ext_communities.extend(words(8).map(extended)),
            LOCAL_PREF if attr.value.len() == 4 => {
                out.local_pref = Some(word(attr.value).to_string())
            }
            _ => {}
        }
    }
    out.large_communities.extend_from_slice(added);
    out
}

/// The big-endian word that `bytes` starts with (callers pass at least 4 bytes).
fn word(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// An extended community as birdwatcher names it: route target and origin of the
/// two-octet-AS kind (RFC 4360) by name, any other as `generic` with its two words in hex.
fn extended(c: &[u8]) -> [String; 3] {
    match (c[0], c[1]) {
        (0x00, 0x02) | (0x00, 0x03) => [
            (if c[1] == 0x02 { "rt" } else { "ro" }).to_string(),
            u16::from_be_bytes([c[2], c[3]]).to_string(),
            word(&c[4..]).to_string(),
        ],
        _ => [
            "generic".to_string(),
            format!("0x{:08x}", word(c)),
            format!("0x{:08x}", word(&c[4..])),
        ],
    }
}

/// A path of `peer` (protocol `id`) for `network`.
pub fn route(network: String, (id, peer): (&str, &PeerView), primary: bool, bgp: Bgp) -> Route {
    Route {
        network,
        gateway: peer.address,
        learnt_from: peer.address,
        from_protocol: id.to_string(),
        interface: "",
        metric: 100,
        primary,
        kind: ["BGP", "univ"],
        bgp,
    }
}
