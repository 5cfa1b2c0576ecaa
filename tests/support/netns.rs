//! A network namespace made by a test, with one veth pair inside it holding the test's
//! addresses (198.18.0.0/24, the benchmarking range); deleted on drop.

use std::process::Command;

/// `program`, run inside namespace `netns` (`ip netns exec`) when given.
pub fn command_in(netns: Option<&str>, program: &str) -> Command {
    match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, program]);
            c
        }
        None => Command::new(program),
    }
}

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
        let ns = Netns::create(name);
        ns.ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        ns.up_with("v0", &addrs[..1]);
        ns.up_with("v1", &addrs[1..]);
        ns
    }

    /// Two namespaces joined by a veth pair: `rvg-NAME-dut-PID` whose `v0` holds `dut` (the
    /// device under test) and `rvg-NAME-lan-PID` whose `v1` holds `peers`. A router that
    /// wants its peers on a directly connected network (BIRD without `multihop`) needs
    /// them in another namespace: in its own, they would be local addresses.
    pub fn pair(name: &str, dut: &str, peers: &[&str]) -> (Netns, Netns) {
        let (device, lan) = (
            Netns::create(&format!("{name}-dut")),
            Netns::create(&format!("{name}-lan")),
        );
        let v1 = [
            "link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns",
        ];
        device.ip(&[&v1[..], &[lan.name.as_str()]].concat());
        device.up_with("v0", &[dut]);
        lan.up_with("v1", peers);
        (device, lan)
    }

    /// A fresh namespace `rvg-NAME-PID` with `lo` up.
    fn create(name: &str) -> Netns {
        let name = format!("rvg-{name}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        ip(&["netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// Sets `dev` up with `addrs`: IPv4 as /24, IPv6 as /64.
    fn up_with(&self, dev: &str, addrs: &[&str]) {
        self.ip(&["link", "set", dev, "up"]);
        for a in addrs {
            if a.contains(':') {
                // No duplicate address detection: the address is usable at once.
                self.ip(&["addr", "add", &format!("{a}/64"), "dev", dev, "nodad"]);
            } else {
                self.ip(&["addr", "add", &format!("{a}/24"), "dev", dev]);
            }
        }
    }

    /// Runs `ip -n NS ARGS`.
    pub fn ip(&self, args: &[&str]) {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip(&all);
    }

    /// A command that runs inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        command_in(Some(&self.name), program)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}
