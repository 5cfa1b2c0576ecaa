//! Shared helpers for integration tests: real external tools (stayrtr) started and stopped
//! by the test, and bounded waits.
//!
//! `tests/main.rs` declares it once for every test module.

pub mod ars;
pub mod bgpd;
pub mod bird;
pub mod chromium;
pub mod daemon;
pub mod exabgp;
pub mod frr;
pub mod gobgpd;
pub mod lab;
pub mod netns;
pub mod prom;
pub mod raw_peer;
pub mod table;

use std::fmt::Write as _;
use std::fs;
use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rovgate::rpki::{CacheConfig, RpkiConfig, Vrp};

/// Whether every tool in `tools` is on PATH; see [`absent`] for a missing one.
pub fn tools_present(tools: &[&str]) -> bool {
    let on_path = |tool: &&str| {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
    };
    match tools.iter().find(|tool| !on_path(tool)) {
        None => true,
        Some(tool) => absent(&format!("the tool `{tool}`")),
    }
}

/// What a test needs (`what`: a tool, root, a file) is missing. Under CI (`CI` set, where
/// every tool is installed) that is a broken setup: panics naming it. Elsewhere prints a
/// note and returns false, and the test returns early without checking anything.
pub fn absent(what: &str) -> bool {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is missing, and CI is set: install it (see the README's test script)");
    }
    eprintln!("note: {what} is missing: this test did not run (it fails when CI is set)");
    false
}

/// Sends rovgate's logs to the test's output (shown for failing tests, or with
/// `--nocapture`); `RUST_LOG` overrides the default `info`.
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// A TCP port for a program that takes its listen port from its config or arguments (BIRD,
/// OpenBGPD, GoBGP, ExaBGP, stayrtr, `rovgate replay`'s sink): the test must name the port
/// before the program starts, and a socket cannot be held for another process to take
/// over, so the port is free but not held. rovgate itself binds port 0 (see `daemon.rs`).
///
/// To keep the gap safe, the port is never one the kernel hands out by itself (it comes
/// from below the ephemeral range, `net.ipv4.ip_local_port_range`, so no outgoing
/// connection or port-0 bind takes it meanwhile), it is reserved for the life of the test
/// process by holding UDP port 127.0.0.1:PORT (TCP's ports are apart, so the program can
/// bind it; no test, in this process or another test binary running at the same time, gets
/// it twice), and it was free for TCP on 127.0.0.1 when handed out.
pub fn free_port() -> u16 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    static HELD: Mutex<Vec<UdpSocket>> = Mutex::new(Vec::new());
    const LOWEST: u16 = 10_000;
    let range = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range");
    let ephemeral = range
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse().ok());
    let span = usize::from(ephemeral.unwrap_or(32_768u16).saturating_sub(LOWEST).max(1));
    // Test processes start at different places, so they seldom try the same ports.
    let first = std::process::id() as usize;
    for _ in 0..span {
        let port = LOWEST + ((first + NEXT.fetch_add(1, Ordering::Relaxed)) % span) as u16;
        let Ok(reserved) = UdpSocket::bind(("127.0.0.1", port)) else {
            continue;
        };
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            HELD.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(reserved);
            return port;
        }
    }
    panic!("no free port left below the ephemeral range");
}

/// A fresh, empty directory under the system temp dir, named after `name`.
pub fn scratch_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rovgate-{name}-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Polls `done` every 50 ms until it returns true; panics naming `what` after `secs`
/// seconds.
pub async fn wait_for(what: &str, secs: u64, done: impl FnMut() -> bool) {
    if !eventually(secs, done).await {
        panic!("timed out after {secs} s waiting for: {what}");
    }
}

