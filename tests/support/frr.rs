//! FRR's `bgpd` started by a test, alone (no zebra: `-Z`), with the BMP module loaded
//! (`-M bmp`), as user `frr`, inside a network namespace the test made; killed on drop.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Stdio};

use super::netns::command_in;

/// A running FRR `bgpd`.
pub struct Frr {
    child: Child,
    dir: PathBuf,
    netns: String,
}

impl Frr {
    /// Starts bgpd in `netns` with `config` (FRR's integrated config syntax), listening on
    /// `listen` port 179.
    pub fn start(netns: &str, listen: &str, config: &str) -> Frr {
        let dir = super::scratch_dir("frr");
        // bgpd runs as user frr (its vty needs group frrvty): its pid file and vty socket
        // go here.
        fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        let file = dir.join("bgpd.conf");
        fs::write(&file, config).unwrap();
        let log = fs::File::create(dir.join("bgpd.log")).unwrap();
        let child = command_in(Some(netns), "/usr/lib/frr/bgpd")
            .args(["-M", "bmp", "-Z", "-u", "frr", "-g", "frr", "-l", listen])
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
            netns: netns.to_string(),
        }
    }

    /// The output of `vtysh -c COMMAND` (stderr appended).
    pub fn vtysh(&self, command: &str) -> String {
        let out = command_in(Some(&self.netns), "vtysh")
            .arg("--vty_socket")
            .arg(&self.dir)
            .args(["-c", command])
            .output()
            .expect("run vtysh");
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
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
