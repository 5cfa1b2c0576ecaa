//! The end of start-up, for the allocator: until then the VRPs come in over RTR and the
//! peers send their first tables; it ends when the RIB begins its first table dump, or
//! holds [`STARTUP_PATHS`] paths, whichever comes first.
//!
//! Why: the binary's allocator gives freed memory back to the OS at once during start-up,
//! and after mimalloc's 1 s delay from then on (`src/allocator.rs`). At an IXP's size the
//! memory the VRP load and the import leave freed otherwise adds to the first dump's peak
//! (83 members: 94 MiB instead of 140). Past that size the import pays for it: where more
//! and more peers announce the same prefixes, path lists grow and move, and purging each
//! freed page at once cost ten full-table feeders 18 % more time (BENCHMARKS.md).
//!
//! Where it sits: [`Rib::flush`] calls [`Rib::end_startup_when_due`] after each batch; the
//! binary registers what to do then with [`on_startup_end`].

use std::sync::OnceLock;

use tracing::debug;

use super::Rib;

/// The paths the RIB holds when start-up ends at the latest: above an IXP route server's
/// load of INEX's size (83 members, 240,384 paths), a third of one full table.
pub const STARTUP_PATHS: u64 = 300_000;

/// What to call when start-up ends.
static ON_END: OnceLock<fn()> = OnceLock::new();

/// Registers what to call, once per RIB, when its start-up ends (the binary has one RIB;
/// tests register nothing).
pub fn on_startup_end(f: fn()) {
    // A second registration would be a second binary's; there is none.
    let _ = ON_END.set(f);
}

impl Rib {
    /// Ends start-up once a table dump has begun or the RIB holds [`STARTUP_PATHS`] paths.
    pub(super) fn end_startup_when_due(&mut self) {
        if !self.starting {
            return;
        }
        let paths: u64 = self.counts.iter().map(|c| c.routes).sum();
        if self.dumps.is_empty() && paths < STARTUP_PATHS {
            return;
        }
        self.starting = false;
        debug!(paths, dumping = !self.dumps.is_empty(), "start-up over");
        if let Some(end) = ON_END.get() {
            end();
        }
    }
}
