//! GoBGP's `gobgpd` started by a test inside its network namespace (GoBGP treats loopback
//! next hops as invalid), with the test's config; killed on drop.

use std::process::{Child, Command, Stdio};

use super::netns::Netns;

/// A running `gobgpd`.
pub struct Gobgpd {
    child: Child,
    api: String,
    netns: String,
    dir: std::path::PathBuf,
}

impl Gobgpd {
    /// Starts gobgpd in `ns` with `config` (its TOML), its gRPC API on a free port.
    pub fn start(ns: &Netns, config: &str) -> Gobgpd {
        let dir = super::scratch_dir("gobgpd");
        let file = dir.join("gobgpd.toml");
        std::fs::write(&file, config).unwrap();
        let api = format!("127.0.0.1:{}", super::free_port());
        let log = std::fs::File::create(dir.join("gobgpd.log")).unwrap();
        let child = ns
            .command("gobgpd")
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
            netns: ns.name.clone(),
            dir,
        }
    }

    /// The output of `gobgp ARGS` against this gobgpd (stderr appended).
    pub fn gobgp(&self, args: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.netns, "gobgp", "-u"])
            .arg(self.api.split(':').next().unwrap())
            .args(["-p", self.api.split(':').nth(1).unwrap()])
            .args(args)
            .output()
            .expect("run gobgp");
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
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
