//! SLURM files (RFC 8416): local filters and assertions over the RPKI data.
//!
//! Where it sits: one [`watch()`] task per `rpki.slurm` entry reads its file at start and
//! whenever it changes (the same polling loop as VRP files, `file::poll`), and sends
//! [`SourceEvent::SlurmLoaded`] (or [`SourceEvent::SlurmFailed`]: the previous exceptions stay)
//! to the rpki task (`mod.rs`). `sources.rs` applies the [`LocalExceptions`] on top of every
//! source: filters remove VRPs, assertions add them. The `rpki` crate parses prefix filters
//! and assertions; this file reads the top level and converts to rovgate's types. BGPsec and
//! ASPA members are ignored, and may be absent or not RFC-exact (as in stayrtr's examples).

use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use rpki::resources::addr::Prefix;
use rpki::slurm::{PrefixAssertion, PrefixFilter as SlurmFilter};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use super::file::{poll, read, FileError};
use super::sources::SourceEvent;
use super::vrp::Vrp;
use crate::route::Asn;

/// A SLURM prefix filter (RFC 8416 §3.3.1): drops VRPs within `prefix` and/or of `asn`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrefixFilter {
    /// VRPs whose prefix lies within this one.
    pub prefix: Option<IpNet>,
    /// VRPs with this AS.
    pub asn: Option<Asn>,
    /// The operator's comment.
    pub comment: Option<String>,
}

impl PrefixFilter {
    /// Whether this filter removes `vrp`; a filter with neither prefix nor AS removes nothing.
    pub fn drops(&self, vrp: &Vrp) -> bool {
        let constrained = self.prefix.is_some() || self.asn.is_some();
        constrained
            && self.prefix.is_none_or(|p| p.contains(&vrp.prefix))
            && self.asn.is_none_or(|a| a == vrp.asn)
    }
}

/// SLURM filters and assertions (RFC 8416): the local exceptions to the RPKI data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LocalExceptions {
    /// Prefix filters: VRPs they match are removed.
    pub filters: Vec<PrefixFilter>,
    /// Prefix assertions: VRPs added whatever the sources say.
    pub assertions: Vec<Vrp>,
}

/// A SLURM file that cannot be used: the same error as a VRP file's, naming the file and the
/// line or entry (`prefixFilters[2]`).
pub type SlurmError = FileError;

/// Reads a SLURM file (plain or gzip) into its filters and assertions.
pub fn load(path: &Path) -> Result<LocalExceptions, SlurmError> {
    let bytes = read(path)?;
    let slurm: RawSlurm = serde_json::from_slice(&bytes).map_err(|e| FileError::json(path, &e))?;
    exceptions(&slurm).map_err(|(entry, message)| FileError::Entry {
        path: path.to_path_buf(),
        entry,
        message,
    })
}

/// An RFC 8416 file's top level. rovgate validates origins only, so the BGPsec and ASPA
/// members are skipped unread (the `rpki` crate's `SlurmFile` would insist on them).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSlurm {
    #[serde(rename = "slurmVersion")]
    _version: Version,
    validation_output_filters: RawFilters,
    locally_added_assertions: RawAssertions,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawFilters {
    prefix_filters: Vec<SlurmFilter>,
    #[serde(rename = "bgpsecFilters", default)]
    _bgpsec: IgnoredAny,
    #[serde(rename = "aspaFilters", default)]
    _aspa: IgnoredAny,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawAssertions {
    prefix_assertions: Vec<PrefixAssertion>,
    #[serde(rename = "bgpsecAssertions", default)]
    _bgpsec: IgnoredAny,
    #[serde(rename = "aspaAssertions", default)]
    _aspa: IgnoredAny,
}

/// `slurmVersion`: 1 (RFC 8416) or 2 (with ASPA, draft-ietf-sidrops-aspa-slurm).
#[derive(Deserialize)]
#[serde(try_from = "u8")]
struct Version;

impl TryFrom<u8> for Version {
    type Error = &'static str;

    fn try_from(version: u8) -> Result<Self, Self::Error> {
        match version {
            1 | 2 => Ok(Version),
            _ => Err("slurmVersion must be 1 or 2"),
        }
    }
}

/// Converts parsed SLURM; an error names the entry and what is wrong with it.
fn exceptions(slurm: &RawSlurm) -> Result<LocalExceptions, (String, String)> {
    let filters = slurm
        .validation_output_filters
        .prefix_filters
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let entry = || format!("prefixFilters[{i}]");
            if f.prefix.is_none() && f.asn.is_none() {
                return Err((
                    entry(),
                    "a filter needs a prefix, an asn or both".to_string(),
                ));
            }
            Ok(PrefixFilter {
                prefix: f.prefix.map(net).transpose().map_err(|m| (entry(), m))?,
                asn: f.asn.map(|a| Asn(a.into_u32())),
                comment: f.comment.clone(),
            })
        });
    let assertions = slurm
        .locally_added_assertions
        .prefix_assertions
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let prefix = net(a.prefix.prefix());
            let vrp = prefix.and_then(|p| {
                let asn = Asn(a.asn.into_u32());
                Vrp::new(p, a.prefix.resolved_max_len(), asn).map_err(|e| e.to_string())
            });
            vrp.map_err(|m| (format!("prefixAssertions[{i}]"), m))
        });
    Ok(LocalExceptions {
        filters: filters.collect::<Result<_, _>>()?,
        assertions: assertions.collect::<Result<_, _>>()?,
    })
}

