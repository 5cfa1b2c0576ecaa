//! IRR data for the peers of a member list: `[[members]] irr_dir = "irr"` maps each
//! AS-SET of a member (IX-F `as_macro`, arouteserver's `cfg.filtering.irrdb.as_sets`;
//! `AS<asn>` when the list names none, as arouteserver does) to the files bgpq4 writes for
//! it in that directory, the ones the IRR check already reads (`policy/irr.rs`):
//!
//! ```text
//! bgpq4 -j -A -4 -l AS-EXAMPLE AS-EXAMPLE > irr/AS-EXAMPLE.v4.json
//! bgpq4 -j -A -6 -l AS-EXAMPLE AS-EXAMPLE > irr/AS-EXAMPLE.v6.json
//! bgpq4 -j -t -l AS-EXAMPLE AS-EXAMPLE > irr/AS-EXAMPLE.asns.json
//! ```
//!
//! A member's peers get the files of all its AS-SETs as their `irr` list (the IRR check
//! takes the union). A missing file never rejects routes: a peer gets the prefix files only
//! when every one of its AS-SETs has both, and the origin files only when every one has
//! its own; what is missing is reported (`check-config`, the log) with the command that
//! makes it.
//!
//! Where it sits: `convert/members.rs` asks [`IrrDir::files_for`] for each member address.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::read_irr;

/// The three files bgpq4 writes per AS-SET, with the arguments that write each.
const FILES: [(&str, &str); 3] = [
    ("v4.json", "-j -A -4"),
    ("v6.json", "-j -A -6"),
    ("asns.json", "-j -t"),
];

/// An AS-SET whose bgpq4 files are not all in `irr_dir`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingIrr {
    /// The AS-SET (or `AS<asn>`).
    pub as_set: String,
    /// The files not there; empty when the name cannot be a file name.
    pub files: Vec<PathBuf>,
    /// The peers (names) whose IRR data lacks it.
    pub peers: Vec<String>,
}

impl MissingIrr {
    /// The bgpq4 commands that write the missing files.
    pub fn commands(&self) -> Vec<String> {
        let set = &self.as_set;
        let command = |file: &PathBuf| {
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            let args = FILES.iter().find(|(suffix, _)| name.ends_with(suffix));
            let args = args.map_or("-j", |(_, args)| args);
            format!("bgpq4 {args} -l {set} {set} > {}", file.display())
        };
        self.files.iter().map(command).collect()
    }

    /// Which of the IRR checks its peers go without: `prefix`, `origin`, or both.
    pub fn checks_lost(&self) -> &'static str {
        let lost = |suffix: &str| {
            self.files.is_empty()
                || (self.files.iter()).any(|f| f.to_string_lossy().ends_with(suffix))
        };
        match (lost("v4.json") || lost("v6.json"), lost("asns.json")) {
            (true, true) => "prefix and origin",
            (true, false) => "prefix",
            _ => "origin",
        }
    }

    /// What `check-config` and the log say about it.
    pub fn warning(&self) -> String {
        let peers = self.peers.join(", ");
        let lost = self.checks_lost();
        match self.files.is_empty() {
            true => format!(
                "AS-SET {:?} cannot be a file name: no IRR {lost} check for {peers}",
                self.as_set
            ),
            false => format!(
                "AS-SET {}: missing {}; no IRR {lost} check for {peers} (make it: {})",
                self.as_set,
                (self.files.iter().map(|f| f.display().to_string()))
                    .collect::<Vec<_>>()
                    .join(", "),
                self.commands().join("; "),
            ),
        }
    }
}

/// Whether an AS-SET's name can be a file name in `irr_dir` (RPSL names are letters,
/// digits, `-`, `_` and `:`; a list could hold anything).
fn usable(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\', '\0'])
}

/// The files of one `irr_dir`, looked at once each, and what is missing.
pub(crate) struct IrrDir {
    dir: PathBuf,
    /// Parse every file found (what `check-config`, `run` and a reload do).
    parse: bool,
    /// Per AS-SET: whether each of its three files is there (none: not a file name).
    present: HashMap<String, Option<[bool; 3]>>,
    missing: BTreeMap<String, MissingIrr>,
}

impl IrrDir {
    /// The directory `dir`; with `parse`, each file found is read and parsed.
    pub(crate) fn new(dir: PathBuf, parse: bool) -> Self {
        IrrDir {
            dir,
            parse,
            present: HashMap::new(),
            missing: BTreeMap::new(),
        }
    }

    /// The directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, set: &str, suffix: &str) -> PathBuf {
        self.dir.join(format!("{set}.{suffix}"))
    }

    /// Which of `set`'s files are there; a file that is there but does not parse is the
    /// error (`file: why`).
    fn look(&mut self, set: &str) -> Result<Option<[bool; 3]>, String> {
        if let Some(&known) = self.present.get(set) {
            return Ok(known);
        }
        let mut there = None;
        if usable(set) {
            let mut each = [false; 3];
            for (found, (suffix, _)) in each.iter_mut().zip(FILES) {
                let path = self.path(set, suffix);
                *found = path.is_file();
                if *found && self.parse {
                    read_irr(std::slice::from_ref(&path))?;
                }
            }
            there = Some(each);
        }
        self.present.insert(set.to_string(), there);
        Ok(there)
    }

    /// The `irr` files of peer `peer` of AS `asn` listing `as_sets`: the prefix files of
    /// every set when all are there, the origin files likewise. What is missing is noted.
    pub(crate) fn files_for(
        &mut self,
        peer: &str,
        asn: u32,
        as_sets: &[String],
    ) -> Result<Vec<PathBuf>, String> {
        let own = [format!("AS{asn}")];
        let sets = if as_sets.is_empty() {
            &own[..]
        } else {
            as_sets
        };
        let mut found = Vec::new();
        for set in sets {
            let there = self.look(set)?;
            let absent: Vec<PathBuf> = match there {
                None => Vec::new(),
                Some(each) => (each.iter().zip(FILES))
                    .filter(|(there, _)| !**there)
                    .map(|(_, (suffix, _))| self.path(set, suffix))
                    .collect(),
            };
            if there.is_none() || !absent.is_empty() {
                let entry = self.missing.entry(set.clone()).or_insert(MissingIrr {
                    as_set: set.clone(),
                    files: absent,
                    peers: Vec::new(),
                });
                entry.peers.push(peer.to_string());
            }
            found.push((set, there.unwrap_or_default()));
        }
        let all = |i: usize| found.iter().all(|(_, each)| each[i]);
        let (prefixes, origins) = (all(0) && all(1), all(2));
        let files = found.iter().flat_map(|(set, _)| {
            (FILES.iter().zip([prefixes, prefixes, origins]))
                .filter(|(_, wanted)| *wanted)
                .map(|((suffix, _), _)| self.path(set, suffix))
        });
        Ok(files.collect())
    }

    /// The AS-SETs with files missing, by name.
    pub(crate) fn into_missing(self) -> Vec<MissingIrr> {
        self.missing.into_values().collect()
    }
}

#[cfg(test)]
#[path = "members_irr_tests.rs"]
mod tests;
