//! The real `rovgate run` binary started by a test with a generated config.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The API token of a rovgate that [`Rovgate::start`] starts (in its `api-token` file).
pub const TOKEN: &str = "test-token-0123456789abcdef";

/// The `[server]` keys that turn writes on with [`TOKEN`].
const WRITES_ON: &str = "http_token_file = \"api-token\"\n";

/// A running rovgate: its BGP port on 127.0.0.1, its HTTP port, its log.
pub struct Rovgate {
    child: Child,
    /// The BGP port it listens on (127.0.0.1).
    pub bgp_port: u16,
    /// The HTTP port.
    pub http_port: u16,
    dir: PathBuf,
}

impl Rovgate {
    /// Starts rovgate with `[server]` on free ports, HTTP writes on with [`TOKEN`], and the
    /// rest of the config from `rest` (`[rpki]`, `[defaults]`, `[[peer]]` tables).
    pub fn start(name: &str, rest: &str) -> Rovgate {
        Rovgate::start_in(None, "127.0.0.1", name, rest)
    }

    /// As [`Rovgate::start`], with `server` as the HTTP access keys of `[server]` (""
    /// leaves writes off) instead of the token.
    pub fn start_with_access(name: &str, server: &str, rest: &str) -> Rovgate {
        Rovgate::launch(None, "127.0.0.1", name, server, rest, None)
    }

    /// Starts rovgate as [`Rovgate::start`] does, with its open-file limit (`RLIMIT_NOFILE`)
    /// set to `limit` (the shell's `ulimit -n`, then `exec`).
    pub fn start_with_file_limit(name: &str, rest: &str, limit: u32) -> Rovgate {
        Rovgate::launch(None, "127.0.0.1", name, WRITES_ON, rest, Some(limit))
    }

    /// Starts rovgate listening on `bgp_ip`, inside network namespace `netns` when given
    /// (`ip netns exec`); the HTTP API stays on 127.0.0.1 of that namespace.
    pub fn start_in(netns: Option<&str>, bgp_ip: &str, name: &str, rest: &str) -> Rovgate {
        Rovgate::launch(netns, bgp_ip, name, WRITES_ON, rest, None)
    }

    fn launch(
        netns: Option<&str>,
        bgp_ip: &str,
        name: &str,
        server: &str,
        rest: &str,
        file_limit: Option<u32>,
    ) -> Rovgate {
        let dir = super::scratch_dir(&format!("rovgate-{name}"));
        let (bgp_port, http_port) = (super::free_port(), super::free_port());
        let config = format!(
            "[server]\nasn = 64500\nrouter_id = \"192.0.2.254\"\nlisten = [\"{bgp_ip}:{bgp_port}\"]\n\
             http = \"127.0.0.1:{http_port}\"\nhold_time = 30\n{server}\n{rest}"
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
        let r = Rovgate {
            child,
            bgp_port,
            http_port,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !r.log().contains("rovgate running") {
            assert!(
                Instant::now() < deadline,
                "rovgate did not start: {}",
                r.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        r
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

    /// Rewrites the config file to `edit` of its text and sends SIGHUP, which makes rovgate
    /// re-read it; returns once rovgate logged "config reloaded" once more.
    pub fn reload(&self, edit: impl FnOnce(&str) -> String) {
        let file = self.config_file();
        let text = fs::read_to_string(&file).expect("read rovgate's config");
        let reloads = self.log().matches("config reloaded").count();
        let tmp = self.dir.join("rovgate.toml.tmp");
        fs::write(&tmp, edit(&text)).expect("write rovgate's config");
        fs::rename(&tmp, &file).expect("replace rovgate's config");
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

impl Drop for Rovgate {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
