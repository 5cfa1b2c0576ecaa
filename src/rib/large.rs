//! The table becomes large, for the allocator: the RIB holds [`LARGE_TABLE`] paths for the
//! first time.
//!
//! Why: the binary's allocator gives freed memory back to the OS at once while the table
//! is small, and after mimalloc's 1 s delay once it is large (`src/allocator.rs`). At an
//! IXP of INEX's size (83 members, 240,384 paths) the memory the VRP load, the import and
//! the table dump would leave freed otherwise sets the peak: about 93 MiB instead of 140.
//! A large table's import pays for it: purging each freed page at once cost one
//! full-table feeder a fifth more time (BENCHMARKS.md).
//!
//! Where it sits: [`Rib::flush`] calls [`Rib::note_large_table`] after each batch; the
//! binary registers what to do then with [`on_large_table`].

use std::sync::OnceLock;

use tracing::debug;

use super::Rib;

/// The paths from which the table is large: above an IXP route server's load of INEX's
/// size (240,384), a third of one full table.
pub const LARGE_TABLE: u64 = 300_000;

/// What to call when the table becomes large.
static ON_LARGE: OnceLock<fn()> = OnceLock::new();

/// Registers what to call, once per RIB, when its table becomes large (the binary has one
/// RIB; tests register nothing).
pub fn on_large_table(f: fn()) {
    // A second registration would be a second binary's; there is none.
    let _ = ON_LARGE.set(f);
}

impl Rib {
    /// Notes the first time the RIB holds [`LARGE_TABLE`] paths.
    pub(super) fn note_large_table(&mut self) {
        if self.large {
            return;
        }
        let paths: u64 = self.counts.iter().map(|c| c.routes).sum();
        if paths < LARGE_TABLE {
            return;
        }
        self.large = true;
        debug!(
            paths,
            "the table is large: the allocator purges after its delay"
        );
        if let Some(f) = ON_LARGE.get() {
            f();
        }
    }
}
