//! One replay: load the feeds once, then for each run set up the sink and the feeders,
//! start every feeder at once, wait for the sink to hold every expected prefix, and close
//! all sessions.
//!
//! Where it sits: behind `replay::replay`, the entry point of `rovgate replay`, tests and
//! benchmarks. Sessions are new for each run, so every run starts from an empty device.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use foldhash::HashSet;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinError, JoinSet};
use tokio::time::{sleep_until, Instant};
use tracing::info;

use super::churn::{self, ChurnServer};
use super::feeder::{Feeder, FeederConfig, FeederReport};
use super::prefix_set::PrefixSet;
use super::sink::{Progress, Sink, SinkConfig, SinkReport};
use super::speaker::Endpoint;
use super::{nth_from, ReplayError, ReplayOptions, ReplayResult, RunResult, SinkMode};
use crate::feed::{self, FeedPeer};
use crate::route::RovState;
use crate::rpki::VrpTable;

/// Replays `opts.mrt` to `opts.target` `opts.runs` times and measures each run.
pub async fn replay(opts: &ReplayOptions) -> Result<ReplayResult, ReplayError> {
    if opts.members.is_some() {
        return super::ixp::replay(opts).await;
    }
    // Listening first: the device can load the VRPs while the MRT file loads.
    let churn = match &opts.churn {
        Some(c) => Some(ChurnServer::start(c).await?),
        None => None,
    };
    let (loaded, load_time) = load(opts).await?;
    let feeds = feeds(opts, loaded)?;
    let vrps = drop_invalid(opts)?;
    let (expected, volatile) = expected(&feeds, &vrps, churn.is_some());
    let expected = Arc::new(expected);
    let sent = feeds.iter().map(|f| f.routes()).sum();
    info!(file = %opts.mrt.display(), ?load_time, feeders = feeds.len(), routes = sent,
        expected = expected.len(), "MRT file loaded");
    let configs = feeder_configs(opts, &feeds).await?;
    let sink = SinkSide::new(opts).await?;
    let progress = opts.progress.clone().unwrap_or_default();
    let mut runs = Vec::with_capacity(opts.runs);
    for n in 1..=opts.runs.max(1) {
        if let Some(churn) = &churn {
            churn.settle(opts.timeout).await?;
        }
        let setup = Setup {
            opts,
            feeds: &feeds,
            configs: &configs,
            sink: &sink.endpoint(),
            expected: expected.clone(),
            progress: progress.clone(),
            churn: churn.as_ref(),
        };
        let run = setup.run().await?;
        info!(run = n, convergence = ?run.convergence, received = run.received, "run complete");
        runs.push(run);
    }
    Ok(ReplayResult {
        load_time,
        feeders: feeds.len(),
        sent,
        expected: expected.len(),
        runs,
        churn: churn.map(|c| c.report(volatile)),
    })
}

/// The MRT file's feeds, and how long loading took.
pub(super) async fn load(opts: &ReplayOptions) -> Result<(Vec<FeedPeer>, Duration), ReplayError> {
    let start = StdInstant::now();
    let (path, truncated) = (opts.mrt.clone(), opts.truncated);
    let loaded = tokio::task::spawn_blocking(move || feed::load_with(&path, truncated))
        .await
        .map_err(|_| ReplayError::Internal {
            what: "MRT loader task failed",
        })??;
    Ok((loaded, start.elapsed()))
}

/// The VRPs under which routes are not expected (`--drop-invalid`; none: empty).
pub(super) fn drop_invalid(opts: &ReplayOptions) -> Result<VrpTable, ReplayError> {
    Ok(match &opts.drop_invalid {
        Some(path) => crate::rpki::file::load(path)?.into_iter().collect(),
        None => VrpTable::new(),
    })
}

/// The distinct prefixes the sink waits for: deliverable, and not invalid under `vrps`.
/// Under `churn`, a prefix whose every such route is [`churn::volatile`] is not waited for
/// either; returns how many of those there are too.
pub(super) fn expected(
    feeds: &[Arc<FeedPeer>],
    vrps: &VrpTable,
    churn: bool,
) -> (PrefixSet, usize) {
    let (mut expected, mut volatile) = (PrefixSet::default(), HashSet::default());
    let batches = feeds.iter().flat_map(|f| &f.batches);
    for (attrs, prefixes) in batches.filter(|(a, _)| feed::deliverable(a)) {
        let origin = attrs.as_path.origin();
        for p in prefixes {
            match vrps.state(p, origin) {
                RovState::Invalid => {}
                RovState::Valid if churn && churn::volatile(vrps, p, origin) => {
                    volatile.insert(*p);
                }
                _ => {
                    expected.insert(*p);
                }
            }
        }
    }
    let volatile = volatile.iter().filter(|p| !expected.contains(p)).count();
    (expected, volatile)
}

