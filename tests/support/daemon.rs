//! The real `rovgate run` binary started by a test with a generated config.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    /// Starts rovgate with `[server]` on free ports and the rest of the config from `rest`
    /// (`[rpki]`, `[defaults]`, `[[peer]]` tables).
    pub fn start(name: &str, rest: &str) -> Rovgate {
        Rovgate::start_in(None, "127.0.0.1", name, rest)
    }

    /// Starts rovgate listening on `bgp_ip`, inside network namespace `netns` when given
    /// (`ip netns exec`); the HTTP API stays on 127.0.0.1 of that namespace.
    pub fn start_in(netns: Option<&str>, bgp_ip: &str, name: &str, rest: &str) -> Rovgate {
        let dir = super::scratch_dir(&format!("rovgate-{name}"));
        let (bgp_port, http_port) = (super::free_port(), super::free_port());
        let config = format!(
            "[server]\nasn = 64500\nrouter_id = \"192.0.2.254\"\nlisten = [\"{bgp_ip}:{bgp_port}\"]\n\
             http = \"127.0.0.1:{http_port}\"\nhold_time = 30\n\n{rest}"
        );
        let file = dir.join("rovgate.toml");
        fs::write(&file, config).unwrap();
        let log = fs::File::create(dir.join("rovgate.log")).unwrap();
        let mut command = match netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, env!("CARGO_BIN_EXE_rovgate")]);
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_rovgate")),
        };
        let child = command
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

    /// A POST of `body` as JSON on the HTTP API: the answer parsed as JSON on a 2xx status,
    /// else the status code and the answer's text (0 when the request failed).
    pub fn post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, (u16, String)> {
        let url = format!("{}{path}", self.url());
        match ureq::post(&url).send_json(body) {
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
