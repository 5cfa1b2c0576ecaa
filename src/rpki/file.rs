//! VRP files: rpki-client JSON (with its ASPAs), Routinator `json`/`jsonext` and `csv`, plain
//! or gzip.
//!
//! Where it sits: one [`watch()`] task per `rpki.vrp_files` entry reads its file at start and
//! whenever its mtime or size changes, and sends [`SourceEvent::FileLoaded`] (or
//! [`SourceEvent::FileFailed`]: the whole file is rejected, its previous VRPs stay) to the rpki
//! task (`mod.rs`), which merges it with the other sources (`sources.rs`). [`load`] is also
//! what `rovgate validate --vrps FILE` reads. The polling loop, `poll`, is shared with
//! `slurm.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use flate2::read::MultiGzDecoder;
use ipnet::IpNet;
use serde::{de, Deserialize, Deserializer};
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};

use super::aspa::Aspa;
use super::sources::SourceEvent;
use super::vrp::Vrp;
use crate::route::Asn;

/// A VRP or SLURM file that cannot be used; names the file, and the line or entry where known.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read (or decompressed).
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The content is wrong at `line` (1-based): bad JSON, or a bad VRP.
    #[error("{}:{line}: {message}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// The 1-based line (JSON: where the parser stopped, the end of the bad entry).
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// An entry parses but cannot be used, e.g. SLURM's `prefixFilters[2]`.
    #[error("{}: {entry}: {message}", path.display())]
    Entry {
        /// The file.
        path: PathBuf,
        /// Which entry, such as `prefixFilters[2]`.
        entry: String,
        /// What was wrong.
        message: String,
    },
}

impl FileError {
    /// A serde_json error, at its line.
    pub(super) fn json(path: &Path, e: &serde_json::Error) -> Self {
        let text = e.to_string();
        let message = match text.rsplit_once(" at line ") {
            Some((message, _)) if e.line() > 0 => message.to_string(),
            _ => text,
        };
        FileError::Line {
            path: path.to_path_buf(),
            line: e.line(),
            message,
        }
    }
}

/// What a VRP file holds: route origins, and ASPAs (JSON only).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Payload {
    /// The VRPs, in file order.
    pub vrps: Vec<Vrp>,
    /// The ASPAs, in file order (a customer may appear more than once).
    pub aspas: Vec<Aspa>,
}

/// Reads a VRP file's VRPs: JSON when it starts with `{`, else CSV.
pub fn load(path: &Path) -> Result<Vec<Vrp>, FileError> {
    load_payload(path).map(|p| p.vrps)
}

/// Reads a VRP file's VRPs and ASPAs.
pub fn load_payload(path: &Path) -> Result<Payload, FileError> {
    parse(&read(path)?, path)
}

/// Reads a file, decompressing it when it starts with gzip's magic bytes.
pub(super) fn read(path: &Path) -> Result<Vec<u8>, FileError> {
    let read_error = |source| FileError::Read {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(path).map_err(read_error)?;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut plain = Vec::new();
    MultiGzDecoder::new(&bytes[..])
        .read_to_end(&mut plain)
        .map_err(read_error)?;
    Ok(plain)
}

/// Parses VRP file content; `path` names the file in errors.
fn parse(bytes: &[u8], path: &Path) -> Result<Payload, FileError> {
    let at = |line, message| FileError::Line {
        path: path.to_path_buf(),
        line,
        message,
    };
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Err(at(1, "the file is empty, expected JSON or CSV VRPs".into())),
        Some(b'{') => match serde_json::from_slice::<JsonFile>(bytes) {
            Ok(file) => Ok(file.payload()),
            Err(e) => Err(FileError::json(path, &e)),
        },
        Some(_) => {
            let text = std::str::from_utf8(bytes).map_err(|e| {
                let line = 1 + bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                at(line, "not UTF-8 text".into())
            })?;
            let vrps = parse_csv(text).map_err(|(line, message)| at(line, message))?;
            Ok(Payload {
                vrps,
                aspas: Vec::new(),
            })
        }
    }
}

