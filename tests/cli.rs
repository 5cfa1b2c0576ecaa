//! The `rovgate` binary as a user drives it: `check-config`, `validate`, and `run` with its
//! status API, on the shipped configs and real VRPs; bad input (MRT files, missing VRP and
//! SLURM files) in `cli/bad_input.rs`.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support;

mod bad_input;

const BIN: &str = env!("CARGO_BIN_EXE_rovgate");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn rovgate(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .current_dir(ROOT)
        .output()
        .unwrap()
}

/// Kills the daemon when the test ends, however it ends.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(url: &str) -> Option<serde_json::Value> {
    ureq::get(url).call().ok()?.into_json().ok()
}

/// The commands `rovgate --help` lists (not `help`), each with its subcommands' paths when
/// its own `--help` lists some: `run`, ..., `vrps accept`.
fn commands_in_help(path: &[&str]) -> BTreeSet<String> {
    let help = String::from_utf8_lossy(&rovgate(&[path, &["--help"]].concat()).stdout).into_owned();
    let listed = (help.lines())
        .skip_while(|l| *l != "Commands:")
        .filter(|l| *l != "Commands:")
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help");
    let mut commands = BTreeSet::new();
    for name in listed {
        let sub = [path, &[name]].concat();
        let nested = commands_in_help(&sub);
        if nested.is_empty() {
            commands.insert(sub.join(" "));
        } else {
            commands.extend(nested);
        }
    }
    commands
}

/// Expected: the commands the README's "Commands" section has a heading for
/// (``### `rovgate NAME ...` ``, up to the first argument) are exactly those `--help` lists.
#[test]
fn readme_lists_the_commands_help_lists() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let section = readme
        .split("\n## Commands\n")
        .nth(1)
        .expect("README's Commands section");
    let section = section.split("\n## ").next().unwrap_or_default();
    let documented: BTreeSet<String> = (section.lines())
        .filter_map(|l| l.strip_prefix("### `rovgate "))
        .map(|l| {
            let words = l.split([' ', '`']);
            let name = words.take_while(|w| {
                w.starts_with(|c: char| c.is_ascii_lowercase())
                    && w.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            });
            name.collect::<Vec<_>>().join(" ")
        })
        .collect();
    assert_eq!(
        documented,
        commands_in_help(&[]),
        "README's commands vs rovgate --help"
    );
}

/// Expected: the shipped example and default configs are accepted.
#[test]
fn check_config_accepts_shipped_configs() {
    for file in ["configs/example.toml", "configs/default.toml"] {
        let out = rovgate(&["check-config", file]);
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
    }
}

