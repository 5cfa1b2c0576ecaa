//! Member lists from IXP tools as peer sources: `[[members]] file = "..." format = "ixf" |
//! "arouteserver"` reads the IX-F member export JSON (the Euro-IX schema IXP Manager and
//! others publish) or arouteserver's `clients.yml`. Every peering address of a member is a
//! peer (`AS<asn>-<address>`, role `rs-client`, the rest from `[defaults]`), with the
//! member's max-prefix limit for that address family, and with `irr_dir` the bgpq4 files
//! of its AS-SETs as its `irr` files (`members_irr.rs`). A `[[peer]]` with the same
//! address overrides the member's entry.
//!
//! Where it sits: `convert.rs` calls [`read`] for each `[[members]]` table and turns the
//! entries into `PeerConfig`s; a reload reads the files again (the daemon reloads when one
//! changes, `daemon/irr_watch.rs`).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::members_irr::MissingIrr;
use super::ConfigError;

/// The formats of member lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberFormat {
    /// The IX-F member export JSON.
    Ixf,
    /// arouteserver's `clients.yml`.
    Arouteserver,
}

/// One peering address of a member, as its list gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberPeer {
    /// Where in the file it is (the dotted key of its address), for errors.
    pub key: String,
    /// The member's AS.
    pub asn: u32,
    /// The address it peers from.
    pub address: IpAddr,
    /// Its max-prefix limit for the address's family (none: no limit).
    pub max_prefixes: Option<u64>,
    /// Its AS-SETs (IRR), as listed.
    pub as_sets: Vec<String>,
}

/// What one `[[members]]` table read, for `check-config` and the status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberList {
    /// The file.
    pub file: PathBuf,
    /// Its format.
    pub format: MemberFormat,
    /// Distinct member ASes in it.
    pub members: usize,
    /// Peers taken from it (one per address).
    pub peers: usize,
    /// Addresses a `[[peer]]` table overrides.
    pub overridden: usize,
    /// Each AS-SET listed, with the peers (names) that list it, sorted.
    pub as_sets: Vec<(String, Vec<String>)>,
    /// `irr_dir`: where the bgpq4 files of the AS-SETs are; none: no IRR data from the list.
    pub irr_dir: Option<PathBuf>,
    /// Peers that got IRR data (a prefix or an origin list) from `irr_dir`.
    pub irr_peers: usize,
    /// The AS-SETs whose files are not all in `irr_dir`, by name.
    pub missing: Vec<MissingIrr>,
}

impl MemberList {
    /// What `check-config` prints of it: counts, how many peers got IRR data, then its
    /// AS-SETs.
    pub fn describe(&self) -> String {
        let format = match self.format {
            MemberFormat::Ixf => "ixf",
            MemberFormat::Arouteserver => "arouteserver",
        };
        let mut out = format!(
            "members {} ({format}): {} members, {} peers, {} overridden by [[peer]]\n",
            self.file.display(),
            self.members,
            self.peers,
            self.overridden
        );
        if let Some(dir) = &self.irr_dir {
            out += &format!(
                "  IRR data from {}: {} of {} peers, {} AS-SETs with files missing\n",
                dir.display(),
                self.irr_peers,
                self.peers,
                self.missing.len()
            );
        }
        if !self.as_sets.is_empty() {
            out += match self.irr_dir {
                Some(_) => "  AS-SETs:\n",
                None => "  AS-SETs (not checked: set irr_dir to check them):\n",
            };
            for (set, peers) in &self.as_sets {
                out += &format!("    {set}: {}\n", peers.join(", "));
            }
        }
        out
    }

    /// What is missing from `irr_dir`, one line per AS-SET, for `check-config` and the log.
    pub fn warnings(&self) -> impl Iterator<Item = String> + '_ {
        let file = self.file.display();
        (self.missing.iter()).map(move |m| format!("members {file}: {}", m.warning()))
    }
}

