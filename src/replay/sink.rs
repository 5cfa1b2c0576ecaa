//! The sink: one BGP speaker that receives what the device under test passes on and tells
//! when every expected prefix has arrived.
//!
//! Where it sits: `replay::replay` sets it up before the feeders start. It either connects
//! to the device (`Endpoint::Connect`) or waits for the device to connect
//! (`Endpoint::Listen`), decodes each UPDATE with `bgp::wire::decode_update`, and keeps the
//! set of expected prefixes currently announced (an announcement adds, a withdrawal or a
//! treat-as-withdraw removes). The moment the set is complete is the end of convergence.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use foldhash::{HashMap, HashSet};
use ipnet::IpNet;
use tokio::io::AsyncWriteExt;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::prefix_set::PrefixSet;
use super::speaker::{self, Endpoint, ReplaySession};
use super::ReplayError;
use crate::bgp::open::LocalSpeaker;
use crate::bgp::wire::attr::{RawAttrs, MP_UNREACH};
use crate::bgp::wire::{self, MessageType};
use crate::route::{Asn, Attrs, Export, Family, Update};

/// Who the sink is.
#[derive(Clone, Debug)]
pub struct SinkConfig {
    /// The sink's AS.
    pub asn: u32,
    /// Its BGP Identifier.
    pub router_id: Ipv4Addr,
    /// The hold time to propose, seconds.
    pub hold_time: u16,
    /// Keep every received route (prefix → attributes) for the caller to check.
    pub keep_routes: bool,
}

/// Counters shared with whoever shows progress: expected prefixes present at the sink.
#[derive(Debug, Default)]
pub struct Progress {
    /// Expected prefixes currently announced to the sink.
    pub received: AtomicU64,
    /// Expected prefixes in all.
    pub expected: AtomicU64,
}

/// What the sink saw, once stopped.
#[derive(Debug, Default)]
pub struct SinkReport {
    /// When the last expected prefix arrived (`None`: not all arrived).
    pub complete_at: Option<Instant>,
    /// Expected prefixes announced when the last of them arrived (all of them), or when the
    /// sink was stopped without them all. Later updates (the device's withdrawals as the
    /// feeders close) do not change it; the counters below run until the sink is stopped.
    pub present: usize,
    /// UPDATE messages received.
    pub updates: u64,
    /// Prefixes announced (repeats counted).
    pub announced: u64,
    /// Prefixes withdrawn (repeats counted; treat-as-withdraw included).
    pub withdrawn: u64,
    /// Announcements of prefixes that were not expected (the device's own routes).
    pub unexpected: u64,
    /// Prefixes announced with attributes the codec refuses (RFC 7606 treat-as-withdraw,
    /// such as a path with AS 0): they arrived, but count as withdrawn.
    pub malformed: HashSet<IpNet>,
    /// Families whose End-of-RIB arrived.
    pub end_of_rib: Vec<Family>,
    /// The routes announced at the end, when `SinkConfig::keep_routes`.
    pub routes: Option<HashMap<IpNet, Attrs>>,
}

/// An Established sink, not reading yet.
pub struct Sink {
    session: ReplaySession,
    keep_routes: bool,
}

/// A running sink: `complete` fires with the time the last expected prefix arrived.
pub struct SinkHandle {
    /// Fires once every expected prefix is announced.
    pub complete: oneshot::Receiver<Instant>,
    /// Ends with the report after `stop`, or with the error that ended the session.
    pub task: JoinHandle<Result<SinkReport, ReplayError>>,
}

impl Sink {
    /// Sets up the session (retrying while the device refuses, until `deadline`).
    pub(crate) async fn establish(
        endpoint: &Endpoint<'_>,
        config: &SinkConfig,
        deadline: Instant,
    ) -> Result<Sink, ReplayError> {
        let who = format!("sink {}", IpAddr::V4(config.router_id));
        let mut local = LocalSpeaker::new(Asn(config.asn), config.router_id);
        local.hold_time = config.hold_time;
        let session = speaker::establish(endpoint, &local, &who, deadline).await?;
        Ok(Sink {
            session,
            keep_routes: config.keep_routes,
        })
    }

    /// The families the device agreed to.
    pub fn families(&self) -> &[Family] {
        &self.session.negotiated.families
    }

