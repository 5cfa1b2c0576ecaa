//! Conversion of the file paths a config names: resolved against the config's directory,
//! and, for the VRP and SLURM files, checked to be there.
//!
//! Where it sits: inside `convert.rs`'s conversion. `Config::load` (what `run`,
//! `check-config` and a reload read) checks the input files, so rovgate never starts
//! without the VRPs or SLURM exceptions it was told to use; a file that goes missing later
//! keeps its last data (`rpki::sources`).

use std::path::{Path, PathBuf};

use super::{Source, Text};
use crate::config::ConfigError;

impl Source<'_> {
    /// Resolves relative paths against the config file's directory.
    pub(super) fn paths(&self, raw: &[Text], key: &str) -> Result<Vec<PathBuf>, ConfigError> {
        let base = self.path.parent().unwrap_or(Path::new(""));
        let path = |(i, p): (usize, &Text)| match p.get_ref().as_str() {
            "" => Err(self.at(p, format!("{key}[{i}]"), "expected a file path, got \"\"")),
            s => Ok(base.join(s)),
        };
        raw.iter().enumerate().map(path).collect()
    }

    /// Files rovgate reads its data from: resolved as [`Source::paths`] and, when the
    /// source checks files, each must be a readable file.
    pub(super) fn input_files(&self, raw: &[Text], key: &str) -> Result<Vec<PathBuf>, ConfigError> {
        let paths = self.paths(raw, key)?;
        if self.check_files {
            for (i, (raw, path)) in raw.iter().zip(&paths).enumerate() {
                readable(path).map_err(|m| self.at(raw, format!("{key}[{i}]"), m))?;
            }
        }
        Ok(paths)
    }
}

/// Whether `path` is a file rovgate can open; else why not.
fn readable(path: &Path) -> Result<(), String> {
    let cannot = |why: &dyn std::fmt::Display| format!("cannot read {}: {why}", path.display());
    let file = std::fs::File::open(path).map_err(|e| cannot(&e))?;
    match file.metadata() {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(cannot(&"not a file")),
        Err(e) => Err(cannot(&e)),
    }
}
