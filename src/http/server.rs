//! The HTTP server: accepts connections and serves the API's router on each with hyper's
//! HTTP/1, within the `[http]` limits.
//!
//! Where it sits: under `http::serve`. At most `max_connections` connections are open at
//! once: at the limit it stops accepting, and new connections wait in the kernel's queue
//! (using no descriptor of rovgate's) until one closes. A connection that sends no
//! complete request header within `header_timeout`, counted from when it connects or its
//! last answer was sent, is closed (hyper's header-read timer starts as soon as the
//! connection waits for a request, so it is the idle keep-alive timeout too). Accept
//! errors back off (`accept.rs`). At shutdown it stops accepting, closes idle connections
//! and lets requests in flight finish.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tracing::{debug, warn};

use crate::accept::Acceptor;
use crate::config::HttpConfig;

/// How often, at most, reaching the connection limit is logged.
const FULL_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// Serves `app` on `listener` within `limits` until shutdown.
pub(super) async fn run(
    listener: TcpListener,
    app: Router,
    limits: HttpConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut listener = Acceptor::new(listener, "HTTP");
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let graceful = GracefulShutdown::new();
    let mut full_logged: Option<Instant> = None;
    loop {
        if slots.available_permits() == 0
            && full_logged.is_none_or(|at| at.elapsed() >= FULL_LOG_INTERVAL)
        {
            full_logged = Some(Instant::now());
            warn!(
                max_connections = limits.max_connections,
                "HTTP connection limit reached; new connections wait until one closes"
            );
        }
        // Either a shutdown or a dropped sender ends the server.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            _ = shutdown.changed() => break,
        };
        // The semaphore is never closed.
        let Ok(slot) = slot else { break };
        let (stream, from) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(%from, error = %e, "HTTP connection ended with an error");
            }
            drop(slot);
        });
    }
    // New connections are refused from here on.
    drop(listener);
    graceful.shutdown().await;
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(10);

    /// A server answering `GET /` with "ok", at most `max` connections; its address and
    /// the shutdown switch.
    async fn start(max: usize) -> (std::net::SocketAddr, watch::Sender<bool>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let limits = HttpConfig {
            max_connections: max,
            header_timeout: TIMEOUT,
        };
        let (stop, shutdown) = watch::channel(false);
        tokio::spawn(run(listener, app, limits, shutdown));
        (addr, stop)
    }

    /// How long a test waits for the server at most (the clock is paused: no real wait).
    const PATIENCE: Duration = Duration::from_secs(600);

    /// Sends `GET /` (keep-alive) and reads the answer; the connection stays open.
    async fn ask(stream: &mut TcpStream) -> String {
        let request = b"GET / HTTP/1.1\r\nhost: rovgate\r\n\r\n";
        stream.write_all(request).await.unwrap();
        let mut answer = vec![0; 4096];
        let read = tokio::time::timeout(PATIENCE, stream.read(&mut answer)).await;
        let n = read.expect("an answer").unwrap();
        String::from_utf8_lossy(&answer[..n]).into_owned()
    }

    /// Whether the server closed `stream` (a read sees end of file, or a reset) within
    /// `limit`.
    async fn closed(stream: &mut TcpStream, limit: Duration) -> bool {
        let mut byte = [0; 1];
        let read = tokio::time::timeout(limit, stream.read(&mut byte)).await;
        matches!(read, Ok(Ok(0) | Err(_)))
    }

    /// Expected: with one connection allowed and held by a client that sends nothing, a
    /// second client is answered only once the header timeout closed the first.
    #[tokio::test(start_paused = true)]
    async fn at_the_limit_a_client_waits_for_an_idle_one_to_time_out() {
        let (addr, _stop) = start(1).await;
        let started = tokio::time::Instant::now();
        let mut idle = TcpStream::connect(addr).await.unwrap();
        let mut second = TcpStream::connect(addr).await.unwrap();
        let answer = ask(&mut second).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("ok"), "{answer}");
        assert!(started.elapsed() >= TIMEOUT, "{:?}", started.elapsed());
        assert!(closed(&mut idle, PATIENCE).await);
    }

    /// Expected: a keep-alive connection that sends no further request is closed after
    /// the header timeout, not held open.
    #[tokio::test(start_paused = true)]
    async fn an_idle_keep_alive_connection_is_closed() {
        let (addr, _stop) = start(4).await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        let asked = tokio::time::Instant::now();
        let answer = ask(&mut client).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(closed(&mut client, PATIENCE).await);
        assert!(asked.elapsed() >= TIMEOUT, "{:?}", asked.elapsed());
    }

    /// Expected: at shutdown an idle connection is closed at once (before its header
    /// timeout), and new connections are refused.
    #[tokio::test(start_paused = true)]
    async fn shutdown_closes_idle_connections() {
        let (addr, stop) = start(4).await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        let answer = ask(&mut client).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        stop.send(true).unwrap();
        assert!(closed(&mut client, TIMEOUT / 2).await);
        assert!(TcpStream::connect(addr).await.is_err());
    }
}
