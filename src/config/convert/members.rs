//! Conversion of `[[members]]` tables: each member address of the list becomes a peer, as
//! a `[[peer]]` of role `rs-client` with its name, address, AS and max-prefix would (and,
//! with `irr_dir`, the bgpq4 files of its AS-SETs as `irr`); a `[[peer]]` with the same
//! address wins.
//!
//! Where it sits: inside `convert.rs`'s conversion, after the `[[peer]]` tables; the lists
//! are read by `config/members.rs`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

use super::{RawPeer, Source, Text};
use crate::config::members::{self, MemberFormat, MemberList};
use crate::config::members_irr::IrrDir;
use crate::config::{ConfigError, Defaults, PeerConfig};
use crate::route::Asn;

/// A `[[members]]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMembers {
    file: Text,
    format: MemberFormat,
    irr_dir: Option<Text>,
}

/// What a member's peer is before its name, address, AS and limit: a `[[peer]]` of role
/// `rs-client` with nothing else set.
const TEMPLATE: &str = "name = \"member\"\naddress = \"0.0.0.0\"\nasn = 1\nrole = \"rs-client\"\n";

impl Source<'_> {
    /// `peers` (the `[[peer]]` tables) and after them the peers of every member list; what
    /// each list gave.
    pub(super) fn members(
        &self,
        raw: &[RawMembers],
        mut peers: Vec<PeerConfig>,
        defaults: &Defaults,
    ) -> Result<(Vec<PeerConfig>, Vec<MemberList>), ConfigError> {
        if raw.is_empty() {
            return Ok((peers, Vec::new()));
        }
        let template = toml::from_str::<RawPeer>(TEMPLATE).map_err(|e| ConfigError {
            file: self.path.to_path_buf(),
            line: None,
            key: None,
            message: e.to_string(),
        })?;
        let template = self.peer(0, &template, defaults)?;
        // Address -> the peer's name, and whether a `[[peer]]` table has it.
        let mut taken: HashMap<IpAddr, (String, bool)> = (peers.iter())
            .map(|p| (p.address, (p.name.clone(), true)))
            .collect();
        let names: HashSet<String> = peers.iter().map(|p| p.name.clone()).collect();
        let mut lists = Vec::new();
        for (i, m) in raw.iter().enumerate() {
            let base = self.path.parent().unwrap_or(Path::new(""));
            let file = base.join(m.file.get_ref());
            let mut irr = self.irr_dir(i, m)?;
            let entries = members::read(&file, m.format)?;
            let mut asns = HashSet::new();
            let mut as_sets: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut list = MemberList {
                file: file.clone(),
                format: m.format,
                members: 0,
                peers: 0,
                overridden: 0,
                as_sets: Vec::new(),
                irr_dir: irr.as_ref().map(|d| d.dir().to_path_buf()),
                irr_peers: 0,
                missing: Vec::new(),
            };
            for e in entries {
                asns.insert(e.asn);
                let name = format!("AS{}-{}", e.asn, e.address);
                let clash = |what: String| ConfigError {
                    file: file.clone(),
                    line: None,
                    key: Some(e.key.clone()),
                    message: what,
                };
                match taken.get(&e.address) {
                    Some((_, true)) => {
                        list.overridden += 1;
                        continue;
                    }
                    Some((other, false)) => {
                        return Err(clash(format!(
                            "address {} is listed twice (as {other})",
                            e.address
                        )))
                    }
                    None => {}
                }
                if names.contains(&name) {
                    let why = format!("a [[peer]] is named {name:?} with another address");
                    return Err(clash(why));
                }
                taken.insert(e.address, (name.clone(), false));
                let files = match &mut irr {
                    Some(dir) => (dir.files_for(&name, e.asn, &e.as_sets))
                        .map_err(|why| self.irr_error(i, m, why))?,
                    None => Vec::new(),
                };
                list.irr_peers += usize::from(!files.is_empty());
                for set in e.as_sets {
                    as_sets.entry(set).or_default().push(name.clone());
                }
                peers.push(PeerConfig {
                    name,
                    address: e.address,
                    asn: Asn(e.asn),
                    max_prefixes: e.max_prefixes,
                    irr: files,
                    ..template.clone()
                });
                list.peers += 1;
            }
            list.members = asns.len();
            list.as_sets = as_sets.into_iter().collect();
            list.missing = irr.map(IrrDir::into_missing).unwrap_or_default();
            lists.push(list);
        }
        Ok((peers, lists))
    }

    /// Table `i`'s `irr_dir`, resolved against the config's directory; with `check_files`
    /// it must be a directory.
    fn irr_dir(&self, i: usize, raw: &RawMembers) -> Result<Option<IrrDir>, ConfigError> {
        let Some(dir) = &raw.irr_dir else {
            return Ok(None);
        };
        let path = (self.path.parent().unwrap_or(Path::new(""))).join(dir.get_ref());
        if dir.get_ref().is_empty() || self.check_files && !path.is_dir() {
            let why = format!("{} is not a directory", path.display());
            return Err(self.irr_error(i, raw, why));
        }
        Ok(Some(IrrDir::new(path, self.check_files)))
    }

    fn irr_error(&self, i: usize, raw: &RawMembers, why: String) -> ConfigError {
        let at = raw.irr_dir.as_ref().unwrap_or(&raw.file);
        self.at(at, format!("members[{i}].irr_dir"), why)
    }
}