/// Reads the member list at `path` in `format`: every member address.
pub fn read(path: &Path, format: MemberFormat) -> Result<Vec<MemberPeer>, ConfigError> {
    let error = |line, key, message| ConfigError {
        file: path.to_path_buf(),
        line,
        key,
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(None, None, e.to_string()))?;
    let entries = match format {
        MemberFormat::Ixf => {
            let export: IxfExport = serde_json::from_str(&text)
                .map_err(|e| error(Some(e.line()), None, e.to_string()))?;
            ixf_entries(&export)
        }
        MemberFormat::Arouteserver => {
            let clients: ArsClients = serde_yaml_ng::from_str(&text).map_err(|e| {
                let line = e.location().map(|l| l.line());
                error(line, None, e.to_string())
            })?;
            ars_entries(&clients)
        }
    };
    let member = |(key, asn, address, max_prefixes, as_sets): Entry| {
        let bad = |what: String| error(None, Some(key.clone()), what);
        if asn == 0 {
            return Err(bad("expected a nonzero AS number".into()));
        }
        let address: IpAddr = (address.parse())
            .map_err(|_| bad(format!("AS{asn}: expected an IP address, got {address:?}")))?;
        Ok(MemberPeer {
            key,
            asn,
            address,
            max_prefixes: max_prefixes.filter(|&m| m > 0),
            as_sets,
        })
    };
    entries.into_iter().map(member).collect()
}

/// (dotted key of the address, AS, address, max-prefix, AS-SETs) of one member address.
type Entry = (String, u32, String, Option<u64>, Vec<String>);

/// The IX-F member export (JSON schema 0.6 and later): the parts rovgate reads.
#[derive(Deserialize)]
struct IxfExport {
    member_list: Vec<IxfMember>,
}

#[derive(Deserialize)]
struct IxfMember {
    asnum: u32,
    #[serde(default)]
    connection_list: Vec<IxfConnection>,
}

#[derive(Deserialize)]
struct IxfConnection {
    #[serde(default)]
    vlan_list: Vec<IxfVlan>,
}

#[derive(Deserialize)]
struct IxfVlan {
    ipv4: Option<IxfAddress>,
    ipv6: Option<IxfAddress>,
}

#[derive(Deserialize)]
struct IxfAddress {
    address: Option<String>,
    max_prefix: Option<u64>,
    as_macro: Option<String>,
}

fn ixf_entries(export: &IxfExport) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (m, member) in export.member_list.iter().enumerate() {
        for (c, connection) in member.connection_list.iter().enumerate() {
            for (v, vlan) in connection.vlan_list.iter().enumerate() {
                let families = [("ipv4", &vlan.ipv4), ("ipv6", &vlan.ipv6)];
                for (family, a) in families {
                    let Some((a, address)) = a.as_ref().and_then(|a| Some((a, a.address.clone()?)))
                    else {
                        continue;
                    };
                    let key = format!(
                        "member_list[{m}].connection_list[{c}].vlan_list[{v}].{family}.address"
                    );
                    let as_sets = a.as_macro.iter().cloned().collect();
                    entries.push((key, member.asnum, address, a.max_prefix, as_sets));
                }
            }
        }
    }
    entries
}

/// arouteserver's `clients.yml`: the parts rovgate reads.
#[derive(Deserialize)]
struct ArsClients {
    clients: Vec<ArsClient>,
}

#[derive(Deserialize)]
struct ArsClient {
    asn: u32,
    ip: ArsIps,
    #[serde(default)]
    cfg: ArsCfg,
}

/// One address, or a list of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum ArsIps {
    One(String),
    Many(Vec<String>),
}

#[derive(Default, Deserialize)]
struct ArsCfg {
    #[serde(default)]
    filtering: ArsFiltering,
}

#[derive(Default, Deserialize)]
struct ArsFiltering {
    #[serde(default)]
    irrdb: ArsIrrdb,
    #[serde(default)]
    max_prefix: ArsMaxPrefix,
}

#[derive(Default, Deserialize)]
struct ArsIrrdb {
    #[serde(default)]
    as_sets: Vec<String>,
}

#[derive(Default, Deserialize)]
struct ArsMaxPrefix {
    limit_ipv4: Option<u64>,
    limit_ipv6: Option<u64>,
}

fn ars_entries(clients: &ArsClients) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (i, client) in clients.clients.iter().enumerate() {
        let ips = match &client.ip {
            ArsIps::One(ip) => vec![(format!("clients[{i}].ip"), ip.clone())],
            ArsIps::Many(ips) => (ips.iter().enumerate())
                .map(|(j, ip)| (format!("clients[{i}].ip[{j}]"), ip.clone()))
                .collect(),
        };
        let limits = &client.cfg.filtering.max_prefix;
        for (key, ip) in ips {
            let limit = match ip.contains(':') {
                true => limits.limit_ipv6,
                false => limits.limit_ipv4,
            };
            let as_sets = client.cfg.filtering.irrdb.as_sets.clone();
            entries.push((key, client.asn, ip, limit, as_sets));
        }
    }
    entries
}

#[cfg(test)]
#[path = "members_tests.rs"]
mod tests;
