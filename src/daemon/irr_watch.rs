//! Notices when a peer's IRR files change, so that its routes are checked against the new
//! data without a reload (as VRP files are re-read when they change), and when a member
//! list (`[[members]]`) changes or a missing file of its `irr_dir` appears, so that the
//! config is reloaded; says which of those files are missing.
//!
//! Where it sits: `signals.rs`'s loop looks every `[rpki] reload_seconds` and sends the RIB
//! the changed peers' checks ([`super::reload::set_checks`]), or reloads.

use std::path::Path;
use std::time::SystemTime;

use tracing::warn;

use crate::config::Config;

/// A file's mtime and size; none: it could not be stat'ed.
type Stamp = Option<(Option<SystemTime>, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok(), meta.len()))
}

/// Every peer's IRR files as last seen.
pub(super) struct IrrStamps(Vec<Vec<Stamp>>);

impl IrrStamps {
    /// The files of `config`'s peers as they are now.
    pub(super) fn new(config: &Config) -> Self {
        IrrStamps(Self::look(config))
    }

    fn look(config: &Config) -> Vec<Vec<Stamp>> {
        let peers = config.peers.iter();
        peers
            .map(|p| p.irr.iter().map(|f| stamp(f)).collect())
            .collect()
    }

    /// The peers whose IRR files (or the list of them) changed since the last look.
    pub(super) fn changed(&mut self, config: &Config) -> Vec<usize> {
        let now = Self::look(config);
        let changed = (0..now.len()).filter(|&i| self.0.get(i) != Some(&now[i]));
        let changed = changed.collect();
        self.0 = now;
        changed
    }
}

/// The member lists' files as last seen, and the files missing from their `irr_dir`s.
pub(super) struct MemberStamps(Vec<Stamp>);

impl MemberStamps {
    /// The member lists of `config` as they are now.
    pub(super) fn new(config: &Config) -> Self {
        MemberStamps(Self::look(config))
    }

    fn look(config: &Config) -> Vec<Stamp> {
        let lists = config.members.iter();
        let missing = lists
            .clone()
            .flat_map(|m| &m.missing)
            .flat_map(|m| &m.files);
        lists
            .map(|m| &m.file)
            .chain(missing)
            .map(|f| stamp(f))
            .collect()
    }

    /// Whether a member list (or the list of them) changed, or a missing IRR file
    /// appeared, since the last look.
    pub(super) fn changed(&mut self, config: &Config) -> bool {
        let now = Self::look(config);
        std::mem::replace(&mut self.0, now) != self.0
    }
}

/// Logs each AS-SET whose files are missing from its list's `irr_dir` (at start, and
/// after a reload): its peers go without the IRR checks it lacks files for.
pub(super) fn warn_missing(config: &Config) {
    for list in &config.members {
        for missing in &list.missing {
            warn!(
                members = %list.file.display(),
                as_set = %missing.as_set,
                make = %missing.commands().join("; "),
                "IRR files missing: no IRR {} check for {}",
                missing.checks_lost(),
                missing.peers.join(", ")
            );
        }
    }
}
