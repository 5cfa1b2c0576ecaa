//! Member mode (`rovgate replay --members FILE [--scale K]`): an IXP's members, each one
//! session that announces its share of the table and receives everyone else's through the
//! device under test (a route server).
//!
//! ```text
//!  members file ──members.rs──► Member (AS, max-prefix, slice) ──► its slice of the MRT table
//!  member 1 127.0.9.2 ◄──┐
//!  member 2 127.0.9.4 ◄──┼──► device under test     each member: a Feeder that sends its
//!  ...                ◄──┘                          slice, with a Tally that counts the rest
//!  convergence = first UPDATE written by any member → last expected prefix received by any member
//! ```
//!
//! Where it sits: `replay::replay` hands over here when `ReplayOptions::members` is set.
//! Sessions are numbered from `--feeder-address` as feeders are; there is no separate sink
//! (every member receives). Member mode replays IPv4 unicast only. A run that is not
//! complete within `--timeout` is still a result: the members' completeness says how far
//! each got. With `--stuck N` the last N members stop reading once established; they are
//! not measured, so the run shows what they cost the others.

use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};
use tracing::info;

use super::feeder::{Feeder, FeederConfig, FeederReport};
use super::members::{self, Member};
use super::run::{self, abort, ended_early};
use super::sink::Progress;
use super::tally::{Catalog, Tally, TallyReport};
use super::{ReplayError, ReplayOptions, ReplayResult, RunResult};
use crate::feed::FeedPeer;
use crate::route::Family;

/// One member's part of a run.
#[derive(Clone, Debug)]
pub struct MemberResult {
    /// Its AS.
    pub asn: u32,
    /// Its session's address.
    pub address: Ipv4Addr,
    /// What it received.
    pub tally: TallyReport,
}

/// What the members received in one run.
#[derive(Clone, Debug, Default)]
pub struct MembersRun {
    /// Each measured member, in session order.
    pub members: Vec<MemberResult>,
    /// Members that were stuck (`--stuck`), not measured.
    pub stuck: usize,
}

impl MembersRun {
    /// Members that received every prefix they wait for.
    pub fn complete(&self) -> usize {
        let done = |m: &&MemberResult| m.tally.complete_at.is_some();
        self.members.iter().filter(done).count()
    }

    /// The member with the smallest share of its expected prefixes (the first of equals).
    pub fn least_complete(&self) -> Option<&MemberResult> {
        let ratio = |m: &MemberResult| m.tally.received as f64 / m.tally.expected.max(1) as f64;
        (self.members.iter()).min_by(|a, b| ratio(a).total_cmp(&ratio(b)))
    }

    /// Announcements per unique prefix over all members (update amplification; 1.0 ideal).
    pub fn per_prefix(&self) -> f64 {
        let announced: u64 = self.members.iter().map(|m| m.tally.announced).sum();
        let unique: usize = self.members.iter().map(|m| m.tally.unique).sum();
        announced as f64 / unique.max(1) as f64
    }

    /// The highest announcements per unique prefix of any member.
    pub fn max_per_prefix(&self) -> f64 {
        let of = |m: &MemberResult| m.tally.announced as f64 / m.tally.unique.max(1) as f64;
        self.members.iter().map(of).fold(0.0, f64::max)
    }
}

/// Every member session of the replay: the member and its address.
pub fn sessions(opts: &ReplayOptions) -> Result<Vec<(Member, Ipv4Addr)>, ReplayError> {
    let Some(path) = &opts.members else {
        return Ok(Vec::new());
    };
    let members = members::load(path, opts.scale)?;
    Ok((members.into_iter().enumerate())
        .map(|(i, m)| (m, run::feeder_ip(opts, i)))
        .collect())
}

