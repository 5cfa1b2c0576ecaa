//! The lab tests' harness: whether the lab can run here, one lab of `vm/lab.sh` ([`LabSh`]:
//! up, scenarios, a look inside its namespaces and at rovgate's API, down when dropped),
//! and the assertions on what `lab.sh` printed.
//!
//! Where it sits: under `lab.rs`, whose tests each build a [`LabSh`] and run one scenario.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use serde_json::Value;

use crate::support;

const LAB_SH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vm/lab.sh");

/// Whether the lab can run here: root, and every tool it drives (`frr` for the FRR client).
/// Not possible: see `support::absent`.
pub(super) fn lab_possible(frr: bool) -> bool {
    let uid = Command::new("id").arg("-u").output().expect("run id -u");
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return support::absent("root (the lab makes network namespaces)");
    }
    let mut tools = vec![
        "ip", "ss", "setsid", "bird", "birdc", "stayrtr", "curl", "jq", "python3",
    ];
    if frr {
        tools.extend(["bgpd", "bgpctl", "vtysh"]);
    }
    if !support::tools_present(&tools) {
        return false;
    }
    if frr && !Path::new("/usr/lib/frr/zebra").exists() {
        return support::absent("FRR's /usr/lib/frr/zebra (apt-get install frr)");
    }
    true
}

/// One lab of `vm/lab.sh`, removed (`lab.sh down`) when dropped.
pub(super) struct LabSh {
    name: String,
    pub(super) dir: PathBuf,
}

impl LabSh {
    /// `lab.sh up` with this build of rovgate; panics with the output if it fails.
    pub(super) fn up(test: &str, more: &[&str]) -> LabSh {
        let name = format!("t{}-{test}", std::process::id());
        let dir = std::env::temp_dir().join(format!("rovgate-lab-{name}"));
        let lab = LabSh { name, dir };
        let out = lab.run(&[&["up"], more].concat());
        assert_ok(&out, "lab.sh up");
        lab
    }

    /// Runs `lab.sh --name NAME ARGS`.
    pub(super) fn run(&self, args: &[&str]) -> Output {
        Command::new(LAB_SH)
            .args(["--name", &self.name])
            .args(args)
            .env("ROVGATE", env!("CARGO_BIN_EXE_rovgate"))
            .env("LAB_DIR", &self.dir)
            .output()
            .expect("run vm/lab.sh")
    }

    /// Runs a scenario, asserts it succeeded, and returns what it printed.
    pub(super) fn scenario(&self, name: &str) -> String {
        let started = Instant::now();
        let out = self.run(&["scenario", name]);
        assert_ok(&out, &format!("lab.sh scenario {name}"));
        eprintln!("scenario {name}: {:.1} s", started.elapsed().as_secs_f64());
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The namespace of a host of this lab.
    fn ns(&self, host: &str) -> String {
        format!("{}-{host}", self.name)
    }

    /// Runs a command inside a host's namespace; its stdout.
    pub(super) fn exec(&self, host: &str, command: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.ns(host)])
            .args(command)
            .output()
            .expect("run ip netns exec");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A GET on rovgate's API (inside namespace rs), parsed as JSON.
    pub(super) fn api(&self, path: &str) -> Value {
        let url = format!("http://127.0.0.1:8080{path}");
        let body = self.exec("rs", &["curl", "-sS", "-f", "-m", "5", &url]);
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body:?}"))
    }

    /// rovgate's status entry for a peer.
    pub(super) fn peer(&self, name: &str) -> Value {
        let status = self.api("/api/v1/status");
        let peers = status["peers"].as_array().cloned().unwrap_or_default();
        let found = peers.into_iter().find(|p| p["name"] == name);
        found.unwrap_or_else(|| panic!("no peer {name} in {status}"))
    }

    /// Who answers the client's request to http://203.0.113.10/.
    pub(super) fn answer(&self) -> String {
        let body = self.exec("client", &["curl", "-s", "-m", "3", "http://203.0.113.10/"]);
        body.trim().to_string()
    }

    /// The client's kernel routes.
    pub(super) fn client_routes(&self) -> String {
        let out = Command::new("ip")
            .args(["-n", &self.ns("client"), "route", "show"])
            .output()
            .expect("run ip route");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The lab's namespaces that exist.
    pub(super) fn namespaces(&self) -> Vec<String> {
        let out = Command::new("ip").args(["netns", "list"]).output();
        let list = String::from_utf8_lossy(&out.expect("run ip netns list").stdout).into_owned();
        let prefix = format!("{}-", self.name);
        (list.lines())
            .filter_map(|l| l.split_whitespace().next())
            .filter(|n| n.starts_with(&prefix))
            .map(str::to_string)
            .collect()
    }

    /// The pids of the lab's daemons, by pid-file name.
    pub(super) fn pids(&self) -> Vec<(String, u32)> {
        let mut pids = Vec::new();
        for entry in std::fs::read_dir(&self.dir).expect("the lab's state directory") {
            let path = entry.expect("dir entry").path();
            if path.extension().is_some_and(|e| e == "pid") {
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                let pid = std::fs::read_to_string(&path).expect("pid file");
                pids.push((name, pid.trim().parse().expect("a pid")));
            }
        }
        pids.sort();
        pids
    }
}

impl Drop for LabSh {
    fn drop(&mut self) {
        let out = self.run(&["down"]);
        if !out.status.success() {
            eprintln!("lab.sh down: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}

pub(super) fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts that `lines` occur in `text` in this order (each a whole line, or a line's start
/// for a `prefix` ending in `*`).
pub(super) fn assert_in_order(text: &str, lines: &[&str]) {
    let mut rest = text.lines();
    for want in lines {
        let found = match want.strip_suffix('*') {
            Some(prefix) => rest.any(|l| l.trim_start().starts_with(prefix)),
            None => rest.any(|l| l.trim() == *want),
        };
        assert!(
            found,
            "expected {want:?} (in this order: {lines:?}) in:\n{text}"
        );
    }
}

pub(super) fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| {
        !s.lines()
            .any(|l| l.starts_with("State:") && l.contains('Z'))
    })
}
