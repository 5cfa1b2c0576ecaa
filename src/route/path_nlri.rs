//! A path of a prefix on the wire to an ADD-PATH peer (RFC 7911 §3): the RIB names the
//! paths it sends such a peer (`rib/add_path.rs`), the codec writes them (`bgp::wire`).

use ipnet::IpNet;

/// A prefix with a path identifier (RFC 7911 ADD-PATH): one of several paths of the prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PathNlri {
    /// The path identifier: the id of the peer the path came from (stable while the peer
    /// is configured, and never another peer's).
    pub id: u32,
    /// The prefix.
    pub prefix: IpNet,
}