/// Each feeder's address, AS and target.
pub(super) async fn feeder_configs(
    opts: &ReplayOptions,
    feeds: &[Arc<FeedPeer>],
) -> Result<Vec<FeederConfig>, ReplayError> {
    let target = resolve(&opts.target).await?;
    if opts.sink == SinkMode::Listen(target) && feeds.len() > 1 {
        return Err(ReplayError::Options {
            what: "a feeder connected straight to the listening sink: use --peers 1".into(),
        });
    }
    Ok((feeds.iter().enumerate())
        .map(|(i, feed)| FeederConfig {
            local: IpAddr::V4(feeder_ip(opts, i)),
            asn: feed.asn,
            target,
            hold_time: opts.hold_time,
            stuck: false,
        })
        .collect())
}

/// The sink's side of its session, kept for all runs.
enum SinkSide {
    /// Listening for the device.
    Listener(TcpListener),
    /// Connecting to the device.
    Connect { local: IpAddr, target: SocketAddr },
}

impl SinkSide {
    async fn new(opts: &ReplayOptions) -> Result<SinkSide, ReplayError> {
        Ok(match &opts.sink {
            SinkMode::Listen(addr) => {
                SinkSide::Listener(TcpListener::bind(addr).await.map_err(|error| {
                    ReplayError::Connect {
                        who: "sink".into(),
                        target: addr.to_string(),
                        error,
                    }
                })?)
            }
            SinkMode::Connect(to) => SinkSide::Connect {
                local: IpAddr::V4(opts.sink_address),
                target: resolve(to).await?,
            },
        })
    }

    fn endpoint(&self) -> Endpoint<'_> {
        match self {
            SinkSide::Listener(l) => Endpoint::Listen(l),
            SinkSide::Connect { local, target } => Endpoint::Connect {
                local: *local,
                target: *target,
                small_window: false,
            },
        }
    }
}

/// The feeds of a replay: the MRT peers, or the first one replicated, with the chosen
/// families and ASNs.
fn feeds(opts: &ReplayOptions, loaded: Vec<FeedPeer>) -> Result<Vec<Arc<FeedPeer>>, ReplayError> {
    let mut base: Vec<FeedPeer> = match opts.peers {
        Some(n) => match loaded.into_iter().next() {
            Some(first) => vec![first; n.max(1)],
            None => Vec::new(),
        },
        None => loaded,
    };
    base.iter_mut()
        .for_each(|f| f.retain_families(&opts.families));
    base.retain(|f| !f.batches.is_empty());
    if base.is_empty() {
        return Err(ReplayError::NoRoutes {
            path: opts.mrt.display().to_string(),
        });
    }
    let first_as = opts.local_as.or(opts.peers.map(|_| base[0].asn));
    Ok(base
        .iter()
        .enumerate()
        .map(|(i, f)| match first_as {
            Some(asn) => f.with_asn(nth_from(asn, i, opts.sink_as)),
            None => f.clone(),
        })
        .map(Arc::new)
        .collect())
}

/// Feeder `i`'s address: from `feeder_address` upwards, the sink's skipped.
pub(super) fn feeder_ip(opts: &ReplayOptions, i: usize) -> Ipv4Addr {
    let (base, skip) = (opts.feeder_address.into(), sink_ip(opts).into());
    Ipv4Addr::from(nth_from(base, i, skip))
}

fn sink_ip(opts: &ReplayOptions) -> Ipv4Addr {
    match &opts.sink {
        SinkMode::Listen(SocketAddr::V4(a)) => *a.ip(),
        _ => opts.sink_address,
    }
}

async fn resolve(host_port: &str) -> Result<SocketAddr, ReplayError> {
    let fail = |why: String| ReplayError::Options {
        what: format!("cannot resolve {host_port:?} (want HOST:PORT): {why}"),
    };
    let mut addrs = tokio::net::lookup_host(host_port)
        .await
        .map_err(|e| fail(e.to_string()))?;
    addrs
        .find(SocketAddr::is_ipv4)
        .ok_or_else(|| fail("no IPv4 address".into()))
}

