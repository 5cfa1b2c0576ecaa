//! What the RPKI sources look like from outside: per-source state for the status API.
//!
//! Where it sits: `VrpSources` (sources.rs) keeps a [`SourceStatus`] per source; the rpki
//! task publishes them as [`RpkiStatus`] through the store; HTTP serializes them.

use std::time::SystemTime;

use serde::Serialize;

/// The state of the RPKI sources; changes more often than the VRPs themselves.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RpkiStatus {
    /// Every configured source and its state.
    pub sources: Vec<SourceStatus>,
    /// True when RTR caches are configured but none has data within its expire time: their
    /// VRPs are withdrawn and routes they covered fail open to not-found.
    pub stale: bool,
    /// True once the first complete VRP set is in: every configured source has answered
    /// once, or `[rpki] startup_wait` has passed. Until then peers in `drop` export nothing.
    pub complete: bool,
    /// Whether routes are validated at all, and if not, why and since when.
    pub validation: Validation,
}

/// Whether validation is active: not while the VRP set is empty or stale (routes then fail
/// open to not-found, which would otherwise read as all clear).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Validation {
    /// True when VRPs are in force and not stale.
    pub active: bool,
    /// Why validation is not active: `no VRPs yet`, `no VRPs`, or `VRPs stale`.
    pub reason: Option<&'static str>,
    /// Since when it is not active (Unix seconds in JSON).
    #[serde(serialize_with = "unix_seconds")]
    pub since: Option<SystemTime>,
}

impl Validation {
    /// The state after a publish of `vrps` VRPs (`stale`, `ever` had some), keeping the
    /// start of an inactive spell from `self`.
    pub fn next(&self, vrps: usize, stale: bool, ever: bool, now: SystemTime) -> Validation {
        let reason = match (vrps, stale, ever) {
            (_, true, _) => "VRPs stale",
            (0, _, false) => "no VRPs yet",
            (0, _, true) => "no VRPs",
            _ => return Validation::active(),
        };
        Validation {
            active: false,
            reason: Some(reason),
            since: self.since.or(Some(now)),
        }
    }

    /// Validating.
    pub fn active() -> Validation {
        Validation {
            active: true,
            ..Default::default()
        }
    }

    /// One line for the page and logs: `validation not active: no VRPs yet`.
    pub fn describe(&self) -> Option<String> {
        (!self.active).then(|| format!("validation not active: {}", self.reason.unwrap_or("")))
    }
}

/// The state of one source, as status shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceState {
    /// Not synced yet.
    Starting,
    /// Connected (cache) or read (file), data current.
    Up,
    /// Cache unreachable; its data is kept until expire.
    Down,
    /// Cache data past expire: withdrawn.
    Expired,
    /// The last read failed; earlier data (if any) stays in use.
    Error,
}

/// One source in the status API.
#[derive(Clone, Debug, Serialize)]
pub struct SourceStatus {
    /// `rtr`, `file` or `slurm`.
    pub kind: &'static str,
    /// Cache address or file path.
    pub name: String,
    /// Cache preference (lower is preferred).
    pub preference: Option<u32>,
    /// The source's state.
    pub state: SourceState,
    /// Whether its VRPs are part of the effective set.
    pub in_use: bool,
    /// How many VRPs it holds.
    pub vrps: usize,
    /// RTR serial.
    pub serial: Option<u32>,
    /// RTR version negotiated.
    pub version: Option<u8>,
    /// When data was last received or read (Unix seconds in JSON).
    #[serde(serialize_with = "unix_seconds")]
    pub last_update: Option<SystemTime>,
    /// Completed RTR reset queries (full reloads).
    pub resets: u64,
    /// Completed RTR serial queries (incremental updates).
    pub serial_updates: u64,
    /// The last error, if any.
    pub error: Option<String>,
}

impl SourceStatus {
    /// A source that has not synced yet.
    pub fn new(kind: &'static str, name: String, preference: Option<u32>) -> Self {
        SourceStatus {
            kind,
            name,
            preference,
            state: SourceState::Starting,
            in_use: false,
            vrps: 0,
            serial: None,
            version: None,
            last_update: None,
            resets: 0,
            serial_updates: 0,
            error: None,
        }
    }
}

/// Serializes a time as whole seconds since the Unix epoch.
pub fn unix_seconds<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    let secs = t.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok());
    serde::Serialize::serialize(&secs.map(|d| d.as_secs()), s)
}