/// rpki-client and Routinator JSON: `{"roas": [...]}`, and ASPAs as rpki-client 8.5 and
/// later write them (`"aspas": [{"customer_asid": 64496, "providers": [64497]}]`) or as
/// rpki-client 8.4 did (`"provider_authorizations": {"ipv4": [...], "ipv6": [...]}`, read as
/// the union of both families, as the current ASPA profile has it); other keys ignored.
#[derive(Deserialize)]
struct JsonFile {
    roas: Vec<JsonVrp>,
    #[serde(default)]
    aspas: Vec<JsonAspa>,
    #[serde(default)]
    provider_authorizations: BTreeMap<String, Vec<JsonAspa>>,
}

impl JsonFile {
    fn payload(self) -> Payload {
        let by_family = self.provider_authorizations.into_values().flatten();
        Payload {
            vrps: self.roas.into_iter().map(|r| r.0).collect(),
            aspas: (self.aspas.into_iter().chain(by_family))
                .map(|a| Aspa {
                    customer: a.customer_asid.0,
                    providers: a.providers.into_iter().map(|p| p.0).collect(),
                })
                .collect(),
        }
    }
}

/// One ASPA of a JSON file; `expires` and other fields are ignored.
#[derive(Deserialize)]
struct JsonAspa {
    #[serde(alias = "customer")]
    customer_asid: JsonAsn,
    providers: Vec<JsonAsn>,
}

/// One `roas` entry, checked inside its own object so that serde_json's error line is the
/// entry's closing brace. `ta`, `expires`, `source` and other fields are ignored.
struct JsonVrp(Vrp);

#[derive(Deserialize)]
#[serde(field_identifier)]
enum Field {
    #[serde(rename = "asn")]
    Asn,
    #[serde(rename = "prefix")]
    Prefix,
    #[serde(rename = "maxLength")]
    MaxLength,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for JsonVrp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(JsonVrpVisitor)
    }
}

struct JsonVrpVisitor;

impl<'de> de::Visitor<'de> for JsonVrpVisitor {
    type Value = JsonVrp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a VRP object with asn, prefix and maxLength")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<JsonVrp, A::Error> {
        let (mut asn, mut prefix, mut max_length) = (None, None::<String>, None);
        while let Some(field) = map.next_key()? {
            match field {
                Field::Asn => asn = Some(map.next_value::<JsonAsn>()?.0),
                Field::Prefix => prefix = Some(map.next_value()?),
                Field::MaxLength => max_length = Some(map.next_value()?),
                Field::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let asn = asn.ok_or_else(|| de::Error::missing_field("asn"))?;
        let prefix = prefix.ok_or_else(|| de::Error::missing_field("prefix"))?;
        let max_length = max_length.ok_or_else(|| de::Error::missing_field("maxLength"))?;
        vrp(asn, &prefix, max_length)
            .map(JsonVrp)
            .map_err(de::Error::custom)
    }
}

/// An AS number as rpki-client (`13335`) or Routinator (`"AS13335"`) writes it.
struct JsonAsn(Asn);

impl<'de> Deserialize<'de> for JsonAsn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonAsnVisitor)
    }
}

struct JsonAsnVisitor;

