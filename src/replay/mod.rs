//! Full-table replay: push the routes of an MRT file through a BGP speaker and measure how
//! long it takes them to come out the other side.
//!
//! ```text
//!  MRT file ──load──► FeedPeer per MRT peer ──► feeder 127.0.0.2 ─┐  UPDATEs
//!   (feed.rs)         (grouped by attributes)   feeder 127.0.0.4 ─┼──────────► device under test
//!                                               ...  (feeder.rs)  ┘                 │
//!                                                   sink 127.0.0.3 (sink.rs) ◄──────┘
//!  convergence = first UPDATE written by any feeder → last expected prefix at the sink
//! ```
//!
//! Read `crate::feed` first (what a feed is), then this file (`replay`: one run after another),
//! then `feeder.rs` and `sink.rs`; `speaker.rs` is the OPEN/KEEPALIVE part they share, and
//! `cli.rs` the `rovgate replay` command; `churn.rs` is the optional built-in RTR cache that
//! changes the device's VRPs while each run lasts. Member mode (`--members`, an IXP whose
//! every member both announces and receives) is `ixp.rs`, with `members.rs` (the members
//! file and each member's share) and `tally.rs` (what each member received). Benchmarks and the BIRD/OpenBGPD
//! comparison tests drive the device through [`replay`].

mod churn;
mod cli;
pub mod feeder;
pub mod ixp;
pub mod members;

mod prefix_set;
mod run;
pub mod sink;
mod speaker;
pub mod tally;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use foldhash::HashMap;
use ipnet::IpNet;

pub use churn::{ChurnArgs, ChurnOptions, ChurnReport, ChurnRun};
pub use cli::{run_cli, ReplayArgs};
pub use run::replay;
pub use sink::Progress;

use crate::bgp::Notification;
use crate::feed;
use crate::route::{Attrs, Family};

/// Where the sink's session comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SinkMode {
    /// Listen on this address; the device under test connects to it.
    Listen(SocketAddr),
    /// Connect to the device at this `HOST:PORT`, from `ReplayOptions::sink_address`.
    Connect(String),
}

/// What to replay, where, and how often.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// The MRT file (TABLE_DUMP_V2 or BGP4MP; .gz/.bz2 by name).
    pub mrt: PathBuf,
    /// Whether an MRT file cut short is an error (the default) or read up to the cut.
    pub truncated: feed::Truncated,
    /// The device under test, `HOST:PORT`, that feeders connect to.
    pub target: String,
    /// `None`: one feeder per MRT peer. `Some(n)`: the first MRT peer replicated n times.
    pub peers: Option<usize>,
    /// The sink's session.
    pub sink: SinkMode,
    /// The families to replay.
    pub families: Vec<Family>,
    /// The first feeder's AS; feeder i gets this + i (the sink's AS skipped). `None`: each
    /// MRT peer's own AS (replicas: the first peer's AS + i).
    pub local_as: Option<u32>,
    /// The sink's AS.
    pub sink_as: u32,
    /// The first feeder's address; feeder i connects from this + i (the sink's skipped).
    pub feeder_address: Ipv4Addr,
    /// The sink's address when it connects (`SinkMode::Connect`).
    pub sink_address: Ipv4Addr,
    /// How many runs.
    pub runs: usize,
    /// Limit for each run's session setup, and again for its convergence.
    pub timeout: Duration,
    /// The hold time the speakers propose, seconds.
    pub hold_time: u16,
    /// Keep the routes the sink received (in `RunResult::routes`) for attribute checks.
    pub keep_routes: bool,
    /// Counters to show progress from (a progress bar); `None`: none.
    pub progress: Option<Arc<Progress>>,
    /// The device drops RPKI-invalid routes: routes invalid under this VRP file are not
    /// expected at the sink. With `churn`, routes that churn can make invalid are not
    /// waited for either (`ChurnReport::volatile`).
    pub drop_invalid: Option<PathBuf>,
    /// Serve VRPs from a built-in RTR server and change them while each run lasts.
    pub churn: Option<ChurnOptions>,
    /// Member mode: an arouteserver clients file; its IPv4 members announce shares of the
    /// table and receive each other's (`ixp.rs`); `peers`, `local_as` and the sink unused.
    pub members: Option<PathBuf>,
    /// Member mode: copies of the member list (copies 2.. with synthetic ASNs).
    pub scale: usize,
    /// Member mode: how many members, the last ones, stop reading once established
    /// (`FeederConfig::stuck`); they are not measured.
    pub stuck: usize,
}