/// Polls `done` every 50 ms until it returns true (true) or `secs` seconds pass (false),
/// for a caller whose assertion shows what it found instead.
pub async fn eventually(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

/// A VRP from its parts; panics on a bad literal.
pub fn vrp(prefix: &str, max_length: u8, asn: u32) -> Vrp {
    let prefix = prefix.parse().expect("prefix literal");
    Vrp::new(prefix, max_length, rovgate::route::Asn(asn)).expect("VRP literal")
}

/// VRPs as rpki-client JSON (no `expires`, which stayrtr would honour).
pub fn vrp_json(vrps: &[Vrp]) -> String {
    let mut out =
        String::from("{\"metadata\": {\"buildtime\": \"2024-01-01T00:00:00Z\"},\n\"roas\": [\n");
    for (i, v) in vrps.iter().enumerate() {
        let sep = if i + 1 < vrps.len() { "," } else { "" };
        let (p, m, a) = (v.prefix, v.max_length, v.asn.0);
        let _ = writeln!(
            out,
            "{{\"prefix\": \"{p}\", \"maxLength\": {m}, \"asn\": \"AS{a}\"}}{sep}"
        );
    }
    out.push_str("]}\n");
    out
}

/// An RPKI config with only these RTR caches, as (address, preference).
pub fn rtr_config(caches: &[(String, u32)]) -> RpkiConfig {
    RpkiConfig {
        vrp_files: Vec::new(),
        slurm: Vec::new(),
        caches: caches
            .iter()
            .map(|(address, preference)| CacheConfig {
                address: address.clone(),
                preference: *preference,
            })
            .collect(),
        reload: Duration::from_secs(1),
        startup_wait: Duration::from_secs(30),
    }
}

/// The RTR timing a stayrtr sends in End of Data (`-rtr.refresh/-rtr.retry/-rtr.expire`).
#[derive(Clone, Copy, Debug)]
pub struct RtrTiming {
    /// Seconds between the client's serial queries.
    pub refresh: u32,
    /// Seconds the client waits before reconnecting.
    pub retry: u32,
    /// Seconds the client may keep data without a successful query.
    pub expire: u32,
}

impl Default for RtrTiming {
    /// Fast refresh and retry for tests; expire long enough not to matter.
    fn default() -> Self {
        RtrTiming {
            refresh: 1,
            retry: 1,
            expire: 600,
        }
    }
}

/// A real stayrtr serving a JSON VRP file on 127.0.0.1; killed when dropped.
///
/// stayrtr re-reads the file every second (`-refresh 1`) and sends Serial Notify, so
/// [`Stayrtr::rewrite`] changes what the cache serves mid-test.
pub struct Stayrtr {
    child: Option<Child>,
    dir: PathBuf,
    file: PathBuf,
    log: PathBuf,
    port: u16,
    metrics_port: u16,
    timing: RtrTiming,
    /// The second of the last start (see [`Stayrtr::restart`]).
    started: Option<u64>,
}

/// The current time in whole seconds since the Unix epoch.
pub fn unix_seconds() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |d| d.as_secs())
}

/// How long stayrtr may take to load a file (the full set takes a few seconds).
const LOAD_LIMIT: Duration = Duration::from_secs(120);

impl Stayrtr {
    /// Starts stayrtr serving `vrps` with the default test timing.
    pub fn start(vrps: &[Vrp]) -> Self {
        Self::start_json(&vrp_json(vrps), RtrTiming::default())
    }

    /// Starts stayrtr serving `json` (rpki-client format) with `timing`; returns once the
    /// file is loaded and the server listens.
    pub fn start_json(json: &str, timing: RtrTiming) -> Self {
        let dir = scratch_dir("stayrtr");
        let file = dir.join("vrps.json");
        fs::write(&file, json).expect("write VRP file");
        let mut cache = Stayrtr {
            child: None,
            log: dir.join("stayrtr.log"),
            dir,
            file,
            port: free_port(),
            metrics_port: free_port(),
            timing,
            started: None,
        };
        cache.restart();
        cache
    }

    /// `127.0.0.1:PORT`, the address to configure as an RTR cache.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills stayrtr; the port stays reserved for [`Stayrtr::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// (Re)starts stayrtr on the same ports and file; returns once it serves the file.
    ///
    /// stayrtr derives its session ID from the start time in seconds, so a restart within
    /// the same second would resume the old session; this waits for the next second so a
    /// restarted cache has a new session, as a real restart does.
    pub fn restart(&mut self) {
        self.stop();
        while self.started == Some(unix_seconds()) {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.started = Some(unix_seconds());
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open stayrtr log");
        let err = log.try_clone().expect("clone log handle");
        let t = self.timing;
        let child = Command::new("stayrtr")
            .arg("-cache")
            .arg(&self.file)
            .args(["-checktime=false", "-refresh", "1"])
            .args(["-bind", &self.address()])
            .args(["-metrics.addr", &format!("127.0.0.1:{}", self.metrics_port)])
            .args(["-rtr.refresh", &t.refresh.to_string()])
            .args(["-rtr.retry", &t.retry.to_string()])
            .args(["-rtr.expire", &t.expire.to_string()])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .expect("spawn stayrtr");
        self.child = Some(child);
        self.wait_log("Server started", 1);
    }

    /// Atomically replaces the served file (temp file + rename); returns once stayrtr has
    /// loaded it. The new content must differ from the old.
    pub fn rewrite(&mut self, vrps: &[Vrp]) {
        let loads = self.log_count("Updated added, new serial");
        let tmp = self.dir.join("vrps.json.tmp");
        fs::write(&tmp, vrp_json(vrps)).expect("write VRP temp file");
        fs::rename(&tmp, &self.file).expect("rename VRP file");
        self.wait_log("Updated added, new serial", loads + 1);
    }

    /// The log so far, for failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn log_count(&self, line: &str) -> usize {
        self.log().matches(line).count()
    }

    /// Blocks until `line` occurs `count` times in the log; panics if stayrtr exits or
    /// `LOAD_LIMIT` passes.
    fn wait_log(&mut self, line: &str, count: usize) {
        let deadline = Instant::now() + LOAD_LIMIT;
        while self.log_count(line) < count {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                panic!("stayrtr exited ({status}):\n{}", self.log());
            }
            if Instant::now() > deadline {
                panic!(
                    "stayrtr did not log {line:?} within {LOAD_LIMIT:?}:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Stayrtr {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_dir_all(&self.dir);
    }
}
