//! Conversion of the ROV policy tables: `[defaults]` with its `[defaults.role.<role>]`
//! tables, `[rov]`, and `[report]` (what is kept of ROV changes).
//!
//! Where it sits: inside `convert.rs`'s conversion; each peer's `rov` is then resolved
//! against the [`Defaults`] made here.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::filters::RawCheck;
use super::{Source, Text};
use crate::config::IdleHold;
use crate::config::{ConfigError, Defaults, ReportConfig, RovConfig};
use crate::policy::{RovMode, TagValues};
use crate::rib::MassInvalidation;

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefaults {
    rov: Option<Text>,
    /// Keyed by role name, checked in conversion so that errors name the key.
    #[serde(default)]
    role: BTreeMap<Text, RawRoleDefaults>,
    pub(super) idle_hold_seconds: Option<Spanned<u64>>,
    pub(super) idle_hold_max_seconds: Option<Spanned<u64>>,
    checks: Option<Text>,
    #[serde(default)]
    check: RawCheck,
    aspa: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoleDefaults {
    rov: Option<Text>,
    checks: Option<Text>,
    #[serde(default)]
    check: RawCheck,
    aspa: Option<Text>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRov {
    tag_valid: Option<Spanned<u32>>,
    tag_not_found: Option<Spanned<u32>>,
    tag_invalid: Option<Spanned<u32>>,
    filtered_reason: Option<bool>,
    mass_invalidation_percent: Option<Spanned<f64>>,
    mass_invalidation_peers: Option<Spanned<usize>>,
    mass_invalidation_min_routes: Option<usize>,
    mass_invalidation_hold_seconds: Option<u64>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReport {
    history_size: Option<Spanned<usize>>,
    history_file: Option<Text>,
}

/// A tag's key, its value in the file if set, and its value after defaults.
type Tag<'a> = (&'static str, Option<&'a Spanned<u32>>, u32);

fn tag<'a>(key: &'static str, raw: &'a Option<Spanned<u32>>, default: u32) -> Tag<'a> {
    let value = raw.as_ref().map_or(default, |t| *t.get_ref());
    (key, raw.as_ref(), value)
}

impl Source<'_> {
    /// The `[defaults]` table; role defaults keep their file order.
    pub(super) fn defaults(&self, raw: &RawDefaults) -> Result<Defaults, ConfigError> {
        let mut roles: Vec<_> = raw.role.iter().collect();
        roles.sort_by_key(|(role, _)| role.span().start);
        let mut role_rov = Vec::new();
        let mut role_checks = Vec::new();
        for (name, r) in roles {
            let key = format!("defaults.role.{}", name.get_ref());
            let role = self.parse(name, &key)?;
            if r.rov.is_none() && r.checks.is_none() && r.check.is_empty() && r.aspa.is_none() {
                let message = "expected at least one of rov, checks, check, aspa";
                return Err(self.at(name, key, message));
            }
            if let Some(rov) = &r.rov {
                role_rov.push((role, self.parse(rov, format!("{key}.rov"))?));
            }
            let modes = (r.checks.as_ref(), &r.check, r.aspa.as_ref());
            let checks = self.mode_layer(modes, &format!("{key}."))?;
            role_checks.push((role, checks));
        }
        Ok(Defaults {
            rov: match &raw.rov {
                Some(rov) => self.parse(rov, "defaults.rov")?,
                None => RovMode::Shadow,
            },
            role_rov,
            role_checks,
            checks: self.mode_layer(
                (raw.checks.as_ref(), &raw.check, raw.aspa.as_ref()),
                "defaults.",
            )?,
            idle_hold: self.idle_hold(raw, "defaults.", IdleHold::default())?,
        })
    }

    /// The `[rov]` table; absent keys take [`RovConfig::default`]'s values.
    pub(super) fn rov(&self, raw: &RawRov) -> Result<RovConfig, ConfigError> {
        let default = RovConfig::default();
        let tags = [
            tag("tag_valid", &raw.tag_valid, default.tag.valid),
            tag("tag_not_found", &raw.tag_not_found, default.tag.not_found),
            tag("tag_invalid", &raw.tag_invalid, default.tag.invalid),
        ];
        self.check_distinct(&tags)?;
        let peers = raw.mass_invalidation_peers.as_ref();
        if let Some(p) = peers.filter(|p| *p.get_ref() == 0) {
            return Err(self.at(p, "rov.mass_invalidation_peers", "expected at least 1"));
        }
        let hold_seconds = raw.mass_invalidation_hold_seconds;
        Ok(RovConfig {
            tag: TagValues {
                valid: tags[0].2,
                not_found: tags[1].2,
                invalid: tags[2].2,
            },
            filtered_reason: raw.filtered_reason.unwrap_or(default.filtered_reason),
            mass: MassInvalidation {
                share_ppm: match &raw.mass_invalidation_percent {
                    Some(percent) => self.share_ppm(percent)?,
                    None => default.mass.share_ppm,
                },
                peers: peers.map_or(default.mass.peers, |p| *p.get_ref()),
                min_routes: raw
                    .mass_invalidation_min_routes
                    .unwrap_or(default.mass.min_routes),
                hold: hold_seconds.map_or(default.mass.hold, |s| {
                    (s > 0).then(|| Duration::from_secs(s))
                }),
            },
        })
    }

    /// Two states with one tag could not be told apart; the error is at a tag the file set.
    fn check_distinct<'a>(&self, tags: &[Tag<'a>]) -> Result<(), ConfigError> {
        for (i, later) in tags.iter().enumerate() {
            let Some(earlier) = tags[..i].iter().find(|t| t.2 == later.2) else {
                continue;
            };
            let set = |t: &Tag<'a>| t.1.map(|value| (t.0, value));
            let Some((key, value)) = set(later).or_else(|| set(earlier)) else {
                continue; // two defaults: they differ
            };
            let message = format!(
                "expected distinct tags, got {} for both {} and {}",
                later.2, earlier.0, later.0
            );
            return Err(self.at(value, format!("rov.{key}"), message));
        }
        Ok(())
    }

    /// A percentage, turned into parts per million.
    fn share_ppm(&self, percent: &Spanned<f64>) -> Result<u32, ConfigError> {
        let ppm = (percent.get_ref() * 10_000.0).round();
        if (1.0..=1_000_000.0).contains(&ppm) {
            return Ok(ppm as u32);
        }
        Err(self.at(
            percent,
            "rov.mass_invalidation_percent",
            format!(
                "expected a percentage from 0.0001 to 100, got {}",
                percent.get_ref()
            ),
        ))
    }

    pub(super) fn report(&self, raw: &RawReport) -> Result<ReportConfig, ConfigError> {
        let size = raw.history_size.as_ref();
        if let Some(s) = size.filter(|s| *s.get_ref() == 0) {
            return Err(self.at(s, "report.history_size", "expected at least 1"));
        }
        let file = raw.history_file.as_ref().map(std::slice::from_ref);
        let file = self.paths(file.unwrap_or_default(), "report.history_file")?;
        Ok(ReportConfig {
            history_size: size.map_or(ReportConfig::default().history_size, |s| *s.get_ref()),
            history_file: file.into_iter().next(),
        })
    }
}
