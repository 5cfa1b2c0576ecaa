//! The real `rovgate run` binary started by a test with a generated config.
//!
//! rovgate binds port 0 (BGP and HTTP) and the test reads the ports it got from its
//! "listening" log lines: no port is guessed, so none can be taken by someone else first.

use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The API token of a rovgate that [`Rovgate::start`] starts (in its `api-token` file).
pub const TOKEN: &str = "test-token-0123456789abcdef";

/// The `[server]` keys that turn writes on with [`TOKEN`].
const WRITES_ON: &str = "http_token_file = \"api-token\"\n";

/// How long rovgate may take to start (bind, spawn its tasks, log "rovgate running").
const START_LIMIT: Duration = Duration::from_secs(10);

/// A running rovgate: its BGP port on 127.0.0.1, its HTTP port, its log.
pub struct Rovgate {
    child: Child,
    /// The BGP port it listens on (127.0.0.1), the one it bound.
    pub bgp_port: u16,
    /// Every BGP port it listens on, `bgp_port` first (see [`Rovgate::start_with_listeners`]).
    pub bgp_ports: Vec<u16>,
    /// The HTTP port it bound.
    pub http_port: u16,
    /// The port its first BMP station listener bound (0: none configured).
    pub bmp_port: u16,
    dir: PathBuf,
}

/// The IXP import checks, on by default for `rs-client` peers, are off in the tests'
/// configs: their peers announce documentation prefixes (bogons) and transit feeds (tier-1
/// ASNs in every path). The tests of the checks turn them on per peer (`checks = "drop"`).
const CHECKS_OFF: &str = "[defaults.role.rs-client]\nchecks = \"accept\"\n";

impl Rovgate {
    /// Starts rovgate with `[server]` on ports it binds itself (port 0), HTTP writes on with [`TOKEN`], and the
    /// rest of the config from `rest` (`[rpki]`, `[defaults]`, `[[peer]]` tables).
    pub fn start(name: &str, rest: &str) -> Rovgate {
        Rovgate::start_in(None, "127.0.0.1", name, rest)
    }

    /// As [`Rovgate::start`], with `server` as the HTTP access keys of `[server]` (""
    /// leaves writes off) instead of the token.
    pub fn start_with_access(name: &str, server: &str, rest: &str) -> Rovgate {
        Rovgate::launch(None, ("127.0.0.1", 1), name, server, rest, None)
    }

    /// As [`Rovgate::start`], listening on `listeners` ports of 127.0.0.1 (one BIRD process
    /// holds one session per neighbour address and port).
    pub fn start_with_listeners(name: &str, listeners: usize, rest: &str) -> Rovgate {
        Rovgate::launch(None, ("127.0.0.1", listeners), name, WRITES_ON, rest, None)
    }

    /// Starts rovgate as [`Rovgate::start`] does, with its open-file limit (`RLIMIT_NOFILE`)
    /// set to `limit` (the shell's `ulimit -n`, then `exec`).
    pub fn start_with_file_limit(name: &str, rest: &str, limit: u32) -> Rovgate {
        Rovgate::launch(None, ("127.0.0.1", 1), name, WRITES_ON, rest, Some(limit))
    }

    /// Starts rovgate listening on `bgp_ip`, inside network namespace `netns` when given
    /// (`ip netns exec`); the HTTP API stays on 127.0.0.1 of that namespace.
    pub fn start_in(netns: Option<&str>, bgp_ip: &str, name: &str, rest: &str) -> Rovgate {
        Rovgate::launch(netns, (bgp_ip, 1), name, WRITES_ON, rest, None)
    }

    fn launch(
        netns: Option<&str>,
        (bgp_ip, listeners): (&str, usize),
        name: &str,
        server: &str,
        rest: &str,
        file_limit: Option<u32>,
    ) -> Rovgate {
        let dir = super::scratch_dir(&format!("rovgate-{name}"));
        let listen = vec![format!("\"{bgp_ip}:0\""); listeners].join(", ");
        let config = format!(
            "[server]\nasn = 64500\nrouter_id = \"192.0.2.254\"\nlisten = [{listen}]\n\
             http = \"127.0.0.1:0\"\nhold_time = 30\n{server}\n{rest}\n{CHECKS_OFF}"
        );
        fs::write(dir.join("api-token"), format!("{TOKEN}\n")).unwrap();
        let file = dir.join("rovgate.toml");
        fs::write(&file, config).unwrap();
        let log = fs::File::create(dir.join("rovgate.log")).unwrap();
        // The program and what runs it: `ip netns exec NS`, `sh -c 'ulimit -n N; exec ..'`.
        let mut argv: Vec<String> = Vec::new();
        if let Some(ns) = netns {
            argv.extend(["ip", "netns", "exec", ns].map(String::from));
        }
        if let Some(limit) = file_limit {
            let script = r#"ulimit -n "$1" && shift && exec "$@""#;
            argv.extend(["sh", "-c", script, "sh"].map(String::from));
            argv.push(limit.to_string());
        }
        argv.push(env!("CARGO_BIN_EXE_rovgate").to_string());
        let child = Command::new(&argv[0])
            .args(&argv[1..])
            .args(["run", "--config"])
            .arg(&file)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start rovgate");
        let mut r = Rovgate {
            child,
            bgp_port: 0,
            bgp_ports: Vec::new(),
            http_port: 0,
            bmp_port: 0,
            dir,
        };
        r.wait_until_running();
        r
    }

