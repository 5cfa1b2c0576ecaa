//! RTR client: one task per configured RPKI cache (RFC 8210, RFC 6810, 8210bis v2).
//!
//! Where it sits: RPKI cache ──TCP/RTR──► [`run`] (this file, over the `rpki` crate's
//! [`Client`]) ──[`SourceEvent`]──► the rpki task (`mod.rs`), which merges every source in
//! `sources.rs` and publishes snapshots through `store.rs`. This task holds no VRPs: each
//! completed reset or serial query becomes one [`CacheUpdate`] sent as
//! [`SourceEvent::CacheSynced`], and a lost connection becomes [`SourceEvent::CacheDown`]
//! (the rpki task keeps the cache's data until its expire time).
//!
//! The `rpki` crate proposes version 2 and negotiates down, sends reset and serial queries,
//! and waits for Serial Notify or the refresh interval. This file adds the connection loop:
//! connect with a timeout, reconnect after the cache's retry interval, and reuse the last
//! session and serial so a reconnect can be answered with a delta instead of a full reset.
//! The crate does not expose the negotiated version, so [`CacheUpdate::version`] is `None`.

use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ipnet::IpNet;
use rpki::rtr::client::{Client, PayloadError, PayloadTarget, PayloadUpdate};
use rpki::rtr::payload::{Action, Payload, RouteOrigin, Timing};
use rpki::rtr::state::State;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, info_span, warn, Instrument};

use super::sources::{Aspa, CacheUpdate, SourceEvent};
use super::vrp::Vrp;
use super::CacheConfig;
use crate::route::Asn;

/// How long a TCP connect to a cache may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The first wait before reconnecting to a cache that has never completed a query: short,
/// so a cache that was down when rovgate started is found quickly. It doubles with every
/// failed attempt up to [`FIRST_RETRY_MAX`].
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The retry interval before the cache has told its own: RFC 8210 §6's default.
const FIRST_RETRY_MAX: Duration = Duration::from_secs(600);
/// How much longer than the refresh interval one query may take before the cache is
/// declared stalled (a cache that stops sending mid-update would otherwise hang the task).
const STEP_GRACE: Duration = Duration::from_secs(300);

/// Runs the RTR client for one cache (its events carry the id `cache`) until `shutdown`
/// changes or the task is aborted (the cache was removed by a reload): connects, reports
/// every completed query to the rpki task through `events`, and reconnects after the
/// cache's retry interval when the connection fails.
pub async fn run(
    cache: usize,
    config: CacheConfig,
    events: mpsc::Sender<SourceEvent>,
    shutdown: watch::Receiver<bool>,
) {
    let span = info_span!("rtr", cache = %config.address);
    let task = CacheTask {
        cache,
        address: config.address,
        events,
        state: None,
        timing: None,
        first_retry: FIRST_RETRY,
    };
    task.run(shutdown).instrument(span).await
}

/// Why a session with a cache ended.
#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("connect failed: {0}")]
    Connect(io::Error),
    #[error("connect timed out after {0:?}")]
    ConnectTimeout(Duration),
    #[error("connection closed by the cache")]
    Closed,
    #[error("no complete update within {0:?}")]
    Stalled(Duration),
    #[error("update rejected: {0}")]
    Rejected(String),
    #[error("the cache changed its session ID from {0:?} to {1:?} in a serial update")]
    SessionChanged(Option<u16>, Option<u16>),
    #[error("RTR error: {0}")]
    Rtr(io::Error),
    #[error("the rpki task has stopped")]
    TaskGone,
}

/// One cache's connection loop and what survives reconnects.
struct CacheTask {
    cache: usize,
    address: String,
    events: mpsc::Sender<SourceEvent>,
    /// Session and serial of the last update sent on: a reconnect asks for the delta from
    /// here. Only advanced after an update was accepted, so it always matches our data.
    state: Option<State>,
    /// Refresh, retry and expire from the last End of Data, once synced.
    timing: Option<Timing>,
    /// The next wait before reconnecting while never synced.
    first_retry: Duration,
}

