//! Conversion of the IXP import checks' keys: the `[filters]` table, and the `checks` /
//! `check` modes and `next_hop` / `irr` keys of `[defaults]`, its role tables and peers.
//!
//! Where it sits: inside `convert.rs`'s conversion. With `check_files` (what `run`,
//! `check-config` and a reload use) every IRR file a peer names is read and parsed, so a
//! broken one is an error naming its key.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::{Expected, Source, Text};
use crate::config::{read_irr, ChoiceError, ConfigError, FiltersConfig, ModeLayer, NextHopMode};
use crate::policy::CheckGroup;
use crate::route::Asn;

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFilters {
    prefix_length_v4: Option<Spanned<[u8; 2]>>,
    prefix_length_v6: Option<Spanned<[u8; 2]>>,
    max_as_path: Option<Spanned<usize>>,
    transit_free: Option<Vec<u32>>,
    roa_as_route_object: Option<bool>,
    blackhole_next_hop_v4: Option<Text>,
    blackhole_next_hop_v6: Option<Text>,
}

/// A level's `check` table, keyed by group name (checked in conversion).
pub(super) type RawCheck = BTreeMap<Text, Text>;

impl Expected for NextHopMode {
    fn expected(_: &str, e: ChoiceError) -> String {
        e.to_string()
    }
}

impl Source<'_> {
    /// The `[filters]` table; absent keys take [`FiltersConfig::default`]'s values.
    pub(super) fn filters(&self, raw: &RawFilters) -> Result<FiltersConfig, ConfigError> {
        let default = FiltersConfig::default();
        let lengths = |raw: &Option<Spanned<[u8; 2]>>, key: &str, max: u8, default| match raw {
            None => Ok(default),
            Some(r) => match *r.get_ref() {
                [min, top] if min <= top && top <= max => Ok((min, top)),
                [min, top] => Err(self.at(
                    r,
                    format!("filters.{key}"),
                    format!("expected [shortest, longest] within 0-{max}, got [{min}, {top}]"),
                )),
            },
        };
        if let Some(m) = raw.max_as_path.as_ref().filter(|m| *m.get_ref() == 0) {
            return Err(self.at(m, "filters.max_as_path", "expected at least 1"));
        }
        Ok(FiltersConfig {
            v4_lengths: lengths(
                &raw.prefix_length_v4,
                "prefix_length_v4",
                32,
                default.v4_lengths,
            )?,
            v6_lengths: lengths(
                &raw.prefix_length_v6,
                "prefix_length_v6",
                128,
                default.v6_lengths,
            )?,
            max_as_path: raw
                .max_as_path
                .as_ref()
                .map_or(default.max_as_path, |m| *m.get_ref()),
            transit_free: match &raw.transit_free {
                Some(list) => list.iter().copied().map(Asn).collect(),
                None => default.transit_free,
            },
            roa_as_route_object: raw
                .roa_as_route_object
                .unwrap_or(default.roa_as_route_object),
            blackhole_v4: (raw.blackhole_next_hop_v4.as_ref())
                .map(|a| self.parse(a, "filters.blackhole_next_hop_v4"))
                .transpose()?,
            blackhole_v6: (raw.blackhole_next_hop_v6.as_ref())
                .map(|a| self.parse(a, "filters.blackhole_next_hop_v6"))
                .transpose()?,
        })
    }

    /// One level's `checks`, `check` and `aspa` keys, under `key` (`defaults.`, `peer[2].`).
    pub(super) fn mode_layer(
        &self,
        (checks, check, aspa): (Option<&Text>, &RawCheck, Option<&Text>),
        key: &str,
    ) -> Result<ModeLayer, ConfigError> {
        let mut each: Vec<_> = check.iter().collect();
        each.sort_by_key(|(group, _)| group.span().start);
        let each = each.into_iter().map(|(group, mode)| {
            let key = format!("{key}check.{}", group.get_ref());
            let Some(g) = CheckGroup::named(group.get_ref()) else {
                let names: Vec<_> = CheckGroup::ALL.iter().map(|g| g.name()).collect();
                let message = format!("expected one of {}", names.join(", "));
                return Err(self.at(group, key, message));
            };
            Ok((g, self.parse(mode, key)?))
        });
        let mut each: Vec<_> = each.collect::<Result<_, _>>()?;
        if let Some(aspa) = aspa {
            each.push((CheckGroup::Aspa, self.parse(aspa, format!("{key}aspa"))?));
        }
        Ok(ModeLayer {
            all: checks
                .map(|c| self.parse(c, format!("{key}checks")))
                .transpose()?,
            each,
        })
    }

    /// A peer's `irr` files: resolved, and with `check_files` read and parsed.
    pub(super) fn irr_files(
        &self,
        raw: &[Text],
        key: &str,
    ) -> Result<Vec<std::path::PathBuf>, ConfigError> {
        let paths = self.input_files(raw, key)?;
        if self.check_files {
            for (i, (raw, path)) in raw.iter().zip(&paths).enumerate() {
                read_irr(std::slice::from_ref(path))
                    .map_err(|m| self.at(raw, format!("{key}[{i}]"), m))?;
            }
        }
        Ok(paths)
    }
}
