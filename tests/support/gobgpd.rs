//! GoBGP's `gobgpd` started by a test, queried with `gobgp`; killed on drop.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::netns::command_in;

/// A running gobgpd with its gRPC API on 127.0.0.1 (of its namespace, when given).
pub struct Gobgpd {
    child: Child,
    api: String,
    netns: Option<String>,
    dir: std::path::PathBuf,
}

impl Gobgpd {
    /// Starts gobgpd with the TOML `config`, inside `netns` when given.
    pub fn start(netns: Option<&str>, config: &str) -> Gobgpd {
        let dir = super::scratch_dir("gobgpd");
        let file = dir.join("gobgpd.toml");
        std::fs::write(&file, config).unwrap();
        let api = format!("127.0.0.1:{}", super::free_port());
        let log = std::fs::File::create(dir.join("gobgpd.log")).unwrap();
        let child = command_in(netns, "gobgpd")
            .arg("-f")
            .arg(&file)
            .args(["--api-hosts", &api])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start gobgpd");
        Gobgpd {
            child,
            api,
            netns: netns.map(String::from),
            dir,
        }
    }

    /// Runs `gobgp` against this gobgpd; returns its output and errors.
    pub fn gobgp(&self, args: &[&str]) -> String {
        let (host, port) = self.api.split_once(':').unwrap();
        let out = command_in(self.netns.as_deref(), "gobgp")
            .args(["-u", host, "-p", port])
            .args(args)
            .output()
            .expect("run gobgp");
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    /// Waits until `gobgp neighbor` lists every address of `neighbours` (the config is
    /// applied and the listener up then); panics with the log if gobgpd exits or 20 s pass.
    pub fn wait_for_neighbours(&mut self, neighbours: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let listed = |g: &Gobgpd| {
            let out = g.gobgp(&["neighbor"]);
            neighbours.iter().all(|a| out.contains(a))
        };
        while !listed(self) {
            let exited = self.child.try_wait().ok().flatten();
            assert!(
                exited.is_none(),
                "gobgpd exited ({exited:?}): {}",
                self.log()
            );
            assert!(
                Instant::now() < deadline,
                "gobgpd did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// gobgpd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("gobgpd.log")).unwrap_or_default()
    }
}

impl Drop for Gobgpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