    /// Waits for "rovgate running", logged once every listener is bound and served, and
    /// takes the ports rovgate bound from its "listening" lines, logged before it.
    fn wait_until_running(&mut self) {
        let deadline = Instant::now() + START_LIMIT;
        loop {
            let log = self.log();
            if log.contains("rovgate running") {
                self.bgp_ports = bound_ports(&log, "BGP listening");
                self.bgp_port = self.bgp_ports[0];
                self.http_port = bound_ports(&log, "HTTP API listening")[0];
                if log.contains("BMP listening") {
                    self.bmp_port = bound_ports(&log, "BMP listening")[0];
                }
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("rovgate exited ({status}) before it ran: {log}");
            }
            assert!(Instant::now() < deadline, "rovgate did not start: {log}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `GET /api/v1/status`, if it answers.
    pub fn status(&self) -> Option<serde_json::Value> {
        self.get("/api/v1/status")
    }

    /// The status entry of the peer named `name`, if the status answers.
    pub fn peer_status(&self, name: &str) -> Option<serde_json::Value> {
        let status = self.status()?;
        let peers = status["peers"].as_array()?;
        peers.iter().find(|p| p["name"] == name).cloned()
    }

    /// `GET /metrics`: the Prometheus text.
    pub fn metrics(&self) -> String {
        let url = format!("{}/metrics", self.url());
        let answer = ureq::get(&url).call().expect("GET /metrics");
        answer.into_string().expect("the metrics' text")
    }

    /// A GET on the HTTP API, parsed as JSON.
    pub fn get(&self, path: &str) -> Option<serde_json::Value> {
        let url = format!("http://127.0.0.1:{}{path}", self.http_port);
        ureq::get(&url).call().ok()?.into_json().ok()
    }

    /// A POST of `body` as JSON with [`TOKEN`] on the HTTP API: the answer parsed as JSON
    /// on a 2xx status, else the status code and the answer's text (0 when the request
    /// failed).
    pub fn post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, (u16, String)> {
        let url = format!("{}{path}", self.url());
        let request = ureq::post(&url).set("Authorization", &format!("Bearer {TOKEN}"));
        match request.send_json(body) {
            Ok(answer) => answer.into_json().map_err(|e| (0, e.to_string())),
            Err(ureq::Error::Status(code, answer)) => {
                Err((code, answer.into_string().unwrap_or_default()))
            }
            Err(e) => Err((0, e.to_string())),
        }
    }

    /// The HTTP API's base URL, `http://127.0.0.1:PORT` (what `rovgate vrps accept --url`
    /// takes).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// The file holding [`TOKEN`] (what `rovgate vrps accept --token-file` takes).
    pub fn token_file(&self) -> PathBuf {
        self.dir.join("api-token")
    }

    /// rovgate's process id (for `/proc/PID/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The config file rovgate runs with.
    pub fn config_file(&self) -> PathBuf {
        self.dir.join("rovgate.toml")
    }

    /// Rewrites the config file (atomically) to `edit` of its text; rovgate reads it at
    /// the next reload.
    pub fn rewrite(&self, edit: impl FnOnce(&str) -> String) {
        let file = self.config_file();
        let text = fs::read_to_string(&file).expect("read rovgate's config");
        let tmp = self.dir.join("rovgate.toml.tmp");
        fs::write(&tmp, edit(&text)).expect("write rovgate's config");
        fs::rename(&tmp, &file).expect("replace rovgate's config");
    }

    /// Rewrites the config file to `edit` of its text and sends SIGHUP, which makes rovgate
    /// re-read it; returns once rovgate logged "config reloaded" once more.
    pub fn reload(&self, edit: impl FnOnce(&str) -> String) {
        let reloads = self.log().matches("config reloaded").count();
        self.rewrite(edit);
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-HUP", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -HUP {pid} failed");
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.log().matches("config reloaded").count() <= reloads {
            assert!(
                Instant::now() < deadline,
                "rovgate did not reload its config: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// How many files (sockets included) rovgate has open, from `/proc/PID/fd`.
    pub fn open_files(&self) -> usize {
        let fds = fs::read_dir(format!("/proc/{}/fd", self.child.id()));
        fds.map_or(0, |fds| fds.count())
    }

    /// rovgate's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("rovgate.log")).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().expect("wait for rovgate")
    }
}

/// The ports of the `addr=IP:PORT` fields on the log lines saying `message`, in order.
fn bound_ports(log: &str, message: &str) -> Vec<u16> {
    let lines = log.lines().filter(|l| l.contains(message));
    let addrs = lines.filter_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix("addr=")));
    let ports: Vec<u16> = (addrs.filter_map(|a| a.parse::<SocketAddr>().ok()))
        .map(|a| a.port())
        .collect();
    assert!(
        !ports.is_empty(),
        "no {message:?} line with addr=IP:PORT in: {log}"
    );
    ports
}

impl Drop for Rovgate {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
