//! A network namespace made by a test, with one veth pair inside it holding the test's
//! addresses (198.18.0.0/24, the benchmarking range); deleted on drop.

use std::process::Command;

/// A test's own network namespace.
pub struct Netns {
    /// Its name, for `ip netns exec`.
    pub name: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Netns {
    /// Creates namespace `rvg-NAME-PID` with `lo` up and veth `v0`/`v1`; `v0` gets the first
    /// address of `addrs` (the device under test), `v1` the rest (its peers); IPv4 as /24,
    /// IPv6 as /64.
    pub fn new(name: &str, addrs: &[&str]) -> Netns {
        let name = format!("rvg-{name}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        ip(&["netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns.ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        ns.ip(&["link", "set", "v0", "up"]);
        ns.ip(&["link", "set", "v1", "up"]);
        for (i, a) in addrs.iter().enumerate() {
            let dev = if i == 0 { "v0" } else { "v1" };
            if a.contains(':') {
                // No duplicate address detection: the address is usable at once.
                ns.ip(&["addr", "add", &format!("{a}/64"), "dev", dev, "nodad"]);
            } else {
                ns.ip(&["addr", "add", &format!("{a}/24"), "dev", dev]);
            }
        }
        ns
    }

    /// Runs `ip -n NS ARGS`.
    pub fn ip(&self, args: &[&str]) {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip(&all);
    }

    /// A command that runs inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}
