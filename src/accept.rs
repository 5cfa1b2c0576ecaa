//! Accepting TCP connections without spinning when `accept` fails.
//!
//! Where it sits: under the BGP listener (`bgp/listener.rs`), the HTTP server
//! (`http/server.rs`) and the replay tool's RTR server (`replay/churn/server.rs`). When
//! rovgate runs out of file descriptors, `accept` fails at once with EMFILE for as long
//! as the connection waits in the kernel's queue; retrying at once turns that into a busy
//! loop and a flood of log lines. An [`Acceptor`] waits instead:
//! 1 s after the first failure, doubling with every failure in a row up to
//! [`MAX_BACKOFF`], back to 1 s after a connection is accepted (as tokio's mini-redis
//! does). It logs one line per wait, naming how long it waits, so the log is bounded too.
//! Errors of one connection (reset or aborted before it was accepted) are skipped at
//! once: they say nothing about the next one.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, warn};

/// The wait after the first failed accept.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// The longest wait between accepts that fail in a row. A connection waiting in the
/// kernel's queue when descriptors free up is taken at most this late: well inside a BGP
/// peer's OpenSent hold time (4 minutes, RFC 4271 8.2.2) and common HTTP client timeouts
/// (30 s), while the log gets at most about four lines a minute per listener.
pub const MAX_BACKOFF: Duration = Duration::from_secs(16);

/// A TCP listener whose [`Acceptor::accept`] backs off while accepting fails.
pub struct Acceptor {
    listener: TcpListener,
    /// Which listener, for the log (`BGP`, `HTTP`).
    name: &'static str,
    backoff: Backoff,
}

impl Acceptor {
    /// Wraps `listener`; `name` says which one in log lines.
    pub fn new(listener: TcpListener, name: &'static str) -> Self {
        Acceptor {
            listener,
            name,
            backoff: Backoff::default(),
        }
    }

    /// The next connection; waits out failures (see the module doc). Cancel-safe: dropping
    /// the future loses no connection.
    pub async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            match self.listener.accept().await {
                Ok(accepted) => {
                    self.backoff.reset();
                    return accepted;
                }
                Err(e) if is_connection_error(&e) => {
                    debug!(listener = self.name, error = %e, "a connection failed before it was accepted");
                }
                Err(e) => {
                    let wait = self.backoff.fail();
                    warn!(
                        listener = self.name,
                        error = %e,
                        wait_seconds = wait.as_secs(),
                        "accepting a connection failed; waiting before the next try"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

/// Errors of one connection that leave the listener fine.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// The wait after each failure in a row: [`FIRST_BACKOFF`], doubling, at most
/// [`MAX_BACKOFF`].
#[derive(Debug, Default)]
struct Backoff {
    /// The last wait; none after a success.
    last: Option<Duration>,
}

impl Backoff {
    /// Records a failure; returns how long to wait.
    fn fail(&mut self) -> Duration {
        let wait = match self.last {
            None => FIRST_BACKOFF,
            Some(last) => (last * 2).min(MAX_BACKOFF),
        };
        self.last = Some(wait);
        wait
    }

    /// Records a success: the next failure waits [`FIRST_BACKOFF`] again.
    fn reset(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_restart_after_a_success() {
        let mut backoff = Backoff::default();
        let waits: Vec<u64> = (0..7).map(|_| backoff.fail().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 16, 16]);
        backoff.reset();
        assert_eq!(backoff.fail(), FIRST_BACKOFF);
        assert_eq!(backoff.fail(), Duration::from_secs(2));
    }

    #[test]
    fn only_errors_of_one_connection_are_skipped_at_once() {
        use io::ErrorKind::*;
        let cases = [
            (io::Error::from(ConnectionAborted), true),
            (io::Error::from(ConnectionReset), true),
            (io::Error::from(ConnectionRefused), true),
            // EMFILE (too many open files) and ENFILE: the process or system is out of
            // descriptors, and so is the next try.
            (io::Error::from_raw_os_error(24), false),
            (io::Error::from_raw_os_error(23), false),
        ];
        for (e, skipped) in cases {
            assert_eq!(is_connection_error(&e), skipped, "{e}");
        }
    }
}
