//! BIRD 2 started by a test: its own config, control socket and log, stopped on drop.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `bird -f`.
pub struct Bird {
    child: Child,
    sock: PathBuf,
    dir: PathBuf,
}

/// The part of every BIRD config rovgate's tests share: loopback next hops resolve through
/// a `direct` protocol on `lo` (see ../shared/PEERS.md).
pub fn preamble(router_id: &str) -> String {
    format!(
        "log \"bird.log\" all;\nrouter id {router_id};\nprotocol device {{}}\n\
         protocol direct {{ ipv4; ipv6; interface \"lo\"; }}\n"
    )
}

impl Bird {
    /// Starts BIRD with `config` in a fresh scratch directory named after `name`.
    pub fn start(name: &str, config: &str) -> Bird {
        Bird::start_in(None, name, config)
    }

    /// As [`Bird::start`], inside network namespace `netns` when given (`ip netns exec`).
    pub fn start_in(netns: Option<&str>, name: &str, config: &str) -> Bird {
        let dir = super::scratch_dir(&format!("bird-{name}"));
        let file = dir.join("bird.conf");
        fs::write(
            &file,
            config.replace("\"bird.log\"", &format!("{:?}", dir.join("bird.log"))),
        )
        .unwrap();
        let check = Command::new("bird")
            .arg("-p")
            .arg("-c")
            .arg(&file)
            .output()
            .expect("run bird -p");
        assert!(
            check.status.success(),
            "bad BIRD config: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let sock = dir.join("bird.ctl");
        let child = super::netns::command_in(netns, "bird")
            .arg("-f")
            .arg("-c")
            .arg(&file)
            .arg("-s")
            .arg(&sock)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start bird");
        let bird = Bird { child, sock, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !bird.birdc("show status").contains("Daemon is up") {
            assert!(
                Instant::now() < deadline,
                "bird did not start: {}",
                bird.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        bird
    }

    /// Runs a `birdc` command and returns its output.
    pub fn birdc(&self, command: &str) -> String {
        let out = Command::new("birdc")
            .arg("-s")
            .arg(&self.sock)
            .args(command.split_whitespace())
            .output()
            .expect("run birdc");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The prefixes starting with `start` that protocol `name` learned
    /// (`show route protocol NAME`).
    pub fn learned(&self, name: &str, start: &str) -> BTreeSet<String> {
        let out = self.birdc(&format!("show route protocol {name}"));
        let prefixes = out.lines().filter_map(|l| l.split_whitespace().next());
        prefixes
            .filter(|p| p.starts_with(start))
            .map(String::from)
            .collect()
    }

    /// Whether protocol `name` is Established.
    pub fn established(&self, name: &str) -> bool {
        self.birdc(&format!("show protocols {name}"))
            .contains("Established")
    }

    /// Shuts BIRD down cleanly (`birdc down`: a Cease to every peer) and waits for it.
    pub fn stop(mut self) {
        self.birdc("down");
        let _ = self.child.wait();
    }

    /// BIRD's log file.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("bird.log")).unwrap_or_default()
    }
}

impl Drop for Bird {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
