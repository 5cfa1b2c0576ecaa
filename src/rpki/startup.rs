//! When the VRP set is first complete, and whether validation is active.
//!
//! Where it sits: the rpki task (`mod.rs`) asks [`Startup`] after every publish whether the
//! first complete VRP set is in (every configured source has answered once, or
//! `[rpki] startup_wait` has passed) and says so in its status and, once, to the RIB, which
//! holds back the routes of peers in `drop` until then. [`Validation`] says plainly when
//! routes are not validated at all (no VRPs, or stale ones).

use std::time::{Duration, SystemTime};

use tokio::time::Instant;
use tracing::{info, warn};

use super::sources::VrpSources;
use super::status::{RpkiStatus, Validation};

/// The default of `[rpki] startup_wait`.
pub const DEFAULT_STARTUP_WAIT: Duration = Duration::from_secs(30);

/// The rpki task's view of startup and of validation.
#[derive(Debug)]
pub struct Startup {
    /// When the wait for the first complete set ends; `None` once complete.
    deadline: Option<Instant>,
    /// Whether VRPs were ever in force.
    ever: bool,
    validation: Validation,
}

impl Startup {
    /// Waits at most `wait` from `now` for every source to answer.
    pub fn new(wait: Duration, now: Instant) -> Self {
        Startup {
            deadline: Some(now + wait),
            ever: false,
            validation: Validation::default().next(0, false, false, SystemTime::now()),
        }
    }

    /// When the wait ends, while it lasts.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether the first complete VRP set is in.
    pub fn complete(&self) -> bool {
        self.deadline.is_none()
    }

    /// Takes in the sources' state and the effective set's size after a publish; returns
    /// true when this made the VRP set complete.
    pub fn update(&mut self, sources: &VrpSources, vrps: usize, now: Instant) -> bool {
        self.ever |= vrps > 0;
        let next = self
            .validation
            .next(vrps, sources.stale(), self.ever, SystemTime::now());
        if next != self.validation {
            match next.describe() {
                Some(line) => warn!("{line}: routes fail open to not-found"),
                None => info!(vrps, "validation active"),
            }
            self.validation = next;
        }
        let Some(deadline) = self.deadline else {
            return false;
        };
        let answered = sources.all_answered();
        if !answered && deadline > now {
            return false;
        }
        match answered {
            true => info!(
                vrps,
                "every VRP source has answered: the VRP set is complete"
            ),
            false => warn!(
                vrps,
                "startup_wait passed before every VRP source answered: going on with what is in"
            ),
        }
        self.deadline = None;
        true
    }

    /// The status to publish with the sources'.
    pub fn status(&self, sources: &VrpSources) -> RpkiStatus {
        RpkiStatus {
            sources: sources.statuses(),
            stale: sources.stale(),
            complete: self.complete(),
            validation: self.validation.clone(),
        }
    }
}
