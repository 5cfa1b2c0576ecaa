//! FRR's `bgpd` started by a test, alone (no zebra: `-Z`), as user `frr`: with the BMP
//! module (`-M bmp`) inside a network namespace the test made, or with the RPKI module
//! (`-M rpki`, package frr-rpki-rtrlib) as an RTR client that listens for no BGP peer;
//! killed on drop.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::process::{Child, Stdio};

use ipnet::IpNet;
use serde_json::Value;

use super::netns::command_in;

/// A running FRR `bgpd`.
pub struct Frr {
    child: Child,
    dir: PathBuf,
    netns: Option<String>,
}

impl Frr {
    /// Starts bgpd with the BMP module in `netns` with `config` (FRR's integrated config
    /// syntax), listening on `listen` port 179.
    pub fn start(netns: &str, listen: &str, config: &str) -> Frr {
        Frr::spawn(Some(netns), &["-M", "bmp", "-l", listen], config)
    }

    /// Starts bgpd with the RPKI module, listening for no BGP peer (`-p 0`), with `config`
    /// (its `rpki` block names the caches).
    pub fn rtr_client(config: &str) -> Frr {
        Frr::spawn(None, &["-M", "rpki", "-p", "0"], config)
    }

    /// Whether FRR's RPKI module (package frr-rpki-rtrlib) is installed; see
    /// [`super::absent`] for when it is not.
    pub fn rpki_module_present() -> bool {
        let libs = fs::read_dir("/usr/lib").into_iter().flatten().flatten();
        let module = |dir: PathBuf| dir.join("frr/modules/bgpd_rpki.so").is_file();
        libs.map(|entry| entry.path()).any(module)
            || super::absent("FRR's RPKI module (package frr-rpki-rtrlib)")
    }

    fn spawn(netns: Option<&str>, args: &[&str], config: &str) -> Frr {
        let dir = super::scratch_dir("frr");
        // bgpd runs as user frr (its vty needs group frrvty): its pid file and vty socket
        // go here.
        fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        let file = dir.join("bgpd.conf");
        fs::write(&file, config).unwrap();
        let log = fs::File::create(dir.join("bgpd.log")).unwrap();
        let child = command_in(netns, "/usr/lib/frr/bgpd")
            .args(args)
            .args(["-Z", "-u", "frr", "-g", "frr"])
            .arg("-f")
            .arg(&file)
            .arg("-i")
            .arg(dir.join("bgpd.pid"))
            .arg("--vty_socket")
            .arg(&dir)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start FRR bgpd");
        Frr {
            child,
            dir,
            netns: netns.map(str::to_string),
        }
    }

    /// The output of `vtysh -c COMMAND` (stderr appended).
    pub fn vtysh(&self, command: &str) -> String {
        let out = command_in(self.netns.as_deref(), "vtysh")
            .arg("--vty_socket")
            .arg(&self.dir)
            .args(["-c", command])
            .output()
            .expect("run vtysh");
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    /// The VRPs FRR's RTR client holds (`show rpki prefix-table json`), as
    /// `prefix-maxlen ASn` lines; none while it has no connection to a cache.
    pub fn rpki_prefixes(&self) -> BTreeSet<String> {
        let out = self.vtysh("show rpki prefix-table json");
        let json: Value = serde_json::from_str(&out).unwrap_or_default();
        let prefixes = json["prefixes"].as_array().cloned().unwrap_or_default();
        let line = |p: &Value| {
            let (len, max) = (p["prefixLenMin"].as_u64()?, &p["prefixLenMax"]);
            let prefix: IpNet = format!("{}/{len}", p["prefix"].as_str()?).parse().ok()?;
            Some(format!("{prefix}-{max} AS{}", p["asn"]))
        };
        prefixes.iter().filter_map(line).collect()
    }

    /// bgpd's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("bgpd.log")).unwrap_or_default()
    }
}

impl Drop for Frr {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
