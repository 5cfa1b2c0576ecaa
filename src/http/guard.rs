//! Who may do what over HTTP: the Host check on every request, the bearer token and the
//! JSON content type on operator writes, and security headers on every answer.
//!
//! Where it sits: axum middleware around the router of `mod.rs` ([`protect`]); it reads the
//! [`HttpAccess`] in force (SIGHUP swaps in a new one) and never touches routing state.
//! - Host: the listen address, loopback addresses, `localhost` (with the listen port or
//!   none) and `[server] http_names`; anything else is 421, so a page whose DNS name was
//!   rebound to rovgate's address cannot read or write the API.
//! - Writes: off (403) without `http_token_file`; with it, `Authorization: Bearer <token>`
//!   (401) and `Content-Type: application/json` (415). A cross-site form can set neither,
//!   and a cross-site script would need a CORS preflight, which rovgate never grants.
//! - Headers: `nosniff`, no framing, no referrer, and a CSP that allows nothing but the
//!   page's one inline style block, by its hash (the page has no script).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock};

use arc_swap::ArcSwap;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::uri::Authority;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use crate::config::HttpAccess;

/// The access settings in force; a config reload (SIGHUP) stores new ones.
pub type SharedAccess = Arc<ArcSwap<HttpAccess>>;

/// What requests are checked against: the listen address and the access settings.
#[derive(Clone)]
pub struct Guard {
    listen: SocketAddr,
    access: SharedAccess,
}

impl Guard {
    /// A guard for the API bound to `listen`.
    pub fn new(listen: SocketAddr, access: SharedAccess) -> Guard {
        Guard { listen, access }
    }

    /// Whether a request's Host (`name[:port]`) is one of this server's names.
    fn allows_host(&self, host: &str) -> bool {
        let Ok(authority) = host.parse::<Authority>() else {
            return false;
        };
        if authority.as_str().contains('@') {
            return false; // userinfo has no place in a Host header
        }
        let port = authority.port_u16();
        let name = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let access = self.access.load();
        let named =
            |n: &crate::config::HostName| n.host == name && n.port.is_none_or(|p| Some(p) == port);
        if access.names.iter().any(named) {
            return true;
        }
        let listen = self.listen.ip();
        port.is_none_or(|p| p == self.listen.port())
            && match name.parse::<IpAddr>() {
                // An address literal cannot be a rebound name; unspecified: any of ours.
                Ok(ip) => ip.is_loopback() || ip == listen || listen.is_unspecified(),
                Err(_) => name == "localhost",
            }
    }
}

/// The router of `reads` and `writes` with the guard: the Host check and security headers
/// on every route (and on the 404 of no route), the write checks on `writes`.
pub fn protect<S>(reads: Router<S>, writes: Router<S>, guard: Guard) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let writes = writes.route_layer(middleware::from_fn_with_state(guard.clone(), authorize));
    reads
        .merge(writes)
        .layer(middleware::from_fn_with_state(guard, check_host))
        .layer(middleware::map_response(add_security_headers))
}

async fn check_host(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = match headers.get(header::HOST).map(HeaderValue::to_str) {
        Some(Ok(host)) => host.to_string(),
        Some(Err(_)) => String::new(),
        None => match request.uri().authority() {
            Some(authority) => authority.to_string(),
            None => return (StatusCode::BAD_REQUEST, "a Host header is required").into_response(),
        },
    };
    if guard.allows_host(&host) {
        return next.run(request).await;
    }
    info!(%host, "HTTP request for a foreign Host refused");
    let why = format!(
        "Host {host:?} is not a name of this server: use its listen address or localhost, \
         or add the name to [server] http_names"
    );
    (StatusCode::MISDIRECTED_REQUEST, why).into_response()
}

const WRITES_OFF: &str = "operator writes over HTTP are off: put a secret token (16 or more \
    printable characters) in a file, set [server] http_token_file to it, reload (SIGHUP), \
    and send Authorization: Bearer <token>";

