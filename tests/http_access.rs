//! Who may use rovgate's HTTP API, against the real daemon: operator writes are off
//! without `[server] http_token_file`; with it they need the bearer token and a JSON body;
//! a foreign Host header is refused on every request (DNS rebinding); every answer carries
//! the security headers; SIGHUP turns writes on and rotates the token.
//! No external programs: the configured peer is passive and never connects.

use std::process::Command;

use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support;
use crate::support::daemon::{Rovgate, TOKEN};

/// One passive peer whose ROV mode the tests change.
const PEER: &str = "[[peer]]\nname = \"m1\"\naddress = \"127.0.0.2\"\nasn = 64496\n\
                    role = \"rs-client\"\nrov = \"shadow\"\npassive = true\n";

const JSON: &str = "application/json";

/// An answer of any status: code, headers, body.
struct Answer {
    code: u16,
    response_headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        let found = self
            .response_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.as_str())
    }
}

/// `method path` on rovgate's API with `headers` (and `body`, when given: as is, with no
/// content type of its own).
fn call(
    r: &Rovgate,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Answer {
    let url = format!("{}{path}", r.url());
    let mut request = ureq::request(method, &url);
    for (name, value) in headers {
        request = request.set(name, value);
    }
    let result = match body {
        Some(body) => request.send_bytes(body.as_bytes()),
        None => request.call(),
    };
    let response = match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let code = response.status();
    let response_headers = response
        .headers_names()
        .into_iter()
        .map(|n| {
            let value = response.header(&n).unwrap_or_default().to_string();
            (n, value)
        })
        .collect();
    let body = response.into_string().unwrap_or_default();
    Answer {
        code,
        response_headers,
        body,
    }
}

fn set_rov(r: &Rovgate, headers: &[(&str, &str)], rov: &str) -> Answer {
    let body = json!({ "rov": rov }).to_string();
    call(r, "POST", "/api/v1/peers/m1/rov", headers, Some(&body))
}

fn accept_vrps(r: &Rovgate, headers: &[(&str, &str)], body: &str) -> Answer {
    call(r, "POST", "/api/v1/vrps/accept", headers, Some(body))
}

/// Waits until the RIB has applied m1's new mode (the API answers once it has asked).
async fn wait_for_rov(r: &Rovgate, rov: &str) {
    let what = format!("m1 at {rov}");
    support::wait_for(&what, 30, || rov_of_m1(r) == rov).await;
}

fn rov_of_m1(r: &Rovgate) -> Value {
    let status = r.status().expect("status answers");
    status["peers"][0]["rov"].clone()
}

/// `rovgate vrps accept --url URL` with `args` and `env`: exit code, stdout, stderr.
fn vrps_accept(
    r: &Rovgate,
    args: &[&str],
    env: &[(&str, &std::path::Path)],
) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rovgate"));
    command
        .args(["vrps", "accept", "--url", &r.url()])
        .args(args);
    command.env_remove("ROVGATE_TOKEN_FILE");
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command.output().expect("run rovgate vrps accept");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// Expected: without `http_token_file`, both writes answer 403 with a message naming the
/// key, even with a token and JSON, and change nothing; `rovgate vrps accept` exits 1
/// quoting that message; reads answer.
#[test]
fn writes_are_off_without_a_token_file() {
    let bearer = format!("Bearer {TOKEN}");
    let bearer = bearer.as_str();
    let r = Rovgate::start_with_access("access-off", "", PEER);
    let writer = [("Authorization", bearer), ("Content-Type", JSON)];
    let rov = set_rov(&r, &writer, "drop");
    assert_eq!(rov.code, 403, "{}", rov.body);
    assert!(rov.body.contains("http_token_file"), "{}", rov.body);
    let accept = accept_vrps(&r, &writer, "{}");
    assert_eq!(accept.code, 403, "{}", accept.body);
    assert_eq!(rov_of_m1(&r), "shadow");
    let (code, _, stderr) = vrps_accept(&r, &[], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("403") && stderr.contains("http_token_file"),
        "{stderr}"
    );
}

/// Expected: with a token file, a write without a token or with a wrong one is 401 (with a
/// Bearer challenge), with the token but no JSON content type 415 (as a cross-site form
/// post would be), `accept` without a JSON body 400; none of them changes anything. The
/// right request is 200 and the peer's mode changes; `rovgate vrps accept` with
/// `--token-file` or `ROVGATE_TOKEN_FILE` works, without it exits 1 with the 401.
#[tokio::test]
async fn writes_need_the_token_and_a_json_body() {
    let bearer = format!("Bearer {TOKEN}");
    let bearer = bearer.as_str();
    let r = Rovgate::start("access-token", PEER);
    let refused = [
        (vec![("Content-Type", JSON)], 401),
        (
            vec![
                ("Authorization", "Bearer wrong-token-0123456789ab"),
                ("Content-Type", JSON),
            ],
            401,
        ),
        (
            vec![
                ("Authorization", "Basic dGVzdDp0ZXN0"),
                ("Content-Type", JSON),
            ],
            401,
        ),
        (
            vec![("Authorization", bearer), ("Content-Type", "text/plain")],
            415,
        ),
        (
            vec![
                ("Authorization", bearer),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            415,
        ),
        (vec![("Authorization", bearer)], 415),
    ];
    for (headers, code) in &refused {
        let answer = set_rov(&r, headers, "drop");
        assert_eq!(answer.code, *code, "{headers:?}: {}", answer.body);
        if *code == 401 {
            assert_eq!(
                answer.header("WWW-Authenticate"),
                Some("Bearer realm=\"rovgate\"")
            );
        }
    }
    assert_eq!(rov_of_m1(&r), "shadow", "no refused write applied");
    let writer = [("Authorization", bearer), ("Content-Type", JSON)];
    let no_body = accept_vrps(&r, &writer, "");
    assert_eq!(no_body.code, 400, "{}", no_body.body);

    let ok = set_rov(&r, &writer, "drop");
    assert_eq!((ok.code, ok.body.as_str()), (200, r#"{"rov":"drop"}"#));
    wait_for_rov(&r, "drop").await;
    let accept = accept_vrps(&r, &writer, "{}");
    assert_eq!(
        (accept.code, accept.body.as_str()),
        (200, r#"{"accepted":false}"#)
    );

    let file = r.token_file();
    let (code, stdout, stderr) =
        vrps_accept(&r, &["--token-file", file.to_str().expect("path")], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("nothing to accept"), "{stdout}");
    let (code, stdout, stderr) = vrps_accept(&r, &[], &[("ROVGATE_TOKEN_FILE", &file)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("nothing to accept"), "{stdout}");
    let (code, _, stderr) = vrps_accept(&r, &[], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("401"), "{stderr}");
}

/// Expected: a request whose Host is not the listen address, localhost or an `http_names`
/// entry is 421, reads and writes alike (a DNS-rebound page learns and changes nothing);
/// `localhost:PORT` and a configured name are served.
#[tokio::test]
async fn a_foreign_host_is_refused() {
    let bearer = format!("Bearer {TOKEN}");
    let bearer = bearer.as_str();
    let access = "http_token_file = \"api-token\"\nhttp_names = [\"rs.example.net\"]\n";
    let r = Rovgate::start_with_access("access-host", access, PEER);
    let port = r.http_port;
    let rebound = format!("evil.example:{port}");
    let write = [
        ("Host", rebound.as_str()),
        ("Authorization", bearer),
        ("Content-Type", JSON),
    ];
    let answer = set_rov(&r, &write, "drop");
    assert_eq!(answer.code, 421, "{}", answer.body);
    assert!(answer.body.contains("http_names"), "{}", answer.body);
    assert_eq!(rov_of_m1(&r), "shadow");
    for path in ["/", "/api/v1/status", "/metrics"] {
        let read = call(&r, "GET", path, &[("Host", &rebound)], None);
        assert_eq!(read.code, 421, "{path}: {}", read.body);
    }
    let localhost = format!("localhost:{port}");
    for host in [localhost.as_str(), "rs.example.net", "RS.example.net."] {
        let read = call(&r, "GET", "/api/v1/status", &[("Host", host)], None);
        assert_eq!(read.code, 200, "{host}: {}", read.body);
    }
    let named = [
        ("Host", "rs.example.net"),
        ("Authorization", bearer),
        ("Content-Type", JSON),
    ];
    assert_eq!(set_rov(&r, &named, "tag").code, 200);
    wait_for_rov(&r, "tag").await;
}

/// Expected: the page, an API answer, a 404 and a refused write all carry nosniff, no
/// framing, no referrer and a CSP allowing nothing but the page's style block, whose
/// SHA-256 is the one the CSP names (so a browser applies the page's style).
#[test]
fn every_answer_carries_the_security_headers() {
    let r = Rovgate::start("access-headers", PEER);
    let page = call(&r, "GET", "/", &[], None);
    assert_eq!(page.code, 200, "{}", page.body);
    let answers = [
        ("/", page),
        (
            "/api/v1/status",
            call(&r, "GET", "/api/v1/status", &[], None),
        ),
        ("/nowhere", call(&r, "GET", "/nowhere", &[], None)),
        ("write", set_rov(&r, &[], "drop")),
    ];
    let style = {
        let body = &answers[0].1.body;
        let start = body.find("<style>").expect("the page has a style block") + "<style>".len();
        let end = start + body[start..].find("</style>").expect("style ends");
        body[start..end].to_string()
    };
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style.as_bytes()));
    for (what, answer) in &answers {
        assert_eq!(
            answer.header("X-Content-Type-Options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(answer.header("X-Frame-Options"), Some("DENY"), "{what}");
        assert_eq!(
            answer.header("Referrer-Policy"),
            Some("no-referrer"),
            "{what}"
        );
        let csp = answer.header("Content-Security-Policy").unwrap_or_default();
        for part in [
            "default-src 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(part), "{what}: {csp}");
        }
        assert!(
            csp.contains(&format!("style-src 'sha256-{hash}'")),
            "{what}: {csp}"
        );
        assert!(!csp.contains("unsafe"), "{what}: {csp}");
    }
    assert!(
        !answers[0].1.body.contains("<script"),
        "the CSP allows no script"
    );
}

/// Expected: SIGHUP with `http_token_file` added turns writes on without a restart;
/// a new token in the file, and SIGHUP, makes the old token 401 and the new one work.
#[test]
fn sighup_turns_writes_on_and_rotates_the_token() {
    let r = Rovgate::start_with_access("access-reload", "", PEER);
    let write = |bearer: &str| {
        let auth = format!("Bearer {bearer}");
        set_rov(
            &r,
            &[("Authorization", &auth), ("Content-Type", JSON)],
            "drop",
        )
        .code
    };
    assert_eq!(write(TOKEN), 403);
    r.reload(|text| {
        text.replace(
            "hold_time = 30\n",
            "hold_time = 30\nhttp_token_file = \"api-token\"\n",
        )
    });
    assert_eq!(write(TOKEN), 200);
    assert!(!r.log().contains("need a restart"), "{}", r.log());

    let rotated = "rotated-token-0123456789abcdef";
    std::fs::write(r.token_file(), rotated).expect("write the new token");
    r.reload(|text| text.to_string());
    assert_eq!(write(TOKEN), 401);
    assert_eq!(write(rotated), 200);
}
