//! ADD-PATH on export (RFC 7911): whether a peer may be sent every path of a prefix.
//!
//! Where it sits: each `[[peer]]`'s `add_path` key (converted in `convert.rs`); the daemon
//! hands it to the peer's session, which offers the capability in its OPEN (`bgp::open`)
//! and, when the peer can receive, tells the RIB to export every path to it
//! (`rib/add_path.rs`). Named as OpenBGPD's `announce add-path send` and BIRD's
//! `add paths tx`; rovgate never receives ADD-PATH (a route server need not).

use std::str::FromStr;

use super::{choose, ChoiceError};

/// What a peer's session does with ADD-PATH.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AddPath {
    /// Not offered: the peer is sent the best path it may have, as any peer (default).
    #[default]
    Off,
    /// Offered as send for IPv4 and IPv6 unicast: a peer that can receive is sent every
    /// path that passes its export policy, each with its own path identifier.
    Send,
}

/// The config names of the ADD-PATH settings.
const ADD_PATH_NAMES: [(&str, AddPath); 2] = [("off", AddPath::Off), ("send", AddPath::Send)];

impl FromStr for AddPath {
    type Err = ChoiceError;

    /// Parses `off` or `send`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        choose(&ADD_PATH_NAMES, s)
    }
}
