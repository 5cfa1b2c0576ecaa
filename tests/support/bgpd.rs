//! OpenBGPD started by a test in the foreground, with its own control socket; stopped on drop.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `bgpd -d`.
pub struct Bgpd {
    child: Child,
    sock: PathBuf,
    dir: PathBuf,
}

impl Bgpd {
    /// Starts bgpd; `config` may use `SOCKET` where the control socket path goes.
    pub fn start(name: &str, config: &str) -> Bgpd {
        let dir = super::scratch_dir(&format!("bgpd-{name}"));
        fs::create_dir_all("/run/openbgpd").expect("create bgpd's chroot /run/openbgpd");
        let sock = dir.join("bgpd.sock");
        let file = dir.join("bgpd.conf");
        fs::write(&file, config.replace("SOCKET", &sock.display().to_string())).unwrap();
        let log = fs::File::create(dir.join("bgpd.log")).unwrap();
        let child = Command::new("bgpd")
            .arg("-d")
            .arg("-f")
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start bgpd");
        let bgpd = Bgpd { child, sock, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !bgpd.bgpctl("show").contains("Neighbor") {
            assert!(
                Instant::now() < deadline,
                "bgpd did not start: {}",
                bgpd.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        bgpd
    }

    /// Runs a `bgpctl` command and returns its output.
    pub fn bgpctl(&self, command: &str) -> String {
        let out = Command::new("bgpctl")
            .arg("-s")
            .arg(&self.sock)
            .args(command.split_whitespace())
            .output()
            .expect("run bgpctl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// bgpd's log.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("bgpd.log")).unwrap_or_default()
    }
}

impl Drop for Bgpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