fn net(prefix: Prefix) -> Result<IpNet, String> {
    IpNet::new(prefix.addr(), prefix.len()).map_err(|e| e.to_string())
}

/// Watches one SLURM file (its events carry the id `file`): reads it now and whenever it
/// changes, checking every `interval`, until `shutdown` turns true (or the task is aborted:
/// a reload removed the file).
pub async fn watch(
    file: usize,
    path: PathBuf,
    interval: Duration,
    events: mpsc::Sender<SourceEvent>,
    shutdown: watch::Receiver<bool>,
) {
    let event = move |result: Result<LocalExceptions, SlurmError>| match result {
        Ok(exceptions) => SourceEvent::SlurmLoaded { file, exceptions },
        Err(e) => SourceEvent::SlurmFailed {
            file,
            error: e.to_string(),
        },
    };
    poll(path, interval, load, event, events, shutdown).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/vrps/");

    fn vrp(prefix: &str, max_length: u8, asn: u32) -> Vrp {
        Vrp::new(prefix.parse().expect("test prefix"), max_length, Asn(asn)).expect("test VRP")
    }

    fn filter(prefix: Option<&str>, asn: Option<u32>, comment: Option<&str>) -> PrefixFilter {
        PrefixFilter {
            prefix: prefix.map(|p| p.parse().expect("test prefix")),
            asn: asn.map(Asn),
            comment: comment.map(String::from),
        }
    }

    #[test]
    fn stayrtr_example_gives_filters_and_assertions() {
        let got = load(Path::new(&format!("{DATA}slurm.json"))).expect("valid SLURM");
        let filters = vec![
            filter(
                Some("192.0.2.0/24"),
                None,
                Some("All VRPs encompassed by prefix"),
            ),
            filter(None, Some(64496), Some("All VRPs matching ASN")),
            filter(
                Some("198.51.100.0/24"),
                Some(64497),
                Some("All VRPs encompassed by prefix, matching ASN"),
            ),
        ];
        assert_eq!(got.filters, filters);
        // No maxPrefixLength: the max length is the prefix length.
        let assertions = vec![
            vrp("198.51.100.0/24", 24, 64496),
            vrp("2001:db8::/32", 48, 64496),
        ];
        assert_eq!(got.assertions, assertions);
    }

    #[test]
    fn stayrtr_test_file_version_1() {
        let got = load(Path::new(&format!("{DATA}test.slurm.json"))).expect("valid SLURM");
        assert_eq!(
            got.filters,
            vec![filter(Some("10.0.0.0/24"), Some(65000), None)]
        );
        assert_eq!(got.assertions, vec![vrp("10.2.0.0/25", 26, 65002)]);
    }

    fn load_text(name: &str, text: &str) -> Result<LocalExceptions, SlurmError> {
        let dir = std::env::temp_dir().join(format!("rovgate-slurm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write temp file");
        load(&path)
    }

    const EMPTY_FILTERS: &str =
        r#""validationOutputFilters": {"prefixFilters": [], "bgpsecFilters": []}"#;

    #[test]
    fn bad_files_name_file_and_place() {
        let syntax = "{\n  \"slurmVersion\": 1,\n  \"validationOutputFilters\": {\n    \"prefixFilters\": [,]\n";
        let unknown = format!(
            "{{\"slurmVersion\": 1,\n{EMPTY_FILTERS},\n\"locallyAddedAssertions\": {{\"prefixAssertions\": [], \"bgpsecAssertions\": []}},\n\"extra\": 1}}"
        );
        let bad_max = format!(
            "{{\"slurmVersion\": 1,\n{EMPTY_FILTERS},\n\"locallyAddedAssertions\": {{\"bgpsecAssertions\": [], \"prefixAssertions\": [\n{{\"asn\": 1, \"prefix\": \"10.0.0.0/24\", \"maxPrefixLength\": 20}}\n]}}}}"
        );
        let empty_filter = "{\"slurmVersion\": 1, \"validationOutputFilters\": {\"bgpsecFilters\": [], \"prefixFilters\": [{\"comment\": \"all\"}]},\n\"locallyAddedAssertions\": {\"prefixAssertions\": [], \"bgpsecAssertions\": []}}";
        let version = unknown
            .replace(": 1,", ": 3,")
            .replace(",\n\"extra\": 1", "");
        let cases: [(&str, &str, &str); 5] = [
            ("version.json", &version, "slurmVersion must be 1 or 2"),
            ("syntax.json", syntax, "syntax.json:4: "),
            (
                "unknown.json",
                &unknown,
                "unknown.json:4: unknown field `extra`",
            ),
            (
                "max.json",
                &bad_max,
                "max.json:4: max-length smaller than prefix length",
            ),
            (
                "filter.json",
                empty_filter,
                "filter.json: prefixFilters[0]: a filter needs",
            ),
        ];
        for (name, text, want) in cases {
            let error = load_text(name, text).expect_err(name).to_string();
            assert!(error.contains(want), "{name}: got {error:?}, want {want:?}");
        }
    }
}