    /// Starts reading UPDATEs until `stop`.
    pub fn start(
        self,
        expected: Arc<PrefixSet>,
        progress: Arc<Progress>,
        stop: watch::Receiver<bool>,
    ) -> SinkHandle {
        let (done, complete) = oneshot::channel();
        progress
            .expected
            .store(expected.len() as u64, Ordering::Relaxed);
        progress.received.store(0, Ordering::Relaxed);
        let state = State {
            present: PrefixSet::default(),
            expected,
            report: SinkReport {
                routes: self.keep_routes.then(HashMap::default),
                ..SinkReport::default()
            },
            progress,
            done: Some(done),
        };
        let task = tokio::spawn(run(self.session, state, stop));
        SinkHandle { complete, task }
    }
}

struct State {
    expected: Arc<PrefixSet>,
    present: PrefixSet,
    report: SinkReport,
    progress: Arc<Progress>,
    done: Option<oneshot::Sender<Instant>>,
}

async fn run(
    session: ReplaySession,
    mut state: State,
    stop: watch::Receiver<bool>,
) -> Result<SinkReport, ReplayError> {
    let ReplaySession {
        who,
        mut reader,
        writer,
        negotiated,
        caps,
    } = session;
    state.check_complete();
    // Nothing to announce, and a speaker says so: End-of-RIB per family (RFC 4724), which
    // a device with an update delay waits for.
    let mut writer = writer;
    let mut eor = Vec::new();
    for &family in &negotiated.families {
        wire::encode_updates(&Export::EndOfRib(family), &caps, &mut eor);
    }
    for msg in eor {
        let error = |error| ReplayError::Io {
            who: who.clone(),
            error,
        };
        writer.write_all(&msg).await.map_err(error)?;
    }
    let stopping = stop.clone();
    let keep_alive = speaker::keep_alive(writer, negotiated.keepalive, stop, &who);
    let read = async {
        loop {
            let frame = speaker::next_frame_held(&mut reader, &who, negotiated.hold_time).await?;
            if frame.kind != MessageType::Update {
                continue;
            }
            let update =
                wire::decode_update(&frame.bytes, &caps).map_err(|n| ReplayError::Refused {
                    who: who.clone(),
                    notification: n,
                })?;
            let malformed = !update.withdrawn.is_empty() && announces_only(&frame.bytes);
            state.apply(update, malformed);
        }
    };
    let result: Result<(), ReplayError> = tokio::select! {
        r = keep_alive => r,
        r = read => r,
    };
    match result {
        // Once stopping, the device's Cease or close is the expected end.
        Err(e) if !*stopping.borrow() => return Err(e),
        _ => {}
    }
    if state.report.complete_at.is_none() {
        state.report.present = state.present.len();
    }
    Ok(state.report)
}

impl State {
    /// Applies an UPDATE; `malformed`: its withdrawals are announcements the codec turned
    /// into withdrawals.
    fn apply(&mut self, update: Update, malformed: bool) {
        let r = &mut self.report;
        r.updates += 1;
        if malformed {
            r.malformed.extend(update.withdrawn.iter().copied());
        } else {
            r.withdrawn += update.withdrawn.len() as u64;
        }
        for p in &update.withdrawn {
            self.present.remove(p);
            if let Some(routes) = &mut r.routes {
                routes.remove(p);
            }
        }
        for (attrs, prefixes) in update.announced {
            r.announced += prefixes.len() as u64;
            for p in &prefixes {
                if self.expected.contains(p) {
                    self.present.insert(*p);
                } else {
                    r.unexpected += 1;
                }
            }
            if let Some(routes) = &mut r.routes {
                let attrs = Arc::new(attrs);
                routes.extend(prefixes.into_iter().map(|p| (p, attrs.clone())));
            }
        }
        if let Some(family) = update.end_of_rib {
            r.end_of_rib.push(family);
        }
        self.progress
            .received
            .store(self.present.len() as u64, Ordering::Relaxed);
        self.check_complete();
    }

    fn check_complete(&mut self) {
        if self.present.len() == self.expected.len() && self.done.is_some() {
            let now = Instant::now();
            self.report.complete_at = Some(now);
            self.report.present = self.present.len();
            if let Some(done) = self.done.take() {
                // The replay may have given up waiting; the report still has the time.
                let _ = done.send(now);
            }
        }
    }
}