impl CacheTask {
    async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        if *shutdown.borrow_and_update() {
            return;
        }
        loop {
            let error = tokio::select! {
                end = self.session() => end,
                _ = shutdown.changed() => return,
            };
            if matches!(error, SessionError::TaskGone) {
                return;
            }
            let wait = self.next_retry();
            warn!(%error, retry_in = ?wait, "RTR cache down");
            let down = SourceEvent::CacheDown {
                cache: self.cache,
                error: error.to_string(),
            };
            if self.events.send(down).await.is_err() {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// The retry interval from the last End of Data; before the first, [`FIRST_RETRY`]
    /// doubling with each call up to [`FIRST_RETRY_MAX`].
    fn next_retry(&mut self) -> Duration {
        match self.timing {
            Some(t) => Duration::from_secs(t.retry.max(1).into()),
            None => {
                let wait = self.first_retry;
                self.first_retry = (wait * 2).min(FIRST_RETRY_MAX);
                wait
            }
        }
    }

    /// Connects and runs queries until the connection fails; returns why it ended.
    async fn session(&mut self) -> SessionError {
        let sock = match self.connect().await {
            Ok(sock) => sock,
            Err(e) => return e,
        };
        info!("RTR cache connected");
        let connected = SourceEvent::CacheConnected { cache: self.cache };
        if self.events.send(connected).await.is_err() {
            return SessionError::TaskGone;
        }
        let mut client = Client::new(sock, Collector::default(), self.state);
        let mut first = true;
        loop {
            if let Err(e) = self.step(&mut client).await {
                if first {
                    // A cache that cannot answer our serial query (stayrtr restarted with a new
                    // session answers with an Error Report) gets a reset query next time.
                    self.state = None;
                }
                return e;
            }
            first = false;
            let Some(mut update) = client.target_mut().done.take() else {
                continue;
            };
            let before = self.state.map(|s| s.session());
            let after = client.state().map(|s| s.session());
            if !update.reset && before != after {
                // RFC 8210 §5.1: a session ID mismatch ends the session with Corrupt Data.
                let _ = client.send_error(PayloadError::Corrupt).await;
                self.state = None;
                return SessionError::SessionChanged(before, after);
            }
            self.state = client.state();
            update.serial = self.state.map(|s| s.serial().0);
            if let Err(e) = self.report(update).await {
                return e;
            }
        }
    }

    async fn connect(&self) -> Result<TcpStream, SessionError> {
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&self.address)).await {
            Ok(Ok(sock)) => Ok(sock),
            Ok(Err(e)) => Err(SessionError::Connect(e)),
            Err(_) => Err(SessionError::ConnectTimeout(CONNECT_TIMEOUT)),
        }
    }

    /// One query: waits for Serial Notify or the refresh interval, then asks for data.
    async fn step(&self, client: &mut Client<TcpStream, Collector>) -> Result<(), SessionError> {
        let refresh = self.timing.map_or(Duration::ZERO, |t| t.refresh_duration());
        let limit = refresh + STEP_GRACE;
        match tokio::time::timeout(limit, client.step()).await {
            Err(_) => Err(SessionError::Stalled(limit)),
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => Err(SessionError::Closed),
            Ok(Err(e)) => match client.target().rejected.get() {
                // The crate reports a rejected update as an empty error after sending the
                // cache an Error Report; the reason is what the collector recorded.
                Some(reason) => Err(SessionError::Rejected(reason.clone())),
                None if e.to_string().is_empty() => Err(SessionError::Rejected(
                    "corrupt PDU from the cache (Error Report sent)".into(),
                )),
                None => Err(SessionError::Rtr(e)),
            },
        }
    }

    /// Sends one completed query on to the rpki task.
    async fn report(&mut self, update: CacheUpdate) -> Result<(), SessionError> {
        let (refresh, retry, expire) = update.timing;
        self.timing = Some(Timing {
            refresh,
            retry,
            expire,
        });
        log_update(&update);
        let synced = SourceEvent::CacheSynced {
            cache: self.cache,
            update: Box::new(update),
        };
        self.events
            .send(synced)
            .await
            .map_err(|_| SessionError::TaskGone)
    }
}

/// Logs a completed query: info when it changed something, debug when it did not.
fn log_update(u: &CacheUpdate) {
    let changes =
        u.announced.len() + u.withdrawn.len() + u.aspa_announced.len() + u.aspa_withdrawn.len();
    if !u.reset && changes == 0 {
        debug!(serial = ?u.serial, "RTR serial query: no changes");
        return;
    }
    let (refresh, retry, expire) = u.timing;
    info!(
        serial = ?u.serial,
        reset = u.reset,
        announced = u.announced.len(),
        withdrawn = u.withdrawn.len(),
        aspas_announced = u.aspa_announced.len(),
        aspas_withdrawn = u.aspa_withdrawn.len(),
        refresh, retry, expire,
        "RTR update applied"
    );
    if u.reset && !(u.withdrawn.is_empty() && u.aspa_withdrawn.is_empty()) {
        // Withdrawals mean nothing in a reset. stayrtr 0.5.1 sends ASPA PDUs of 8210bis-10,
        // whose flags sit where the `rpki` crate's later draft has none: they decode as
        // withdrawals of a wrong customer AS, and are ignored here.
        warn!(
            withdrawn = u.withdrawn.len(),
            aspas_withdrawn = u.aspa_withdrawn.len(),
            "cache sent withdrawals in a reset response (ASPA PDU of another 8210bis draft?)"
        );
    }
}

/// The [`PayloadTarget`] the crate's client fills: holds the last completed update until
/// the task sends it on.
#[derive(Debug, Default)]
struct Collector {
    /// The last update applied, not yet sent on.
    done: Option<CacheUpdate>,
    /// Why an update of this connection was rejected, for the error the task reports.
    rejected: Arc<OnceLock<String>>,
}