impl ReplayOptions {
    /// Replay `mrt` to `target` with the defaults: one feeder per MRT peer from 127.0.0.2,
    /// a sink connecting from 127.0.0.3 with AS 64497 to the same target, both families,
    /// one run, 300 s limit.
    pub fn new(mrt: impl Into<PathBuf>, target: impl Into<String>) -> Self {
        let target = target.into();
        ReplayOptions {
            mrt: mrt.into(),
            truncated: feed::Truncated::Refuse,
            sink: SinkMode::Connect(target.clone()),
            target,
            peers: None,
            families: Family::ALL.to_vec(),
            local_as: None,
            sink_as: 64497,
            feeder_address: Ipv4Addr::new(127, 0, 0, 2),
            sink_address: Ipv4Addr::new(127, 0, 0, 3),
            runs: 1,
            timeout: Duration::from_secs(300),
            hold_time: crate::bgp::open::DEFAULT_HOLD_TIME,
            keep_routes: false,
            progress: None,
            drop_invalid: None,
            churn: None,
            members: None,
            scale: 1,
            stuck: 0,
        }
    }
}

/// One run's measurements.
#[derive(Debug)]
pub struct RunResult {
    /// First UPDATE written by any feeder → last expected prefix received by the sink.
    pub convergence: Duration,
    /// First UPDATE written → the last feeder's last UPDATE written.
    pub send_time: Duration,
    /// Expected prefixes announced to the sink at the end of the run (member mode: to the
    /// least complete member).
    pub received: usize,
    /// UPDATE messages the feeders sent.
    pub updates_sent: usize,
    /// Bytes of UPDATEs the feeders sent.
    pub bytes_sent: usize,
    /// UPDATE messages the sink received.
    pub updates_received: u64,
    /// Prefix announcements the sink received (repeats counted).
    pub announced: u64,
    /// Prefix withdrawals the sink received.
    pub withdrawn: u64,
    /// Announcements of prefixes no feeder sent (the device's own routes).
    pub unexpected: u64,
    /// Prefixes that arrived with attributes a conforming receiver treats as withdraw (a
    /// path with AS 0, RFC 7607): sent by the feeders, passed on by the device, not waited
    /// for.
    pub malformed: Vec<IpNet>,
    /// The routes the sink held at the end (`ReplayOptions::keep_routes`).
    pub routes: Option<HashMap<IpNet, Attrs>>,
    /// The VRP churn applied during the run (`ReplayOptions::churn`).
    pub churn: Option<ChurnRun>,
    /// Member mode: what each member received. The counters above are their sums.
    pub members: Option<ixp::MembersRun>,
}

/// All runs of a replay.
#[derive(Debug)]
pub struct ReplayResult {
    /// Time to load the MRT file into feeds.
    pub load_time: Duration,
    /// Feeders per run.
    pub feeders: usize,
    /// Routes the feeders announce (each feeder's prefixes counted).
    pub sent: usize,
    /// Distinct prefixes the feeders announce with attributes a conforming receiver keeps
    /// (`feed::deliverable`): what the sink waits for.
    pub expected: usize,
    /// Each run, in order.
    pub runs: Vec<RunResult>,
    /// The built-in RTR server (`ReplayOptions::churn`).
    pub churn: Option<ChurnReport>,
}

