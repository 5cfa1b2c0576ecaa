//! ExaBGP started by a test; every UPDATE it receives is appended, as ExaBGP's JSON, to a
//! file the test reads.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Stdio};

/// A running `exabgp`.
pub struct Exabgp {
    child: Child,
    dir: PathBuf,
}

impl Exabgp {
    /// Starts ExaBGP with a `neighbor` block body (`neighbor_body`) for a neighbor at
    /// 127.0.0.1 (rovgate); received UPDATEs are recorded.
    pub fn start(name: &str, neighbor_body: &str) -> Exabgp {
        Exabgp::start_in(None, "127.0.0.1", name, neighbor_body)
    }

    /// Like `start`, for a neighbor (rovgate) at `rovgate_ip`, inside namespace `netns`.
    pub fn start_in(
        netns: Option<&str>,
        rovgate_ip: &str,
        name: &str,
        neighbor_body: &str,
    ) -> Exabgp {
        let dir = super::scratch_dir(&format!("exabgp-{name}"));
        let received = dir.join("received.json");
        let config = format!(
            "process record {{\n  run /bin/sh -c \"cat >> {received}\";\n  encoder json;\n}}\n\
             neighbor {rovgate_ip} {{\n{neighbor_body}\n  api {{ processes [ record ]; receive {{ parsed; packets; update; }} }}\n}}\n",
            received = received.display()
        );
        let file = dir.join("exabgp.conf");
        fs::write(&file, config).unwrap();
        let log = fs::File::create(dir.join("exabgp.log")).unwrap();
        let child = super::netns::command_in(netns, "exabgp")
            .arg(&file)
            .env("exabgp.daemon.user", "root")
            .env("exabgp.api.cli", "false")
            .env("exabgp.log.destination", "stdout")
            .current_dir(&dir)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start exabgp");
        Exabgp { child, dir }
    }

    /// What ExaBGP received so far (JSON lines).
    pub fn received(&self) -> String {
        fs::read_to_string(self.dir.join("received.json")).unwrap_or_default()
    }
}

impl Drop for Exabgp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
