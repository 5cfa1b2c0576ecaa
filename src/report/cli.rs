//! `rovgate report`: the what-if report of a running rovgate, or of an MRT file against a
//! VRP file.
//!
//! Where it sits: `main.rs` parses [`ReportArgs`] and prints what [`run_cli`] returns;
//! the report comes from `client.rs` (`--url`) or `offline.rs` (`--mrt`, `--vrps`) and is
//! rendered by `render.rs`.

use std::path::PathBuf;

use super::{fetch, from_mrt, render, Format, ReportError};
use crate::feed::Truncated;

/// The arguments of `rovgate report`: `--url`, or `--mrt` with `--vrps`.
#[derive(Clone, Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["url", "mrt"])))]
pub struct ReportArgs {
    /// A running rovgate's HTTP API, e.g. http://127.0.0.1:8080: its report
    /// (GET /api/v1/report).
    #[arg(long, conflicts_with_all = ["mrt", "vrps"])]
    pub url: Option<String>,
    /// An MRT file (TABLE_DUMP_V2 RIB or BGP4MP updates; .gz or .bz2 by name): every MRT
    /// peer is a report peer, named `AS<asn> <address>`, e.g. "AS64496 192.0.2.1".
    #[arg(long, requires = "vrps")]
    pub mrt: Option<PathBuf>,
    /// Read an --mrt file that is cut short (such as the first MiB of a dump) up to its last
    /// whole record, with a warning, instead of refusing it.
    #[arg(long, requires = "mrt")]
    pub allow_truncated: bool,
    /// The VRPs for --mrt: rpki-client JSON (.gz too), Routinator jsonext, or CSV.
    #[arg(long, requires = "mrt")]
    pub vrps: Option<PathBuf>,
    /// Report only this peer (its exact name).
    #[arg(long, value_name = "NAME")]
    pub peer: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Runs `rovgate report` and returns the rendered report. A `--peer` that names no peer
/// is an error.
pub fn run_cli(args: &ReportArgs) -> Result<String, ReportError> {
    let peer = args.peer.as_deref();
    let report = match (&args.url, &args.mrt, &args.vrps) {
        (Some(url), _, _) => fetch(url, peer)?,
        (None, Some(mrt), Some(vrps)) => {
            let truncated = match args.allow_truncated {
                true => Truncated::Read,
                false => Truncated::Refuse,
            };
            from_mrt(mrt, vrps, peer, truncated)?
        }
        _ => return Err(ReportError::NoSource),
    };
    if let Some(name) = peer {
        if !report.peers.iter().any(|p| p.name == name) {
            return Err(ReportError::UnknownPeer {
                name: name.to_string(),
                known: Vec::new(),
            });
        }
    }
    Ok(render(&report, args.format))
}
