//! A path of a prefix on the wire to or from an ADD-PATH peer (RFC 7911 §3): the RIB names
//! the paths it sends such a peer (`rib/add_path.rs`), the codec writes them (`bgp::wire`);
//! the codec reads them from a BMP-monitored neighbour that uses ADD-PATH (`bmp/`), and the
//! RIB keeps each as a path of its own.

use ipnet::IpNet;

/// A prefix with a path identifier (RFC 7911 ADD-PATH): one of several paths of the prefix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PathNlri {
    /// The path identifier. Sent: the id of the peer the path came from (stable while the
    /// peer is configured, and never another peer's). Received: the sender's.
    pub id: u32,
    /// The prefix.
    pub prefix: IpNet,
}

/// What an UPDATE's prefix fields hold: plain prefixes (`IpNet`, path id 0), or prefixes
/// with their ADD-PATH identifiers ([`PathNlri`]).
pub trait Nlri: Copy + Default + std::fmt::Debug {
    /// A value from a path id and a prefix (`IpNet` keeps only the prefix).
    fn new(id: u32, prefix: IpNet) -> Self;
    /// The prefix.
    fn prefix(&self) -> IpNet;
    /// The path identifier (0 without ADD-PATH).
    fn path_id(&self) -> u32;
}

impl Nlri for IpNet {
    #[inline]
    fn new(_: u32, prefix: IpNet) -> Self {
        prefix
    }

    #[inline]
    fn prefix(&self) -> IpNet {
        *self
    }

    #[inline]
    fn path_id(&self) -> u32 {
        0
    }
}

impl Nlri for PathNlri {
    fn new(id: u32, prefix: IpNet) -> Self {
        PathNlri { id, prefix }
    }

    fn prefix(&self) -> IpNet {
        self.prefix
    }

    fn path_id(&self) -> u32 {
        self.id
    }
}