/// Expected: a broken config exits 2 with file, line and key in the message.
#[test]
fn check_config_names_file_line_and_key() {
    let dir = std::env::temp_dir().join(format!("rovgate-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    let text = "[server]\nasn = 64500\nrouter_id = \"192.0.2.254\"\nlisten = [\"127.0.0.1:1179\"]\n\n[defaults]\nrov = \"dorp\"\n";
    std::fs::write(&file, text).unwrap();
    let out = rovgate(&["check-config", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:7"), "{err}");
    assert!(err.contains("defaults.rov"), "{err}");
}

/// Expected: HTTP on a non-loopback address without `http_token_file` is valid (`ok`, exit
/// 0) but warned about on stderr; with a token file, or on loopback, there is no warning;
/// a missing token file is a config error (exit 2) naming the file and key.
#[test]
fn check_config_warns_about_http_beyond_loopback_without_a_token() {
    let dir = support::scratch_dir("cli-http");
    std::fs::write(dir.join("api-token"), "0123456789abcdef0123\n").unwrap();
    let check = |name: &str, server: &str| {
        let file = dir.join(name);
        let text = format!(
            "[server]\nasn = 64500\nrouter_id = \"192.0.2.254\"\nlisten = [\"127.0.0.1:1179\"]\n{server}"
        );
        std::fs::write(&file, text).unwrap();
        let out = rovgate(&["check-config", file.to_str().unwrap()]);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let (code, stdout, stderr) = check("open.toml", "http = \"0.0.0.0:8080\"\n");
    assert_eq!((code, stdout.trim()), (Some(0), "ok"), "{stderr}");
    assert!(stderr.starts_with("warning: "), "{stderr}");
    assert!(
        stderr.contains("0.0.0.0:8080") && stderr.contains("http_token_file"),
        "{stderr}"
    );
    let guarded = "http = \"0.0.0.0:8080\"\nhttp_token_file = \"api-token\"\n";
    for (name, server) in [
        ("guarded.toml", guarded),
        ("loopback.toml", "http = \"[::1]:8080\"\n"),
    ] {
        let (code, stdout, stderr) = check(name, server);
        assert_eq!(
            (code, stdout.trim(), stderr.as_str()),
            (Some(0), "ok", ""),
            "{name}"
        );
    }
    let missing = "http = \"0.0.0.0:8080\"\nhttp_token_file = \"no-such-token\"\n";
    let (code, _, stderr) = check("missing.toml", missing);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("missing.toml:6: key server.http_token_file: cannot read token file"),
        "{stderr}"
    );
    assert!(stderr.contains("no-such-token"), "{stderr}");
}

/// Expected: the JSON shape of DESIGN.md, with the reasons, for valid, invalid (wrong AS,
/// too long) and not-found routes against the shipped sample VRPs.
#[test]
fn validate_prints_state_and_reasons_as_json() {
    let vrps: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(ROOT).join("configs/sample-vrps.json")).unwrap(),
    )
    .unwrap();
    let roa = &vrps["roas"][0];
    let prefix = roa["prefix"].as_str().unwrap();
    let asn = roa["asn"]
        .to_string()
        .trim_matches('"')
        .trim_start_matches("AS")
        .to_string();
    let max = roa["maxLength"].as_u64().unwrap();
    let json = |prefix: &str, asn: &str| {
        let out = rovgate(&[
            "validate",
            "--vrps",
            "configs/sample-vrps.json",
            prefix,
            asn,
            "--format",
            "json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let valid = json(prefix, &asn);
    assert_eq!(valid["state"], "valid");
    assert_eq!(valid["matched"][0]["prefix"], prefix);
    assert_eq!(valid["matched"][0]["max_length"], max);
    let wrong_as = json(prefix, "4200000001");
    assert_eq!(wrong_as["state"], "invalid");
    assert!(!wrong_as["bad_asn"].as_array().unwrap().is_empty());
    if max < 32 && !prefix.contains(':') {
        let net: ipnet::Ipv4Net = prefix.parse().unwrap();
        let longer = format!("{}/{}", net.network(), max + 1);
        let too_long = json(&longer, &asn);
        assert_eq!(too_long["state"], "invalid");
        assert!(!too_long["bad_length"].as_array().unwrap().is_empty());
    }
    let unknown = json("198.18.0.0/15", "64496");
    assert_eq!(unknown["state"], "not-found");
}

/// Expected: `run` with a config on free ports serves /api/v1/status with the file's VRPs,
/// and exits 0 on SIGTERM.
#[test]
fn run_serves_status_and_stops_on_sigterm() {
    let http = support::free_port();
    let dir = std::env::temp_dir().join(format!("rovgate-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("rovgate.toml");
    let vrps = Path::new(ROOT).join("configs/sample-vrps.json");
    let text = format!(
        "[server]\nasn = 64500\nrouter_id = \"192.0.2.254\"\nlisten = [\"127.0.0.1:{}\"]\nhttp = \"127.0.0.1:{http}\"\n\n[rpki]\nvrp_files = [{:?}]\n",
        support::free_port(),
        vrps.display().to_string()
    );
    std::fs::write(&config, text).unwrap();
    let child = Command::new(BIN)
        .args(["run", "--config", config.to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut daemon = Daemon(child);
    let expected = rovgate::rpki::file::load(&vrps).unwrap().len();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = get(&format!("http://127.0.0.1:{http}/api/v1/status")) {
            if s["vrps"]["count"] == expected {
                break s;
            }
        }
        assert!(
            Instant::now() < deadline,
            "status never showed {expected} VRPs"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status["vrps"]["stale"], false);
    assert_eq!(status["sources"][0]["kind"], "file");
    assert_eq!(status["sources"][0]["state"], "up");
    let pid = daemon.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let code = daemon.0.wait().unwrap();
    let mut log = String::new();
    daemon
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(code.success(), "exit {code:?}: {log}");
    assert!(log.contains("shutting down"), "{log}");
}

/// Expected: `validate --rtr` fetches the VRPs from a real RTR cache (stayrtr) and gives
/// the same verdict as the file.
#[test]
fn validate_against_an_rtr_cache() {
    if !support::tools_present(&["stayrtr"]) {
        return;
    }
    let cache = support::Stayrtr::start(&[support::vrp("192.0.2.0/24", 24, 64496)]);
    let out = rovgate(&[
        "validate",
        "--rtr",
        &cache.address(),
        "192.0.2.0/25",
        "AS64496",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["state"], "invalid");
    assert_eq!(v["bad_length"][0]["max_length"], 24);
    let text = rovgate(&[
        "validate",
        "--rtr",
        &cache.address(),
        "192.0.2.0/24",
        "64496",
    ]);
    assert!(String::from_utf8_lossy(&text.stdout).starts_with("192.0.2.0/24 AS64496: valid"));
}
