//! `rovgate replay`: the command line of a replay, its progress bar and its output.
//!
//! Where it sits: `main.rs` parses [`ReplayArgs`] and calls [`run_cli`]; everything else is
//! `replay::replay`. Output goes to stdout (one line per run and a summary, or one JSON
//! object); the progress bar goes to stderr and only to a terminal.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::churn::{self, ChurnArgs};
use super::ixp;
use super::{replay, Progress, ReplayError, ReplayOptions, ReplayResult, SinkMode};
use crate::feed;
use crate::route::{Asn, Family};

/// The arguments of `rovgate replay`.
#[derive(Clone, Debug, clap::Args)]
pub struct ReplayArgs {
    /// MRT file: a TABLE_DUMP_V2 RIB or BGP4MP updates (.gz or .bz2 by name).
    #[arg(long)]
    pub mrt: PathBuf,
    /// Read an MRT file that is cut short (such as the first MiB of a dump) up to its last
    /// whole record, with a warning, instead of refusing it.
    #[arg(long)]
    pub allow_truncated: bool,
    /// The device under test, HOST:PORT: feeders connect to it.
    #[arg(long)]
    pub target: String,
    /// Replicate the first MRT peer N times (default: one feeder per MRT peer).
    #[arg(long, value_name = "N")]
    pub peers: Option<usize>,
    /// Listen for the device's session to the sink on this IP:PORT. With --target set to
    /// the same address, one feeder goes straight into the sink: the tool's own ceiling.
    #[arg(long, value_name = "ADDR", conflicts_with = "sink")]
    pub sink_listen: Option<SocketAddr>,
    /// Connect the sink to this HOST:PORT (default: the target).
    #[arg(long, value_name = "HOST:PORT")]
    pub sink: Option<String>,
    /// Address families to replay.
    #[arg(long, value_enum, default_value_t = FamilyArg::All)]
    pub family: FamilyArg,
    /// The first feeder's AS; feeder i gets AS + i, skipping the sink's (default: each MRT
    /// peer's own AS; with --peers, the first peer's AS + i).
    #[arg(long, value_name = "ASN")]
    pub local_as: Option<Asn>,
    /// The sink's AS.
    #[arg(long, value_name = "ASN", default_value = "64497")]
    pub sink_as: Asn,
    /// The first feeder's local address; feeder i uses the address + i, skipping the sink's.
    #[arg(long, value_name = "IP", default_value = "127.0.0.2")]
    pub feeder_address: Ipv4Addr,
    /// The sink's local address when it connects.
    #[arg(long, value_name = "IP", default_value = "127.0.0.3")]
    pub sink_address: Ipv4Addr,
    /// How many runs (the summary gives their median).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub runs: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Seconds each run may take to set up its sessions, and again to converge.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub timeout: u64,
    /// The hold time the replay's speakers propose, seconds (0: no KEEPALIVEs, no hold
    /// timer; their KEEPALIVEs start only once every session is up, so a device that
    /// takes longer than this to bring hundreds of sessions up needs 0).
    #[arg(long, value_name = "SECS", default_value_t = crate::bgp::open::DEFAULT_HOLD_TIME)]
    pub hold_time: u16,
    /// The device drops RPKI-invalid routes: routes invalid under this VRP file (JSON or
    /// CSV) are not expected at the sink. Under churn (normally with the --churn-vrps file)
    /// the device's set differs from the file while a run lasts: prefixes whose routes
    /// churn can make invalid (valid, but also covered by a VRP that does not match) are not
    /// waited for and are counted in JSON churn.volatile_prefixes; when they arrive they
    /// count as unexpected, as do invalid routes that churn makes not-found.
    #[arg(long, value_name = "VRPFILE")]
    pub drop_invalid: Option<PathBuf>,
    /// VRP churn from a built-in RTR server.
    #[command(flatten)]
    pub churn: ChurnArgs,
    /// Member mode: an arouteserver clients file (such as ../shared/data/ixp/inex.yml). Each
    /// IPv4 member (one per AS) is a session from --feeder-address upwards that announces
    /// 60 % of its max-prefix limit as a slice of the table's IPv4 routes and receives every
    /// other member's; no sink. Convergence ends with the last expected prefix at any member.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["peers", "sink_listen", "sink"])]
    pub members: Option<PathBuf>,
    /// Member mode: K copies of the member list; copies 2..K announce the same slices from
    /// private ASNs (4200000000 upwards).
    #[arg(long, value_name = "K", default_value_t = 1, requires = "members")]
    pub scale: usize,
    /// Member mode: print each member session (AS, address, max-prefix limit, routes) and
    /// exit, for writing the device's config.
    #[arg(long, requires = "members")]
    pub list_members: bool,
    /// Member mode: the last N members are stuck: they send their share but never read
    /// what the device sends (their TCP window shuts, their KEEPALIVEs go on). Convergence
    /// and completeness count the others: what a stuck member costs them.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "members")]
    pub stuck: usize,
}

/// `--family`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FamilyArg {
    /// IPv4 unicast only.
    V4,
    /// IPv6 unicast only.
    V6,
    /// Both.
    All,
}

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One line per run and a summary.
    Text,
    /// One JSON object.
    Json,
}