async fn authorize(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let access = guard.access.load();
    let Some(token) = &access.token else {
        return (StatusCode::FORBIDDEN, WRITES_OFF).into_response();
    };
    let why = match bearer(request.headers()) {
        None => {
            "this write needs Authorization: Bearer <token> (the token in [server] http_token_file)"
        }
        Some(offered) if !token.matches(offered) => "wrong bearer token",
        Some(_) if !is_json(request.headers()) => {
            let why = "operator writes take a JSON body: send Content-Type: application/json";
            return (StatusCode::UNSUPPORTED_MEDIA_TYPE, why).into_response();
        }
        Some(_) => return next.run(request).await,
    };
    warn!(path = %request.uri().path(), why, "HTTP write refused");
    let challenge = (header::WWW_AUTHENTICATE, "Bearer realm=\"rovgate\"");
    (StatusCode::UNAUTHORIZED, [challenge], why).into_response()
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case).
fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    let value = headers.get(header::AUTHORIZATION)?.as_bytes();
    let space = value.iter().position(|&b| b == b' ')?;
    let (scheme, token) = value.split_at(space);
    scheme
        .eq_ignore_ascii_case(b"bearer")
        .then(|| token.trim_ascii())
}

/// Whether the body is declared JSON (`application/json`, parameters allowed).
fn is_json(headers: &HeaderMap) -> bool {
    let value = headers.get(header::CONTENT_TYPE).map(HeaderValue::to_str);
    let Some(Ok(value)) = value else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// The Content-Security-Policy: nothing but the page's style block, by its SHA-256, and
/// forms (the looking-glass search) sent to rovgate itself.
static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = Sha256::digest(super::page::STYLE.as_bytes());
    let hash = base64::engine::general_purpose::STANDARD.encode(hash);
    let policy = format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    HeaderValue::try_from(policy).expect("ASCII text and base64 make a header value")
});

async fn add_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &str); 3] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HostName;

    fn guard(listen: &str, names: &[&str]) -> Guard {
        let access = HttpAccess {
            token: None,
            names: names
                .iter()
                .map(|n| n.parse::<HostName>().expect("name"))
                .collect(),
        };
        let listen = listen.parse().expect("listen address");
        Guard::new(listen, Arc::new(ArcSwap::from_pointee(access)))
    }

    #[test]
    fn host_is_a_name_of_this_server() {
        let loopback = guard("127.0.0.1:8080", &["rs.example.net", "lg.example.net:443"]);
        let cases = [
            ("127.0.0.1:8080", true),
            ("127.0.0.1", true),
            ("localhost:8080", true),
            ("LOCALHOST.:8080", true),
            ("[::1]:8080", true),
            ("127.0.0.2:8080", true),
            ("rs.example.net", true),
            ("rs.example.net:8080", true),
            ("lg.example.net:443", true),
            ("lg.example.net", false),
            ("localhost:9999", false),
            ("127.0.0.1:9999", false),
            ("evil.example:8080", false),
            ("localhost.evil.example:8080", false),
            ("192.0.2.1:8080", false),
            ("user@localhost:8080", false),
            ("", false),
            ("local host", false),
        ];
        for (host, want) in cases {
            assert_eq!(loopback.allows_host(host), want, "{host:?}");
        }
        let any = guard("0.0.0.0:8080", &[]);
        assert!(any.allows_host("192.0.2.1:8080"));
        assert!(!any.allows_host("rs.example.net:8080"));
        let one = guard("[2001:db8::1]:8080", &[]);
        assert!(one.allows_host("[2001:db8::1]:8080"));
        assert!(!one.allows_host("[2001:db8::2]:8080"));
    }

    #[test]
    fn bearer_token_and_json_content_type() {
        let headers = |pairs: &[(HeaderName, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(name.clone(), HeaderValue::from_str(value).expect("value"));
            }
            map
        };
        let auth = |v: &str| headers(&[(header::AUTHORIZATION, v)]);
        assert_eq!(bearer(&auth("Bearer abc")), Some(&b"abc"[..]));
        assert_eq!(bearer(&auth("bearer  abc ")), Some(&b"abc"[..]));
        assert_eq!(bearer(&auth("Basic abc")), None);
        assert_eq!(bearer(&auth("Bearerabc")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
        let typed = |v: &str| is_json(&headers(&[(header::CONTENT_TYPE, v)]));
        assert!(typed("application/json"));
        assert!(typed("Application/JSON; charset=utf-8"));
        assert!(!typed("application/x-www-form-urlencoded"));
        assert!(!typed("text/plain"));
        assert!(!is_json(&HeaderMap::new()));
    }
}