impl PayloadTarget for Collector {
    type Update = PendingUpdate;

    fn start(&mut self, reset: bool) -> PendingUpdate {
        PendingUpdate {
            update: CacheUpdate {
                reset,
                ..CacheUpdate::default()
            },
            rejected: self.rejected.clone(),
        }
    }

    fn apply(&mut self, pending: PendingUpdate, timing: Timing) -> Result<(), PayloadError> {
        let mut update = pending.update;
        update.timing = (timing.refresh, timing.retry, timing.expire);
        self.done = Some(update);
        Ok(())
    }
}

/// One update while the cache is sending it (Cache Response up to End of Data).
#[derive(Debug)]
struct PendingUpdate {
    update: CacheUpdate,
    rejected: Arc<OnceLock<String>>,
}

impl PayloadUpdate for PendingUpdate {
    fn push_update(&mut self, action: Action, payload: Payload) -> Result<(), PayloadError> {
        let u = &mut self.update;
        match payload {
            Payload::Origin(origin) => {
                let vrp = to_vrp(origin).map_err(|reason| {
                    let _ = self.rejected.set(reason);
                    PayloadError::Corrupt
                })?;
                match action {
                    Action::Announce => u.announced.push(vrp),
                    Action::Withdraw => u.withdrawn.push(vrp),
                }
            }
            Payload::Aspa(aspa) => match action {
                Action::Announce => u.aspa_announced.push(Aspa {
                    customer: Asn(aspa.customer.into_u32()),
                    providers: aspa.providers.iter().map(|a| Asn(a.into_u32())).collect(),
                }),
                Action::Withdraw => u.aspa_withdrawn.push(Asn(aspa.customer.into_u32())),
            },
            // BGPsec router keys are not used by rovgate.
            Payload::RouterKey(_) => {}
        }
        Ok(())
    }
}

/// Converts a route origin from the wire into a [`Vrp`]; the error names the bad payload.
fn to_vrp(origin: RouteOrigin) -> Result<Vrp, String> {
    let (addr, len) = (origin.prefix.addr(), origin.prefix.prefix_len());
    let max_length = origin.prefix.resolved_max_len();
    let asn = Asn(origin.asn.into_u32());
    // The crate already refuses a max length outside the prefix's range when it parses the
    // PDU (and then sends the Error Report itself); these checks keep that a guarantee here.
    let prefix = IpNet::new(addr, len).map_err(|e| format!("{addr}/{len} {asn}: {e}"))?;
    Vrp::new(prefix, max_length, asn).map_err(|e| format!("{prefix} {asn}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rpki::resources::{MaxLenPrefix, Prefix};

    fn origin(prefix: &str, max_len: u8, asn: u32) -> RouteOrigin {
        let prefix: Prefix = prefix.parse().unwrap();
        let prefix = MaxLenPrefix::saturating_new(prefix, Some(max_len));
        RouteOrigin::new(prefix, asn.into())
    }

    /// Announcements and withdrawals of route origins and ASPAs land in the update; router
    /// keys are ignored.
    #[test]
    fn collects_origins_and_aspas() {
        let mut target = Collector::default();
        let mut pending = target.start(false);
        let announce = Payload::Origin(origin("192.0.2.0/24", 24, 64496));
        let withdraw = Payload::Origin(origin("2001:db8::/32", 48, 64497));
        pending.push_update(Action::Announce, announce).unwrap();
        pending.push_update(Action::Withdraw, withdraw).unwrap();
        let providers = rpki::rtr::pdu::ProviderAsns::try_from_iter([64500u32.into()]).unwrap();
        let aspa = rpki::rtr::payload::Aspa::new(64496u32.into(), providers);
        pending
            .push_update(Action::Announce, Payload::Aspa(aspa.clone()))
            .unwrap();
        pending
            .push_update(Action::Withdraw, Payload::Aspa(aspa.withdraw()))
            .unwrap();
        let timing = Timing {
            refresh: 1,
            retry: 2,
            expire: 3,
        };
        target.apply(pending, timing).unwrap();
        let u = target.done.take().unwrap();
        assert!(!u.reset);
        assert_eq!(u.timing, (1, 2, 3));
        let vrp = |p: &str, m, a| Vrp::new(p.parse().unwrap(), m, Asn(a)).unwrap();
        assert_eq!(u.announced, vec![vrp("192.0.2.0/24", 24, 64496)]);
        assert_eq!(u.withdrawn, vec![vrp("2001:db8::/32", 48, 64497)]);
        let expected = Aspa {
            customer: Asn(64496),
            providers: vec![Asn(64500)],
        };
        assert_eq!(u.aspa_announced, vec![expected]);
        assert_eq!(u.aspa_withdrawn, vec![Asn(64496)]);
    }
}