impl de::Visitor<'_> for JsonAsnVisitor {
    type Value = JsonAsn;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an AS number like 13335 or \"AS13335\"")
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<JsonAsn, E> {
        let asn =
            u32::try_from(n).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(n), &self))?;
        Ok(JsonAsn(Asn(asn)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<JsonAsn, E> {
        s.parse()
            .map(JsonAsn)
            .map_err(|_| E::invalid_value(de::Unexpected::Str(s), &self))
    }
}

/// Builds a VRP from a file's fields, saying what is wrong when it cannot.
fn vrp(asn: Asn, prefix: &str, max_length: u8) -> Result<Vrp, String> {
    let net: IpNet = prefix
        .parse()
        .map_err(|_| format!("bad prefix {prefix:?}, expected address/length"))?;
    Vrp::new(net, max_length, asn).map_err(|e| e.to_string())
}

/// Routinator CSV: `ASN,IP Prefix,Max Length[,Trust Anchor]`, an optional header first.
/// Errors carry the 1-based line.
fn parse_csv(text: &str) -> Result<Vec<Vrp>, (usize, String)> {
    let mut vrps = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        let header = i == 0
            && line
                .split(',')
                .next()
                .is_some_and(|f| f.trim().eq_ignore_ascii_case("asn"));
        if line.is_empty() || header {
            continue;
        }
        vrps.push(csv_vrp(line).map_err(|message| (i + 1, message))?);
    }
    Ok(vrps)
}

fn csv_vrp(line: &str) -> Result<Vrp, String> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    let (asn, prefix, max_length) = match fields[..] {
        [asn, prefix, max_length] | [asn, prefix, max_length, _] => (asn, prefix, max_length),
        _ => {
            let expected = "expected ASN,IP Prefix,Max Length[,Trust Anchor]";
            return Err(format!("{expected}, got {line:?}"));
        }
    };
    let asn = asn.parse().map_err(|_| format!("bad AS number {asn:?}"))?;
    let max_length = max_length
        .parse()
        .map_err(|_| format!("bad max length {max_length:?}"))?;
    vrp(asn, prefix, max_length)
}

/// Watches one VRP file (its events carry the id `file`): reads it now and whenever it
/// changes, checking every `interval`, until `shutdown` turns true (or the task is aborted:
/// a reload removed the file).
pub async fn watch(
    file: usize,
    path: PathBuf,
    interval: Duration,
    events: mpsc::Sender<SourceEvent>,
    shutdown: watch::Receiver<bool>,
) {
    let event = move |result: Result<Payload, FileError>| match result {
        Ok(Payload { vrps, aspas }) => SourceEvent::FileLoaded { file, vrps, aspas },
        Err(e) => SourceEvent::FileFailed {
            file,
            error: e.to_string(),
        },
    };
    poll(path, interval, load_payload, event, events, shutdown).await;
}

/// What a file looked like when last read: its mtime and size (none: it could not be stat'ed).
type Stamp = Option<(Option<SystemTime>, u64)>;

async fn stamp(path: &Path) -> Stamp {
    let meta = tokio::fs::metadata(path).await.ok()?;
    Some((meta.modified().ok(), meta.len()))
}

/// The loop behind every file source: reads `path` with `load` (on the blocking pool) at start
/// and whenever its mtime or size changes, checking every `interval`; sends `event(result)`.
/// A failed read is logged here, once per change of the file.
pub(super) async fn poll<T, E>(
    path: PathBuf,
    interval: Duration,
    load: fn(&Path) -> Result<T, E>,
    event: impl Fn(Result<T, E>) -> SourceEvent,
    events: mpsc::Sender<SourceEvent>,
    mut shutdown: watch::Receiver<bool>,
) where
    T: Send + 'static,
    E: fmt::Display + Send + 'static,
{
    let name = path.display().to_string();
    let mut seen = None;
    while !*shutdown.borrow() {
        let now = stamp(&path).await;
        if seen != Some(now) {
            seen = Some(now);
            let file = path.clone();
            let result = match tokio::task::spawn_blocking(move || load(&file)).await {
                Ok(result) => result,
                Err(e) => {
                    warn!(file = %name, error = %e, "file reader failed");
                    continue;
                }
            };
            match &result {
                Ok(_) => info!(file = %name, "file read"),
                Err(e) => {
                    warn!(file = %name, error = %e, "file rejected, its previous data stays in use")
                }
            }
            if events.send(event(result)).await.is_err() {
                return;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            changed = shutdown.changed() => if changed.is_err() {
                return;
            },
        }
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
