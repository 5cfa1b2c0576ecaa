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

    /// A GET on the HTTP API, parsed as JSON.
    pub fn get(&self, path: &str) -> Option<serde_json::Value> {
        let url = format!("http://127.0.0.1:{}{path}", self.http_port);
        ureq::get(&url).call().ok()?.into_json().ok()
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
