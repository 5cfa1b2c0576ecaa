//! Session damping settings: how long a peer's session waits after it went down.
//!
//! Where it sits: `[defaults]` and each `[[peer]]` set [`IdleHold`] (keys
//! `idle_hold_seconds`, `idle_hold_max_seconds`, converted in `convert/damping.rs`); the
//! daemon hands each peer's to its session, whose FSM (`bgp::fsm`) waits the first idle hold
//! after a fall and doubles it per fall up to the longest.

use std::time::Duration;

/// The idle hold bounds of a peer's session (OpenBGPD's IdleHoldTime): after each fall the
/// session waits, starting at `first` and doubling up to `max`; a session that stays up for
/// `max` starts again at `first`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdleHold {
    /// The first idle hold (key `idle_hold_seconds`, at least 1, default 5 s).
    pub first: Duration,
    /// The longest idle hold (key `idle_hold_max_seconds`, at least `first`, default 300 s).
    pub max: Duration,
}

impl Default for IdleHold {
    /// 5 s, doubling to 300 s.
    fn default() -> Self {
        IdleHold {
            first: Duration::from_secs(5),
            max: Duration::from_secs(300),
        }
    }
}