/// Replays the members' shares `opts.runs` times and measures each run.
pub async fn replay(opts: &ReplayOptions) -> Result<ReplayResult, ReplayError> {
    if opts.churn.is_some() {
        return Err(ReplayError::Options {
            what: "member mode (--members) does not take VRP churn".into(),
        });
    }
    let sessions = sessions(opts)?;
    if opts.stuck >= sessions.len() {
        return Err(ReplayError::Options {
            what: format!("--stuck {} leaves no member to measure", opts.stuck),
        });
    }
    let (loaded, load_time) = run::load(opts).await?;
    let members: Vec<Member> = sessions.iter().map(|(m, _)| m.clone()).collect();
    let (feeds, slices) = feeds(opts, &members, loaded)?;
    let vrps = run::drop_invalid(opts)?;
    let (expected, _) = run::expected(&feeds, &vrps, false);
    let catalog = Arc::new(Catalog::new(&slices, &expected));
    let sent = feeds.iter().map(|f| f.routes()).sum();
    info!(file = %opts.mrt.display(), ?load_time, members = feeds.len(), routes = sent,
        expected = catalog.len(), "members' shares loaded");
    let mut configs = run::feeder_configs(opts, &feeds).await?;
    let measured = configs.len() - opts.stuck;
    configs[measured..].iter_mut().for_each(|c| c.stuck = true);
    let progress = opts.progress.clone().unwrap_or_default();
    let mut runs = Vec::with_capacity(opts.runs);
    for n in 1..=opts.runs.max(1) {
        let setup = Setup {
            opts,
            sessions: &sessions,
            feeds: &feeds,
            configs: &configs,
            catalog: catalog.clone(),
            progress: progress.clone(),
        };
        let run = setup.run().await?;
        info!(run = n, convergence = ?run.convergence, received = run.received, "run complete");
        runs.push(run);
    }
    Ok(ReplayResult {
        load_time,
        feeders: feeds.len(),
        sent,
        expected: catalog.len(),
        runs,
        churn: None,
    })
}

/// Each member's feed (its slice, from its AS) and the slices by group.
fn feeds(
    opts: &ReplayOptions,
    members: &[Member],
    loaded: Vec<FeedPeer>,
) -> Result<(Vec<Arc<FeedPeer>>, Vec<FeedPeer>), ReplayError> {
    let no_routes = || ReplayError::NoRoutes {
        path: opts.mrt.display().to_string(),
    };
    let mut table = loaded.into_iter().next().ok_or_else(no_routes)?;
    table.retain_families(&[Family::Ipv4Unicast]);
    // Originals come first, one per group, in group order.
    let groups = members.iter().map(|m| m.group + 1).max().unwrap_or(0);
    let shares: Vec<usize> = members[..groups].iter().map(|m| m.share).collect();
    let slices = members::slices(&table, &shares)?;
    let feeds = (members.iter())
        .map(|m| Arc::new(slices[m.group].with_asn(m.asn)))
        .collect();
    Ok((feeds, slices))
}

/// Everything one run needs.
struct Setup<'a> {
    opts: &'a ReplayOptions,
    sessions: &'a [(Member, Ipv4Addr)],
    feeds: &'a [Arc<FeedPeer>],
    configs: &'a [FeederConfig],
    catalog: Arc<Catalog>,
    progress: Arc<Progress>,
}