impl ReplayArgs {
    /// The replay these arguments ask for.
    pub fn options(&self) -> ReplayOptions {
        let mut o = ReplayOptions::new(&self.mrt, &self.target);
        o.peers = self.peers;
        if self.allow_truncated {
            o.truncated = feed::Truncated::Read;
        }
        o.sink = match (&self.sink_listen, &self.sink) {
            (Some(addr), _) => SinkMode::Listen(*addr),
            (None, Some(to)) => SinkMode::Connect(to.clone()),
            (None, None) => SinkMode::Connect(self.target.clone()),
        };
        o.families = match self.family {
            FamilyArg::V4 => vec![Family::Ipv4Unicast],
            FamilyArg::V6 => vec![Family::Ipv6Unicast],
            FamilyArg::All => Family::ALL.to_vec(),
        };
        o.local_as = self.local_as.map(|a| a.0);
        o.sink_as = self.sink_as.0;
        o.feeder_address = self.feeder_address;
        o.sink_address = self.sink_address;
        o.runs = self.runs.max(1);
        o.timeout = Duration::from_secs(self.timeout);
        o.hold_time = self.hold_time;
        o.drop_invalid = self.drop_invalid.clone();
        o.churn = self.churn.options();
        o.members = self.members.clone();
        o.scale = self.scale;
        o.stuck = self.stuck;
        o
    }
}

/// Runs `rovgate replay`: the replay with a progress bar, then its results on stdout.
pub async fn run_cli(args: ReplayArgs) -> Result<(), ReplayError> {
    let mut opts = args.options();
    if args.list_members {
        for (m, address) in super::ixp::sessions(&opts)? {
            let limit = m.max_prefix.map_or("-".into(), |l| l.to_string());
            println!("{} {address} {limit} {}", m.asn, m.share);
        }
        return Ok(());
    }
    let progress = Arc::new(Progress::default());
    opts.progress = Some(progress.clone());
    let bar = ProgressBar::new(1);
    let template = "{spinner} {elapsed_precise} [{bar:40}] {pos}/{len} {msg}";
    let style =
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    let ticker = tokio::spawn(tick(bar.clone(), progress));
    let result = replay(&opts).await;
    ticker.abort();
    bar.finish_and_clear();
    let result = result?;
    match args.format {
        OutputFormat::Text => print!("{}", text(&result)),
        OutputFormat::Json => println!("{}", self::json(&args, &result)),
    }
    Ok(())
}

/// Moves the bar to the sink's count every 100 ms (indicatif draws only on a terminal).
async fn tick(bar: ProgressBar, progress: Arc<Progress>) {
    loop {
        match progress.expected.load(Ordering::Relaxed) {
            0 => bar.set_message("loading the MRT file"),
            n => {
                bar.set_length(n);
                bar.set_position(progress.received.load(Ordering::Relaxed));
                bar.set_message("expected prefixes received");
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Announcements per unique prefix received (update amplification; 1.0 is ideal).
fn per_prefix(announced: u64, unique: usize) -> f64 {
    announced as f64 / unique.max(1) as f64
}

fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// One line per run and a summary.
pub fn text(r: &ReplayResult) -> String {
    let mut out = String::new();
    for (i, run) in r.runs.iter().enumerate() {
        if let Some(members) = &run.members {
            out.push_str(&ixp::text_run(i + 1, run, members));
            continue;
        }
        out.push_str(&format!(
            "run {}: convergence {} s, {}/{} prefixes (+{} malformed), {} UPDATEs sent in {} s, {} received, {} announcements for {} unique ({:.2} per prefix)\n",
            i + 1,
            secs(run.convergence),
            run.received,
            r.expected,
            run.malformed.len(),
            run.updates_sent,
            secs(run.send_time),
            run.updates_received,
            run.announced,
            run.received,
            per_prefix(run.announced, run.received),
        ));
        out.extend(run.churn.as_ref().map(churn::text_run));
    }
    out.push_str(&format!(
        "median convergence {} s over {} run(s): {} routes sent, {} prefixes expected, {} {}, MRT loaded in {} s\n",
        secs(r.median()),
        r.runs.len(),
        r.sent,
        r.expected,
        r.feeders,
        match r.runs.iter().any(|run| run.members.is_some()) {
            true => "member(s)",
            false => "feeder(s)",
        },
        secs(r.load_time),
    ));
    out.extend(r.churn.as_ref().map(churn::text_report));
    out
}

/// One JSON object: the runs, the median, prefixes expected and received.
pub fn json(args: &ReplayArgs, r: &ReplayResult) -> serde_json::Value {
    let runs: Vec<serde_json::Value> = (r.runs.iter().enumerate())
        .map(|(i, run)| {
            json!({
                "run": i + 1,
                "convergence_seconds": run.convergence.as_secs_f64(),
                "send_seconds": run.send_time.as_secs_f64(),
                "prefixes_received": run.received,
                "updates_sent": run.updates_sent,
                "bytes_sent": run.bytes_sent,
                "updates_received": run.updates_received,
                "announced": run.announced,
                "announcements_per_prefix": per_prefix(run.announced, run.received),
                "withdrawn": run.withdrawn,
                "unexpected": run.unexpected,
                "malformed": run.malformed.len(),
                "churn": run.churn.as_ref().map(churn::json_run),
                "members": run.members.as_ref().map(ixp::json_run),
            })
        })
        .collect();
    json!({
        "mrt": args.mrt.display().to_string(),
        "target": args.target,
        "feeders": r.feeders,
        "routes_sent": r.sent,
        "prefixes_expected": r.expected,
        "prefixes_received": r.runs.iter().map(|run| run.received).min().unwrap_or(0),
        "load_seconds": r.load_time.as_secs_f64(),
        "median_seconds": r.median().as_secs_f64(),
        "runs": runs,
        "churn": r.churn.as_ref().map(|c| churn::json_report(c, &r.runs)),
    })
}