/// Everything one run needs.
struct Setup<'a> {
    opts: &'a ReplayOptions,
    feeds: &'a [Arc<FeedPeer>],
    configs: &'a [FeederConfig],
    sink: &'a Endpoint<'a>,
    expected: Arc<PrefixSet>,
    progress: Arc<Progress>,
    churn: Option<&'a ChurnServer>,
}

impl Setup<'_> {
    async fn run(self) -> Result<RunResult, ReplayError> {
        let deadline = Instant::now() + self.opts.timeout;
        let sink_config = SinkConfig {
            asn: self.opts.sink_as,
            router_id: sink_ip(self.opts),
            hold_time: self.opts.hold_time,
            keep_routes: self.opts.keep_routes,
        };
        // Together: a listening sink may be waiting for a feeder (the tool's own ceiling).
        let feeders = (self.configs.iter().zip(self.feeds))
            .map(|(config, feed)| Feeder::connect(config, feed.clone(), deadline));
        let (sink, feeders) = tokio::try_join!(
            Sink::establish(self.sink, &sink_config, deadline),
            futures_util::future::try_join_all(feeders),
        )?;
        let (stop, stopped) = watch::channel(false);
        let mut handle = sink.start(self.expected.clone(), self.progress.clone(), stopped);
        let churning = self.churn.map(|c| c.run(stop.subscribe()));
        let mut tasks = JoinSet::new();
        for f in feeders {
            tasks.spawn(f.run(stop.subscribe()));
        }
        let limit = Instant::now() + self.opts.timeout;
        let ended = tokio::select! {
            done = &mut handle.complete => done.ok(),
            Some(r) = tasks.join_next() => return Err(abort(stop, ended_early(r, "a feeder stopped early"))),
            r = &mut handle.task => return Err(abort(stop, ended_early(r, "the sink stopped early"))),
            _ = sleep_until(limit) => None,
        };
        let _ = stop.send(true);
        let mut reports = Vec::new();
        while let Some(r) = tasks.join_next().await {
            reports.extend(r.ok().and_then(|r| r.ok()));
        }
        let sink = handle.task.await.map_err(|_| ReplayError::Internal {
            what: "sink task failed",
        })??;
        if ended.is_none() {
            return Err(self.timed_out(&sink));
        }
        let mut run = measure(&reports, sink);
        if let Some(churning) = churning {
            run.churn = Some(churning.await.map_err(|_| ReplayError::Internal {
                what: "churn task failed",
            })?);
        }
        Ok(run)
    }

    fn timed_out(&self, sink: &SinkReport) -> ReplayError {
        ReplayError::Timeout {
            what: format!(
                "the sink received {} of {} expected prefixes within {:?}",
                sink.present,
                self.expected.len(),
                self.opts.timeout
            ),
        }
    }
}

pub(super) fn abort(stop: watch::Sender<bool>, e: ReplayError) -> ReplayError {
    let _ = stop.send(true);
    e
}

/// The error a feeder or the sink ended with before it was told to stop.
pub(super) fn ended_early<T>(
    r: Result<Result<T, ReplayError>, JoinError>,
    what: &'static str,
) -> ReplayError {
    match r {
        Ok(Err(e)) => e,
        Ok(Ok(_)) | Err(_) => ReplayError::Internal { what },
    }
}

fn measure(reports: &[FeederReport], sink: SinkReport) -> RunResult {
    let first = reports.iter().map(|r| r.first_update).min();
    let last = reports.iter().map(|r| r.last_update).max();
    let since_first = |t: Option<Instant>| match (t, first) {
        (Some(t), Some(f)) => t.saturating_duration_since(f),
        _ => Default::default(),
    };
    RunResult {
        convergence: since_first(sink.complete_at),
        send_time: since_first(last),
        received: sink.present,
        updates_sent: reports.iter().map(|r| r.updates_sent).sum(),
        bytes_sent: reports.iter().map(|r| r.bytes_sent).sum(),
        updates_received: sink.updates,
        announced: sink.announced,
        withdrawn: sink.withdrawn,
        unexpected: sink.unexpected,
        malformed: sink.malformed.into_iter().collect(),
        routes: sink.routes,
        churn: None,
        members: None,
    }
}
