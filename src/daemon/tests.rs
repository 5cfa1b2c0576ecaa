use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

/// A config with one passive peer (127.0.0.2) and no VRP source; where it listens is
/// the test's choice.
const CONFIG: &str = r#"
[server]
asn = 64500
router_id = "192.0.2.254"
listen = ["127.0.0.1:179"]

[[peer]]
name = "member"
address = "127.0.0.2"
asn = 64496
role = "rs-client"
passive = true
"#;

/// How long a step may take at most before the test fails.
const PATIENCE: Duration = Duration::from_secs(10);

/// Everything the server sends on `stream` until it closes it.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer)).await;
    read.expect("closed in time").expect("read");
    answer
}

/// Expected: a daemon started on listeners bound to port 0 names the ports it got, is
/// ready at once (its status lists the configured peer; a connection from an address that
/// is no peer gets NOTIFICATION Cease / Connection Rejected), and once shut down no longer
/// accepts BGP connections.
#[tokio::test]
async fn a_daemon_on_port_0_serves_at_once_and_stops() {
    let config = Config::parse(CONFIG, Path::new("daemon-test.toml")).expect("valid config");
    let listeners = Listeners {
        bgp: vec![TcpListener::bind("127.0.0.1:0").await.unwrap()],
        http: Some(TcpListener::bind("127.0.0.1:0").await.unwrap()),
        bmp: Vec::new(),
        rtr: Vec::new(),
    };
    let daemon = start(&config, listeners).expect("started");
    let (bgp, http) = (daemon.bgp[0], daemon.http.expect("HTTP serves"));
    assert_ne!(bgp.port(), 0);
    assert_ne!(http.port(), 0);

    let mut client = TcpStream::connect(http).await.unwrap();
    let request =
        format!("GET /api/v1/status HTTP/1.1\r\nhost: {http}\r\nconnection: close\r\n\r\n");
    client.write_all(request.as_bytes()).await.unwrap();
    let answer = String::from_utf8(read_to_close(&mut client).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""name":"member""#), "{answer}");

    let mut stranger = TcpStream::connect(bgp).await.unwrap();
    let notification = read_to_close(&mut stranger).await;
    // Marker, length, type 3 (NOTIFICATION), code 6 (Cease), subcode 5 (Connection Rejected).
    assert_eq!(notification.get(16..21), Some(&[0, 21, 3, 6, 5][..]));

    daemon.shutdown().await;
    assert!(TcpStream::connect(bgp).await.is_err());
}
