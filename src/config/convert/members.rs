//! Conversion of `[[members]]` tables: each member address of the list becomes a peer, as
//! a `[[peer]]` of role `rs-client` with its name, address, AS and max-prefix would; a
//! `[[peer]]` with the same address wins.
//!
//! Where it sits: inside `convert.rs`'s conversion, after the `[[peer]]` tables; the lists
//! are read by `config/members.rs`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

use super::{RawPeer, Source, Text};
use crate::config::members::{self, MemberFormat, MemberList};
use crate::config::{ConfigError, Defaults, PeerConfig};
use crate::route::Asn;

/// A `[[members]]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMembers {
    file: Text,
    format: MemberFormat,
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
        for m in raw {
            let base = self.path.parent().unwrap_or(Path::new(""));
            let file = base.join(m.file.get_ref());
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
                for set in e.as_sets {
                    as_sets.entry(set).or_default().push(name.clone());
                }
                peers.push(PeerConfig {
                    name,
                    address: e.address,
                    asn: Asn(e.asn),
                    max_prefixes: e.max_prefixes,
                    ..template.clone()
                });
                list.peers += 1;
            }
            list.members = asns.len();
            list.as_sets = as_sets.into_iter().collect();
            lists.push(list);
        }
        Ok((peers, lists))
    }
}