impl ReplayResult {
    /// The median convergence time (the mean of the middle two for an even count).
    pub fn median(&self) -> Duration {
        let mut times: Vec<Duration> = self.runs.iter().map(|r| r.convergence).collect();
        times.sort();
        match times.len() {
            0 => Duration::ZERO,
            n if n % 2 == 1 => times[n / 2],
            n => (times[n / 2 - 1] + times[n / 2]) / 2,
        }
    }
}

/// Why a replay failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The MRT file could not be loaded.
    #[error(transparent)]
    Mrt(#[from] feed::MrtError),
    /// The `--drop-invalid` VRP file could not be loaded.
    #[error(transparent)]
    Vrps(#[from] crate::rpki::file::FileError),
    /// The `--members` file could not be read, or the shares do not fit the table.
    #[error(transparent)]
    Members(#[from] members::MembersError),
    /// The MRT file has no routes of the chosen families.
    #[error("{path}: no routes of the chosen families")]
    NoRoutes {
        /// The file.
        path: String,
    },
    /// An address does not resolve, or the options do not fit together.
    #[error("{what}")]
    Options {
        /// What is wrong.
        what: String,
    },
    /// A TCP connection could not be made.
    #[error("{who}: cannot connect to {target}: {error}")]
    Connect {
        /// The speaker.
        who: String,
        /// Where it tried to connect.
        target: String,
        /// Why.
        error: std::io::Error,
    },
    /// Reading or writing failed on an open connection.
    #[error("{who}: connection failed: {error}")]
    Io {
        /// The speaker.
        who: String,
        /// Why.
        error: std::io::Error,
    },
    /// The device closed the connection.
    #[error("{who}: the target closed the connection")]
    Closed {
        /// The speaker.
        who: String,
    },
    /// The device sent a NOTIFICATION.
    #[error("{who}: the target sent {notification}")]
    Notification {
        /// The speaker.
        who: String,
        /// What it sent.
        notification: Notification,
    },
    /// The device sent something the speaker cannot accept.
    #[error("{who}: the target sent a message we refuse: {notification}")]
    Refused {
        /// The speaker.
        who: String,
        /// The NOTIFICATION its message calls for.
        notification: Notification,
    },
    /// The device sent nothing for the hold time.
    #[error("{who}: hold timer expired (no message from the target)")]
    HoldTimerExpired {
        /// The speaker.
        who: String,
    },
    /// The device did not negotiate a family the replay needs.
    #[error("{who}: the target did not agree to {family:?}, which the replay sends")]
    Family {
        /// The speaker.
        who: String,
        /// The family.
        family: Family,
    },
    /// A limit passed.
    #[error("timed out: {what}")]
    Timeout {
        /// What did not finish.
        what: String,
    },
    /// A task of the replay itself failed.
    #[error("internal error: {what}")]
    Internal {
        /// What failed.
        what: &'static str,
    },
}

impl ReplayError {
    /// Whether the user's input is at fault: an MRT, VRP or members file that cannot be
    /// used (`rovgate replay` exits 2, as for a bad config).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Self::Mrt(_) | Self::Vrps(_) | Self::Members(_) | Self::NoRoutes { .. }
        )
    }
}

/// A family choice on the command line.
pub fn families(choice: &str) -> Option<Vec<Family>> {
    match choice {
        "v4" => Some(vec![Family::Ipv4Unicast]),
        "v6" => Some(vec![Family::Ipv6Unicast]),
        "all" => Some(Family::ALL.to_vec()),
        _ => None,
    }
}

/// The `n`th value from `base` upwards (0: `base`), `skip` left out: feeder addresses and
/// ASNs that never collide with the sink's.
fn nth_from(base: u32, n: usize, skip: u32) -> u32 {
    (base..=u32::MAX)
        .filter(|&v| v != skip)
        .nth(n)
        .unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