/// Whether an UPDATE frame withdraws nothing itself (no withdrawn routes, no
/// MP_UNREACH_NLRI): then every withdrawal `decode_update` reports is an announcement it
/// treated as withdraw.
fn announces_only(frame: &[u8]) -> bool {
    let field = |at: usize| {
        frame
            .get(at..at + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    };
    let (Some(0), Some(len)) = (field(wire::HEADER_LEN), field(wire::HEADER_LEN + 2)) else {
        return false;
    };
    let attrs = frame
        .get(wire::HEADER_LEN + 4..wire::HEADER_LEN + 4 + len)
        .unwrap_or_default();
    !RawAttrs::new(attrs).any(|a| a.is_ok_and(|a| a.code == MP_UNREACH))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::wire::attr::{self, OPTIONAL};
    use crate::route::AttrSet;

    fn update(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
        let mut m = vec![0xff; 16];
        m.extend_from_slice(&[0, 0, 2]);
        m.extend_from_slice(&(withdrawn.len() as u16).to_be_bytes());
        m.extend_from_slice(withdrawn);
        m.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        m.extend_from_slice(attrs);
        m.extend_from_slice(nlri);
        let len = (m.len() as u16).to_be_bytes();
        m[16..18].copy_from_slice(&len);
        m
    }

    /// Withdrawals in the withdrawn routes field or in MP_UNREACH_NLRI are real ones;
    /// otherwise they are announcements the codec refused.
    #[test]
    fn announcements_only() {
        let origin = [0x40, 1, 1, 0];
        assert!(announces_only(&update(&[], &origin, &[24, 192, 0, 2])));
        assert!(!announces_only(&update(&[24, 192, 0, 2], &origin, &[])));
        let mut unreach = origin.to_vec();
        attr::write(
            &mut unreach,
            OPTIONAL,
            MP_UNREACH,
            &[0, 2, 1, 32, 0x20, 1, 0x0d, 0xb8],
        );
        assert!(!announces_only(&update(&[], &unreach, &[])));
        assert!(!announces_only(&[0xff; 10]));
    }

    /// Announcements add expected prefixes, withdrawals remove them; the set is complete
    /// once every expected prefix is there, and unexpected ones are only counted. What is
    /// present is taken when complete: a withdrawal after that does not change it.
    #[test]
    fn presence_and_completion() {
        let p = |s: &str| s.parse::<IpNet>().expect("prefix");
        let expected: PrefixSet = [p("10.0.0.0/8"), p("11.0.0.0/8")].into_iter().collect();
        let (done, mut complete) = oneshot::channel();
        let mut state = State {
            present: PrefixSet::default(),
            expected: Arc::new(expected),
            report: SinkReport::default(),
            progress: Arc::default(),
            done: Some(done),
        };
        let nh = crate::route::NextHop::V4("192.0.2.1".parse().expect("address"));
        let attrs = || AttrSet::new(0, Default::default(), nh, None, Default::default());
        let announce = |v: Vec<IpNet>| Update {
            announced: vec![(attrs(), v)],
            ..Update::default()
        };
        state.apply(announce(vec![p("10.0.0.0/8"), p("12.0.0.0/8")]), false);
        let withdraw = Update {
            withdrawn: vec![p("10.0.0.0/8")],
            ..Update::default()
        };
        state.apply(withdraw, false);
        state.apply(announce(vec![p("11.0.0.0/8")]), false);
        assert!(complete.try_recv().is_err(), "10/8 was withdrawn");
        state.apply(announce(vec![p("10.0.0.0/8")]), false);
        assert!(complete.try_recv().is_ok());
        let withdraw = Update {
            withdrawn: vec![p("10.0.0.0/8")],
            ..Update::default()
        };
        state.apply(withdraw, false);
        assert_eq!(state.report.present, 2, "present when complete, not after");
        let r = &state.report;
        assert_eq!(
            (r.updates, r.announced, r.withdrawn, r.unexpected),
            (5, 4, 2, 1)
        );
        // The progress bar shows what is there now.
        assert_eq!(state.progress.received.load(Ordering::Relaxed), 1);
    }
}
