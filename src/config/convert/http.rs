//! Conversion of the HTTP access keys of `[server]`: `http_token_file` (read here, so a
//! missing or empty token file fails `check-config` as it fails `run`) and `http_names`.
//!
//! Where it sits: inside `convert.rs`'s `[server]` conversion; the result is
//! [`HttpAccess`], enforced by `http/guard.rs`.

use super::{Source, Text};
use crate::config::{ConfigError, HostName, HttpAccess, HttpToken};

/// The shortest token accepted: a guessable one would make writes open in effect.
const MIN_TOKEN: usize = 16;

impl Source<'_> {
    /// The `http_token_file` and `http_names` keys of `[server]`.
    pub(super) fn http_access(
        &self,
        token_file: Option<&Text>,
        names: &[Text],
    ) -> Result<HttpAccess, ConfigError> {
        let names = names.iter().enumerate().map(|(i, n)| {
            let key = format!("server.http_names[{i}]");
            n.get_ref()
                .parse::<HostName>()
                .map_err(|e| self.at(n, key, e))
        });
        Ok(HttpAccess {
            token: token_file.map(|f| self.token(f)).transpose()?,
            names: names.collect::<Result<_, _>>()?,
        })
    }

    /// Reads the token: one line of printable ASCII, surrounding whitespace ignored.
    fn token(&self, raw: &Text) -> Result<HttpToken, ConfigError> {
        const KEY: &str = "server.http_token_file";
        let file = self
            .paths(std::slice::from_ref(raw), KEY)?
            .into_iter()
            .next()
            .ok_or_else(|| self.at(raw, KEY, "expected a file path"))?;
        let shown = file.display();
        let text = std::fs::read_to_string(&file)
            .map_err(|e| self.at(raw, KEY, format!("cannot read token file {shown}: {e}")))?;
        let secret = text.trim();
        let why = if secret.is_empty() {
            "is empty"
        } else if !secret.bytes().all(|b| b.is_ascii_graphic()) {
            "must hold one token of printable ASCII without spaces"
        } else if secret.len() < MIN_TOKEN {
            "holds a token shorter than 16 characters"
        } else {
            return Ok(HttpToken::new(secret.to_string(), file));
        };
        Err(self.at(raw, KEY, format!("token file {shown} {why}")))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    const SERVER: &str = "[server]\nasn = 64500\nrouter_id = \"192.0.2.254\"\n\
                          listen = [\"127.0.0.1:179\"]\n";

    /// A scratch directory holding `token` with `text` (none: no token file).
    fn dir_with_token(name: &str, text: Option<&str>) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("rovgate-http-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let _ = std::fs::remove_file(dir.join("token"));
        if let Some(text) = text {
            std::fs::write(dir.join("token"), text).expect("write token");
        }
        dir
    }

    fn parse(dir: &Path, server: &str) -> Result<Config, String> {
        let text = format!("{SERVER}{server}");
        Config::parse(&text, &dir.join("rovgate.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn token_is_read_relative_to_the_config() {
        let dir = dir_with_token("ok", Some("  0123456789abcdef-xyz\n"));
        let config = parse(&dir, "http_token_file = \"token\"\n").expect("valid");
        let token = config.server.http_access.token.expect("a token");
        assert!(token.matches(b"0123456789abcdef-xyz"));
        assert_eq!(token.file, dir.join("token"));
    }

    #[test]
    fn bad_token_files_name_the_file_and_key() {
        let cases = [
            ("missing", None, "cannot read token file"),
            ("empty", Some("\n"), "is empty"),
            ("short", Some("abc\n"), "shorter than 16"),
            ("spaces", Some("0123456789 abcdef"), "printable ASCII"),
        ];
        for (name, text, why) in cases {
            let dir = dir_with_token(name, text);
            let e = parse(&dir, "http_token_file = \"token\"\n").expect_err(name);
            let file = dir.join("token").display().to_string();
            assert!(e.contains(":5: key server.http_token_file"), "{name}: {e}");
            assert!(e.contains(&file) && e.contains(why), "{name}: {e}");
        }
    }

    #[test]
    fn names_are_checked_and_kept() {
        let dir = dir_with_token("names", None);
        let config = parse(&dir, "http_names = [\"rs.example.net\", \"[::1]:8080\"]\n");
        let names = config.expect("valid").server.http_access.names;
        let got: Vec<_> = names.iter().map(|n| (n.host.as_str(), n.port)).collect();
        assert_eq!(got, [("rs.example.net", None), ("::1", Some(8080))]);
        let e = parse(&dir, "http_names = [\"ok.example\", \"bad name\"]\n").expect_err("bad");
        assert!(
            e.contains("key server.http_names[1]: expected a host name"),
            "{e}"
        );
    }

    #[test]
    fn warns_when_http_is_open_beyond_loopback_without_a_token() {
        let dir = dir_with_token("warn", Some("0123456789abcdef"));
        let warning = |server: &str| parse(&dir, server).expect("valid").server.http_warning();
        assert_eq!(warning(""), None);
        assert_eq!(warning("http = \"127.0.0.1:8080\"\n"), None);
        assert_eq!(warning("http = \"[::1]:8080\"\n"), None);
        let open = warning("http = \"0.0.0.0:8080\"\n").expect("a warning");
        assert!(open.contains("0.0.0.0:8080") && open.contains("http_token_file"));
        assert!(warning("http = \"192.0.2.1:8080\"\n").is_some());
        let guarded = "http = \"0.0.0.0:8080\"\nhttp_token_file = \"token\"\n";
        assert_eq!(warning(guarded), None);
    }
}
