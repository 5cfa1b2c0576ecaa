//! The `rovgate` command: run the daemon, check a config, validate a route.
//!
//! Exit codes: 0 success, 1 runtime error, 2 bad config, bad arguments or a bad input file
//! (an MRT, VRP, SLURM or members file that is missing, empty, not what it should be, or
//! cut short).

mod allocator;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use ipnet::IpNet;

use rovgate::config::Config;
use rovgate::replay::ReplayError;
use rovgate::report::ReportError;
use rovgate::route::Asn;
use rovgate::rpki::{self, CacheConfig, RpkiConfig, Verdict, VrpTable};

#[derive(Parser)]
#[command(version, about = "BGP route server with RPKI route origin validation")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the route server (no --config: the embedded configs/default.toml).
    Run {
        /// TOML config file.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Check a config file: prints `ok`, or the errors with file, line and key (exit 2).
    CheckConfig {
        /// TOML config file.
        file: PathBuf,
    },
    /// Validate one route's origin (RFC 6811) and print why.
    Validate {
        /// VRPs from a file: rpki-client JSON (.gz too), Routinator jsonext, or CSV.
        #[arg(long, conflicts_with = "rtr", required_unless_present = "rtr")]
        vrps: Option<PathBuf>,
        /// VRPs from an RTR cache, HOST:PORT.
        #[arg(long)]
        rtr: Option<String>,
        /// The route's prefix, e.g. 192.0.2.0/24.
        prefix: IpNet,
        /// The origin AS, e.g. 64496 or AS64496.
        asn: Asn,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Replay an MRT table through a BGP speaker: feeders announce it, a sink receives it,
    /// and the convergence time of each run is printed.
    Replay(rovgate::replay::ReplayArgs),
    /// What-if report: per peer, the RPKI-invalid routes that invalid-drop would drop, why,
    /// the fix, and the destinations that would become unreachable.
    Report(rovgate::report::ReportArgs),
    /// Make a running rovgate re-read its config file and apply it live (as SIGHUP does):
    /// prints what changed, or the config's error naming file, line and key (exit 1;
    /// nothing changed).
    Reload {
        /// The running rovgate's HTTP API, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        url: String,
        /// A file holding the API token (the one `[server] http_token_file` names).
        #[arg(long, env = "ROVGATE_TOKEN_FILE")]
        token_file: Option<PathBuf>,
    },
    /// Operator actions on a running rovgate's VRPs.
    Vrps {
        #[command(subcommand)]
        action: VrpsAction,
    },
}

#[derive(Subcommand)]
enum VrpsAction {
    /// Apply a VRP update held as a mass invalidation: its invalid routes are dropped now.
    Accept {
        /// The running rovgate's HTTP API, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        url: String,
        /// A file holding the API token (the one `[server] http_token_file` names).
        #[arg(long, env = "ROVGATE_TOKEN_FILE")]
        token_file: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() -> ExitCode {
    allocator::tune();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = match cli.command.unwrap_or(Command::Run { config: None }) {
        Command::Run { config } => run(config),
        Command::CheckConfig { file } => return check_config(&file),
        Command::Validate {
            vrps,
            rtr,
            prefix,
            asn,
            format,
        } => validate(vrps, rtr, prefix, asn, format),
        Command::Replay(args) => replay(args),
        Command::Report(args) => report(&args),
        Command::Reload { url, token_file } => reload(&url, token_file.as_deref()),
        Command::Vrps {
            action: VrpsAction::Accept { url, token_file },
        } => accept_vrps(&url, token_file.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rovgate: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// 2 when an input file the user gave cannot be used, 1 for anything else.
fn exit_code(e: &anyhow::Error) -> u8 {
    let bad_input = e
        .downcast_ref::<ReportError>()
        .is_some_and(ReportError::is_bad_input)
        || e.downcast_ref::<ReplayError>()
            .is_some_and(ReplayError::is_bad_input)
        || e.downcast_ref::<rpki::file::FileError>().is_some();
    if bad_input {
        2
    } else {
        1
    }
}

fn run(path: Option<PathBuf>) -> Result<()> {
    let config = match &path {
        Some(path) => match Config::load(path) {
            Ok(config) => config,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        },
        None => Config::embedded(),
    };
    allocator::small_table();
    rovgate::rib::on_large_table(allocator::large_table);
    runtime()?.block_on(rovgate::daemon::run(config, path))
}

fn check_config(path: &Path) -> ExitCode {
    match Config::load(path) {
        Ok(config) => {
            if let Some(warning) = config.server.http_warning() {
                eprintln!("warning: {warning}");
            }
            for warning in config.members.iter().flat_map(|m| m.warnings()) {
                eprintln!("warning: {warning}");
            }
            let members: String = config.members.iter().map(|m| m.describe()).collect();
            if let Err(e) = write_stdout(&format!("{members}ok\n")) {
                eprintln!("rovgate: {e}");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

/// `rovgate replay`: errors (cannot connect, NOTIFICATION, timeout) exit with 1.
fn replay(args: rovgate::replay::ReplayArgs) -> Result<()> {
    Ok(runtime()?.block_on(rovgate::replay::run_cli(args))?)
}

/// `rovgate report`: the rendered report on stdout (a closed pipe, as with `| head`, is fine).
fn report(args: &rovgate::report::ReportArgs) -> Result<()> {
    let text = rovgate::report::run_cli(args)?;
    Ok(write_stdout(&text)?)
}

/// Writes `text` to stdout; a closed pipe (as with `| head`) is fine.
fn write_stdout(text: &str) -> std::io::Result<()> {
    match std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e),
        _ => Ok(()),
    }
}

/// `rovgate vrps accept`: POST /api/v1/vrps/accept (with the token, when given) and say
/// what happened; a refusal is an error that quotes rovgate's answer.
fn accept_vrps(url: &str, token_file: Option<&Path>) -> Result<()> {
    let answer = post(url, "/api/v1/vrps/accept", token_file)?;
    if answer["accepted"] == serde_json::Value::Bool(true) {
        println!("accepted: the held VRP update is applied, its invalid routes are dropped");
    } else {
        println!("nothing to accept: no VRP update is held");
    }
    Ok(())
}

/// `rovgate reload`: POST /api/v1/reload and print what changed (as JSON).
fn reload(url: &str, token_file: Option<&Path>) -> Result<()> {
    let answer = post(url, "/api/v1/reload", token_file)?;
    println!("{answer:#}");
    Ok(())
}

/// POSTs `{}` to `path` of the API at `url` (with the token, when given) and returns the
/// JSON answer; a refusal is an error that quotes rovgate's answer.
fn post(url: &str, path: &str, token_file: Option<&Path>) -> Result<serde_json::Value> {
    let endpoint = format!("{}{path}", url.trim_end_matches('/'));
    let mut request = ureq::post(&endpoint);
    if let Some(file) = token_file {
        let token = std::fs::read_to_string(file)
            .with_context(|| format!("reading the token file {}", file.display()))?;
        request = request.set("Authorization", &format!("Bearer {}", token.trim()));
    }
    let answer = match request.send_json(serde_json::json!({})) {
        Ok(answer) => answer,
        Err(ureq::Error::Status(code, answer)) => {
            let why = answer.into_string().unwrap_or_default();
            bail!("POST {endpoint}: {code} {why}");
        }
        Err(e) => return Err(e).with_context(|| format!("POST {endpoint}")),
    };
    answer
        .into_json()
        .with_context(|| format!("reading the answer of {endpoint}"))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")
}

fn validate(
    vrps: Option<PathBuf>,
    rtr: Option<String>,
    prefix: IpNet,
    asn: Asn,
    format: Format,
) -> Result<()> {
    let table = match (vrps, rtr) {
        (Some(path), _) => rpki::file::load(&path)?.into_iter().collect(),
        (None, Some(address)) => runtime()?.block_on(fetch_rtr(address))?,
        (None, None) => bail!("give --vrps FILE or --rtr HOST:PORT"),
    };
    let verdict = table.validate(&prefix.trunc(), Some(asn));
    match format {
        Format::Json => println!("{}", serde_json::to_string(&verdict)?),
        Format::Text => print!("{}", verdict_text(&prefix, asn, &verdict)),
    }
    Ok(())
}

/// Fetches every VRP from one RTR cache (a reset query) and returns them.
async fn fetch_rtr(address: String) -> Result<VrpTable> {
    let config = RpkiConfig {
        vrp_files: Vec::new(),
        slurm: Vec::new(),
        caches: vec![CacheConfig {
            address: address.clone(),
            preference: 1,
        }],
        reload: Duration::from_secs(5),
        startup_wait: rpki::startup::DEFAULT_STARTUP_WAIT,
    };
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    let (store, _) = rpki::spawn(&config, shutdown);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let status = store.status();
        if let Some(cache) = status.sources.first() {
            if cache.resets > 0 {
                // The rpki task publishes the snapshot before the status that reports it.
                return Ok(store.load().table.clone());
            }
            if tokio::time::Instant::now() > deadline {
                let why = cache.error.as_deref().unwrap_or("no data within 30 s");
                bail!("RTR cache {address}: {why}");
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `validate --format text`: the state, then each VRP behind it (report::explain is the
/// what-to-fix advice of the what-if report, a different thing).
fn verdict_text(prefix: &IpNet, asn: Asn, v: &Verdict) -> String {
    let mut out = format!("{prefix} {asn}: {}\n", v.state);
    let lists = [
        ("matched", &v.matched),
        ("covering VRP with another AS", &v.bad_asn),
        ("covering VRP with too short max length", &v.bad_length),
    ];
    for (what, vrps) in lists {
        for vrp in vrps {
            out.push_str(&format!("  {what}: {vrp}\n"));
        }
    }
    out
}
