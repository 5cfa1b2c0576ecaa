//! Conversion of the idle hold keys, `idle_hold_seconds` and `idle_hold_max_seconds`, in
//! `[defaults]` and each `[[peer]]`.
//!
//! Where it sits: inside `convert.rs`'s conversion; a peer's keys override the
//! `[defaults]` ones, which override [`IdleHold::default`].

use std::time::Duration;

use toml::Spanned;

use super::rov::RawDefaults;
use super::{RawPeer, Source};
use crate::config::{ConfigError, IdleHold};

/// A raw table with the idle hold keys.
pub(super) trait IdleHoldKeys {
    /// `idle_hold_seconds` and `idle_hold_max_seconds` as the file has them.
    fn idle_hold_keys(&self) -> (Option<&Spanned<u64>>, Option<&Spanned<u64>>);
}

impl IdleHoldKeys for RawPeer {
    fn idle_hold_keys(&self) -> (Option<&Spanned<u64>>, Option<&Spanned<u64>>) {
        (
            self.idle_hold_seconds.as_ref(),
            self.idle_hold_max_seconds.as_ref(),
        )
    }
}

impl IdleHoldKeys for RawDefaults {
    fn idle_hold_keys(&self) -> (Option<&Spanned<u64>>, Option<&Spanned<u64>>) {
        (
            self.idle_hold_seconds.as_ref(),
            self.idle_hold_max_seconds.as_ref(),
        )
    }
}

impl Source<'_> {
    /// The idle hold of the table whose keys start with `prefix` (`defaults.`, `peer[2].`):
    /// its keys over `inherited`. The first hold must be at least 1 s and the longest at
    /// least the first; the error names a key this table set.
    pub(super) fn idle_hold(
        &self,
        raw: &impl IdleHoldKeys,
        prefix: &str,
        inherited: IdleHold,
    ) -> Result<IdleHold, ConfigError> {
        let (first, max) = raw.idle_hold_keys();
        let key = |k: &str| format!("{prefix}{k}");
        let seconds = |v: Option<&Spanned<u64>>, or: Duration| {
            v.map_or(or, |s| Duration::from_secs(*s.get_ref()))
        };
        let hold = IdleHold {
            first: seconds(first, inherited.first),
            max: seconds(max, inherited.max),
        };
        if let Some(f) = first.filter(|f| *f.get_ref() == 0) {
            return Err(self.at(f, key("idle_hold_seconds"), "expected at least 1 second"));
        }
        // Inherited bounds are valid, so a bad pair has a key of this table to blame.
        let max_key = max.map(|m| (m, "idle_hold_max_seconds"));
        let set = max_key.or(first.map(|f| (f, "idle_hold_seconds")));
        if let Some((value, k)) = set.filter(|_| hold.max < hold.first) {
            let message = format!(
                "expected idle_hold_max_seconds ({}) at least idle_hold_seconds ({})",
                hold.max.as_secs(),
                hold.first.as_secs()
            );
            return Err(self.at(value, key(k), message));
        }
        Ok(hold)
    }
}