impl Setup<'_> {
    async fn run(self) -> Result<RunResult, ReplayError> {
        let deadline = Instant::now() + self.opts.timeout;
        let connecting = (self.configs.iter().zip(self.feeds))
            .map(|(config, feed)| Feeder::connect(config, feed.clone(), deadline));
        let feeders = futures_util::future::try_join_all(connecting).await?;
        let sessions = &self.sessions[..self.sessions.len() - self.opts.stuck];
        let expected = (sessions.iter())
            .map(|(m, _)| self.catalog.expected_by(m.group) as u64)
            .sum();
        self.progress.expected.store(expected, Ordering::Relaxed);
        self.progress.received.store(0, Ordering::Relaxed);
        let (done, mut completed) = mpsc::unbounded_channel();
        let (stop, _) = watch::channel(false);
        let (mut tasks, mut stuck) = (JoinSet::new(), JoinSet::new());
        for (i, feeder) in feeders.into_iter().enumerate() {
            let Some((member, _)) = sessions.get(i) else {
                // Nobody waits for what it gets; dropping the set ends it.
                stuck.spawn(feeder.run(stop.subscribe()));
                continue;
            };
            let tally = Tally::new(
                self.catalog.clone(),
                member.group,
                self.progress.clone(),
                done.clone(),
            );
            let running = feeder.receive_into(tally).run(stop.subscribe());
            tasks.spawn(async move { (i, running.await) });
        }
        let members = sessions.len();
        let all_complete = async {
            for _ in 0..members {
                completed.recv().await;
            }
        };
        tokio::select! {
            () = all_complete => {}
            Some(r) = tasks.join_next() => {
                let r = r.map(|(_, r)| r);
                return Err(abort(stop, ended_early(r, "a member stopped early")));
            }
            _ = sleep_until(Instant::now() + self.opts.timeout) => {}
        }
        let _ = stop.send(true);
        drop(stuck);
        let mut reports = vec![None; members];
        while let Some(r) = tasks.join_next().await {
            if let Ok((i, Ok(report))) = r {
                reports[i] = Some(report);
            }
        }
        let reports: Option<Vec<FeederReport>> = reports.into_iter().collect();
        let reports = reports.ok_or(ReplayError::Internal {
            what: "a member task failed",
        })?;
        Ok(self.measure(&reports))
    }

    fn measure(&self, reports: &[FeederReport]) -> RunResult {
        let first = reports.iter().map(|r| r.first_update).min();
        let since_first = |t: Option<Instant>| match (t, first) {
            (Some(t), Some(f)) => t.saturating_duration_since(f),
            _ => Default::default(),
        };
        let members = MembersRun {
            stuck: self.opts.stuck,
            members: (reports.iter().zip(self.sessions))
                .map(|(r, (m, address))| MemberResult {
                    asn: m.asn,
                    address: *address,
                    tally: r.tally.unwrap_or_default(),
                })
                .collect(),
        };
        let tallies = || members.members.iter().map(|m| &m.tally);
        RunResult {
            convergence: since_first(tallies().filter_map(|t| t.last_new).max()),
            send_time: since_first(reports.iter().map(|r| r.last_update).max()),
            received: members.least_complete().map_or(0, |m| m.tally.received),
            updates_sent: reports.iter().map(|r| r.updates_sent).sum(),
            bytes_sent: reports.iter().map(|r| r.bytes_sent).sum(),
            updates_received: tallies().map(|t| t.updates).sum(),
            announced: tallies().map(|t| t.announced).sum(),
            withdrawn: tallies().map(|t| t.withdrawn).sum(),
            unexpected: tallies().map(|t| t.unexpected).sum(),
            malformed: Vec::new(),
            routes: None,
            churn: None,
            members: Some(members),
        }
    }
}

/// One run's line: convergence, completeness, the least complete member, amplification.
pub fn text_run(n: usize, run: &RunResult, members: &MembersRun) -> String {
    let least = match members.least_complete() {
        Some(m) => format!(
            "AS{} {} {}/{}",
            m.asn, m.address, m.tally.received, m.tally.expected
        ),
        None => "none".into(),
    };
    format!(
        "run {n}: convergence {:.3} s, {}/{} members complete{}, least complete {least}, {} announcements ({:.2} per unique prefix, max {:.2}), {} unexpected, {} UPDATEs sent in {:.3} s, {} received\n",
        run.convergence.as_secs_f64(),
        members.complete(),
        members.members.len(),
        match members.stuck {
            0 => String::new(),
            n => format!(" ({n} stuck, not measured)"),
        },
        run.announced,
        members.per_prefix(),
        members.max_per_prefix(),
        run.unexpected,
        run.updates_sent,
        run.send_time.as_secs_f64(),
        run.updates_received,
    )
}

/// One run's members as JSON: the summary and each member's counts.
pub fn json_run(members: &MembersRun) -> serde_json::Value {
    let each: Vec<serde_json::Value> = (members.members.iter())
        .map(|m| {
            json!({
                "asn": m.asn,
                "address": m.address.to_string(),
                "expected": m.tally.expected,
                "received": m.tally.received,
                "complete": m.tally.complete_at.is_some(),
                "unique": m.tally.unique,
                "announced": m.tally.announced,
                "unexpected": m.tally.unexpected,
            })
        })
        .collect();
    let least = members.least_complete();
    json!({
        "members": members.members.len(),
        "stuck": members.stuck,
        "complete": members.complete(),
        "least_complete": least.map(|m| json!({
            "asn": m.asn,
            "address": m.address.to_string(),
            "received": m.tally.received,
            "expected": m.tally.expected,
        })),
        "announcements_per_prefix": members.per_prefix(),
        "max_announcements_per_prefix": members.max_per_prefix(),
        "each": each,
    })
}
