//! The RTR server under many clients, against stayrtr on the same data.
//!
//! `cargo bench --bench rtr_server` (env `RTR_CLIENTS`, default 1000; raise `ulimit -n`
//! above twice that; `RTR_SERVERS="rovgate"` runs one of the two). For rovgate (`[[rtr_server]]` over a VRP file) and then for stayrtr
//! (`-cache` on the same file), both on loopback and re-reading the file every second:
//!
//! 1. **full reset**: N clients (RTR version 1, counting PDUs without decoding them)
//!    connect at once; time until the last has End of Data for all 424,223 real VRPs;
//! 2. **change**: 1,000 VRPs of the file change (500 withdrawn, 500 announced); time from
//!    the rename until the last client's End of Data of the serial query that follows the
//!    server's Serial Notify. This includes noticing the file (each server checks it once a
//!    second), reading and diffing it.
//!
//! Not a test: nothing is asserted but that every client got there.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::io::ErrorKind;

use rovgate::rpki::Vrp;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const REAL_VRPS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/vrps/rpki-client-2023-05-04-ripe-prepdev.json.gz"
);

fn main() {
    let clients: usize = std::env::var("RTR_CLIENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("rtr-server-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut all = rovgate::rpki::file::load(Path::new(REAL_VRPS)).expect("the real VRPs");
    all.sort_unstable();
    all.dedup();
    let changed: Vec<Vrp> = all[500..].to_vec();
    let mut changed = [changed, added(&all)].concat();
    changed.sort_unstable();
    let file = dir.join("vrps.json");
    println!("{} VRPs, {clients} clients", all.len());
    let servers = std::env::var("RTR_SERVERS").unwrap_or("rovgate stayrtr".into());
    for server in servers.split_whitespace() {
        write(&file, &all);
        let port = free_port();
        let mut child = start(server, &dir, &file, port);
        let (reset, change) = runtime.block_on(measure(port, clients, &file, &changed));
        println!("{server}: full reset to {clients} clients {reset:.2?}, 1,000-VRP change to the last client {change:.2?}");
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// 500 VRPs not in `all`: its first 500 with the origin AS moved by one.
fn added(all: &[Vrp]) -> Vec<Vrp> {
    let moved = all.iter().map(|v| Vrp {
        asn: rovgate::route::Asn(v.asn.0.wrapping_add(1)),
        ..*v
    });
    moved
        .filter(|v| all.binary_search(v).is_err())
        .take(500)
        .collect()
}

fn write(file: &Path, vrps: &[Vrp]) {
    let roas: Vec<serde_json::Value> = vrps
        .iter()
        .map(|v| {
            serde_json::json!({"prefix": v.prefix.to_string(), "maxLength": v.max_length,
                               "asn": format!("AS{}", v.asn.0)})
        })
        .collect();
    let json = serde_json::json!({"metadata": {"buildtime": "2024-01-01T00:00:00Z"}, "roas": roas});
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, json.to_string()).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn start(server: &str, dir: &Path, file: &Path, port: u16) -> Child {
    let log = std::fs::File::create(dir.join(format!("{server}.log"))).unwrap();
    let mut command = match server {
        "rovgate" => {
            let config = dir.join("rovgate.toml");
            let text = format!(
                "[server]\nasn = 64500\nrouter_id = \"192.0.2.254\"\nlisten = [\"127.0.0.1:0\"]\n\
                 [rpki]\nvrp_files = [{:?}]\nreload_seconds = 1\n\
                 [[rtr_server]]\nlisten = \"127.0.0.1:{port}\"\n",
                file.display().to_string()
            );
            std::fs::write(&config, text).unwrap();
            let mut c = Command::new(env!("CARGO_BIN_EXE_rovgate"));
            c.arg("run")
                .arg("--config")
                .arg(config)
                .env("RUST_LOG", "warn");
            c
        }
        _ => {
            let mut c = Command::new("stayrtr");
            c.arg("-cache").arg(file);
            c.args(["-checktime=false", "-refresh", "1", "-bind"]);
            c.arg(format!("127.0.0.1:{port}"));
            c.args(["-metrics.addr", &format!("127.0.0.1:{}", free_port())]);
            c
        }
    };
    let child = command.stdout(Stdio::null()).stderr(log).spawn();
    child.unwrap_or_else(|e| panic!("start {server}: {e}"))
}

/// Connects `n` clients; returns how long until every one had the full set, and how long
/// from writing `changed` to `file` until every one had the change.
async fn measure(port: u16, n: usize, file: &Path, changed: &[Vrp]) -> (Duration, Duration) {
    // Wait until the server serves the whole set to one client.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let probe = tokio::spawn(client(port, tx));
    while rx.recv().await.expect("the probe reconnects") < 400_000 {}
    probe.abort();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let started = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|_| tokio::spawn(client(port, tx.clone())))
        .collect();
    for _ in 0..n {
        rx.recv().await.expect("a client's End of Data");
    }
    let reset = started.elapsed();
    let file: PathBuf = file.into();
    let changed = changed.to_vec();
    let started = Instant::now();
    tokio::task::spawn_blocking(move || write(&file, &changed))
        .await
        .unwrap();
    for _ in 0..n {
        rx.recv().await.expect("a client's End of Data");
    }
    let change = started.elapsed();
    tasks.iter().for_each(|t| t.abort());
    (reset, change)
}

/// One RTR client: reports the number of VRPs of each update it completes; connects again
/// when the server refuses or ends the session (a server still loading answers No Data
/// Available). It reads PDU headers and counts, without decoding payloads: with the `rpki`
/// crate's client, decoding in this process set the pace at 100 clients, not the servers.
async fn client(port: u16, done: mpsc::UnboundedSender<usize>) {
    loop {
        if let Ok(sock) = TcpStream::connect(("127.0.0.1", port)).await {
            let _ = session(sock, &done).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// RTR version 1 (RFC 8210), which both servers speak; PDU types by number.
const VERSION: u8 = 1;
const SERIAL_NOTIFY: u8 = 0;
const SERIAL_QUERY: u8 = 1;
const RESET_QUERY: u8 = 2;
const END_OF_DATA: u8 = 7;
const CACHE_RESET: u8 = 8;
const ERROR_REPORT: u8 = 10;
const IPV4_PREFIX: u8 = 4;
const IPV6_PREFIX: u8 = 6;

/// One connection: a Reset Query, then a Serial Query after each Serial Notify.
async fn session(sock: TcpStream, done: &mpsc::UnboundedSender<usize>) -> std::io::Result<()> {
    let (read, mut write) = sock.into_split();
    let mut read = BufReader::with_capacity(1 << 16, read);
    write
        .write_all(&[VERSION, RESET_QUERY, 0, 0, 0, 0, 0, 8])
        .await?;
    let (mut session, mut serial, mut count) = ([0; 2], [0; 4], 0);
    let mut pdu = vec![0; 1 << 16];
    loop {
        let mut header = [0; 8];
        read.read_exact(&mut header).await?;
        let len = u32::from_be_bytes(header[4..].try_into().unwrap()) as usize;
        let body = pdu
            .get_mut(..len.saturating_sub(8))
            .ok_or(ErrorKind::InvalidData)?;
        read.read_exact(body).await?;
        match header[1] {
            IPV4_PREFIX | IPV6_PREFIX => count += 1,
            END_OF_DATA => {
                (session, serial) = ([header[2], header[3]], body[..4].try_into().unwrap());
                let _ = done.send(std::mem::take(&mut count));
            }
            SERIAL_NOTIFY => {
                let mut query = [
                    VERSION,
                    SERIAL_QUERY,
                    session[0],
                    session[1],
                    0,
                    0,
                    0,
                    12,
                    0,
                    0,
                    0,
                    0,
                ];
                query[8..].copy_from_slice(&serial);
                write.write_all(&query).await?;
            }
            CACHE_RESET => {
                write
                    .write_all(&[VERSION, RESET_QUERY, 0, 0, 0, 0, 0, 8])
                    .await?
            }
            ERROR_REPORT => return Err(ErrorKind::ConnectionRefused.into()),
            _ => {}
        }
    }
}
