//! Rate limits for the log lines a peer, or anyone who can open a TCP connection, causes at
//! will: refused connections, malformed UPDATEs, NOTIFICATIONs of a flapping peer.
//!
//! Where it sits: the listener holds one [`LogLimit`] for refused connections, each session
//! task one per kind of line for its peer. At most [`BURST`] lines of a kind are logged per
//! [`INTERVAL`]; the first line held back says so, and the first line logged in a later
//! interval is preceded by one line with the count held back. The counters in `/metrics`
//! and the status count every event; only the log is thinned.
//!
//! Hand-written (a fixed window, a few lines): `governor` would do the counting but not the
//! "suppressed K lines" report, and the tracing layers that throttle by message text would
//! see every remote address as a different line.

use std::time::Duration;

use tokio::time::Instant;
use tracing::warn;

/// Lines of one kind logged per interval.
pub const BURST: u32 = 10;
/// The interval.
pub const INTERVAL: Duration = Duration::from_secs(60);

/// The rate limit of one kind of log line (e.g. one peer's malformed UPDATEs).
#[derive(Debug)]
pub struct LogLimit {
    what: String,
    window: Option<Instant>,
    logged: u32,
    suppressed: u64,
}

impl LogLimit {
    /// A limit for lines about `what` (named in the lines about suppression).
    pub fn new(what: impl Into<String>) -> Self {
        LogLimit {
            what: what.into(),
            window: None,
            logged: 0,
            suppressed: 0,
        }
    }

    /// Whether the caller may log one more line of this kind now.
    pub fn admit(&mut self) -> bool {
        let now = Instant::now();
        if self.window.is_none_or(|start| now >= start + INTERVAL) {
            if self.suppressed > 0 {
                warn!(lines = %self.what, suppressed = self.suppressed, "suppressed {} similar log lines", self.suppressed);
            }
            (self.window, self.logged, self.suppressed) = (Some(now), 0, 0);
        }
        if self.logged < BURST {
            self.logged += 1;
            return true;
        }
        if self.suppressed == 0 {
            warn!(lines = %self.what, "more than {BURST} similar log lines in {INTERVAL:?}: suppressing the rest for a while");
        }
        self.suppressed += 1;
        false
    }

    /// Lines held back in the current interval.
    #[cfg(test)]
    fn suppressed(&self) -> u64 {
        self.suppressed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected: BURST lines pass, the rest of the interval none; a new interval lets
    /// BURST more pass and starts counting anew.
    #[tokio::test(start_paused = true)]
    async fn admits_a_burst_per_interval() {
        let mut limit = LogLimit::new("test lines");
        let passed = (0..100).filter(|_| limit.admit()).count();
        assert_eq!(passed, BURST as usize);
        assert_eq!(limit.suppressed(), 100 - u64::from(BURST));

        tokio::time::advance(INTERVAL / 2).await;
        assert!(!limit.admit(), "still the same interval");
        assert_eq!(limit.suppressed(), 91);

        tokio::time::advance(INTERVAL / 2).await;
        let passed = (0..100).filter(|_| limit.admit()).count();
        assert_eq!(passed, BURST as usize, "a new interval");
        assert_eq!(limit.suppressed(), 90, "counted anew");
    }

    /// Expected: a trickle below the rate is never held back.
    #[tokio::test(start_paused = true)]
    async fn a_trickle_passes() {
        let mut limit = LogLimit::new("test lines");
        for _ in 0..50 {
            assert!(limit.admit());
            tokio::time::advance(INTERVAL / BURST).await;
        }
        assert_eq!(limit.suppressed(), 0);
    }
}
