//! The global allocator: mimalloc, with two of its options set for a long-running server.
//!
//! mimalloc is faster than the system allocator for the RIB, which allocates and frees a
//! path list per prefix and lists per UPDATE, millions in a full-table load (see
//! BENCHMARKS.md). Two options differ from its defaults:
//! - arena memory is committed as it is used (`arena_eager_commit = 0`), not when reserved,
//!   which lowered peak RSS at 83 IXP members (`benches/ixp.sh`) without slowing the
//!   full-table loads;
//! - while the daemon's table is small (until the RIB first holds 300,000 paths:
//!   `rib/large.rs`) freed memory goes back to the OS at once (`purge_delay = 0`), then
//!   after mimalloc's default second. At an IXP of INEX's size what the VRP load, the
//!   import and the table dump free then no longer piles up into the peak (83 members:
//!   about 90 MiB instead of 140); with large tables purging at once cost ten full-table
//!   feeders 18 % more time.
//!
//! An operator's `MIMALLOC_ARENA_EAGER_COMMIT` or `MIMALLOC_PURGE_DELAY` (mimalloc's own
//! way to set them) wins over both.
//!
//! This is the binary's only `unsafe` (the library's is `bgp/sockopt.rs`): mimalloc's
//! options are set through its C API (`mi_option_set`), which has no safe wrapper.

use libmimalloc_sys::{mi_option_set, mi_option_t};

// `cargo build --release --features system-allocator` leaves Rust's default (the C
// library's malloc), which heap profilers such as heaptrack see; mimalloc's they do not.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_eager_commit` (mimalloc.h's `mi_option_e`, the same in v2 and v3;
/// the crate's constants predate it): commit arena memory when used, not when reserved.
const ARENA_EAGER_COMMIT: mi_option_t = 4;

/// `mi_option_purge_delay` (v3's `mi_option_e`): milliseconds before freed memory is
/// purged; 0 at once.
const PURGE_DELAY: mi_option_t = 15;

/// mimalloc v3's default purge delay, milliseconds.
const PURGE_DELAY_DEFAULT: i64 = 1000;

/// Sets the commit option unless its environment variable is set; call before the first
/// thread starts.
pub fn tune() {
    set_unless_env(ARENA_EAGER_COMMIT, "MIMALLOC_ARENA_EAGER_COMMIT", 0);
}

/// The daemon starts with a small table: freed memory is purged at once until
/// [`large_table`]; call before the first thread starts.
pub fn small_table() {
    set_unless_env(PURGE_DELAY, "MIMALLOC_PURGE_DELAY", 0);
}

/// The table is large (`rovgate::rib::on_large_table`): freed memory is purged after
/// mimalloc's default delay.
pub fn large_table() {
    set_unless_env(PURGE_DELAY, "MIMALLOC_PURGE_DELAY", PURGE_DELAY_DEFAULT);
}

fn set_unless_env(option: mi_option_t, env: &str, value: i64) {
    if std::env::var_os(env).is_none() {
        // SAFETY: mi_option_set stores one aligned word of mimalloc's option table, at an
        // index the test below checks. `tune` and `small_table` run before any other
        // thread. For `large_table` other threads read the option meanwhile: mimalloc
        // reads options as plain words at each use (its own `mi_option_set` is what it
        // offers to change one at run time), so a reader sees the old value or the new.
        unsafe { mi_option_set(option, value as _) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libmimalloc_sys::mi_option_get;

    /// The indices name the intended options: before `tune` and `small_table` they hold
    /// mimalloc's defaults (2: eager commit where the OS overcommits; a purge delay of
    /// 1000 ms), after them rovgate's values, and after `large_table` the purge delay is
    /// mimalloc's again.
    #[test]
    fn tune_sets_the_intended_options() {
        // SAFETY: reads of mimalloc's option table.
        let get = |option| unsafe { mi_option_get(option) };
        let env = |name| std::env::var_os(name).is_none();
        if env("MIMALLOC_ARENA_EAGER_COMMIT") && env("MIMALLOC_PURGE_DELAY") {
            assert_eq!((get(ARENA_EAGER_COMMIT), get(PURGE_DELAY)), (2, 1000));
            tune();
            small_table();
            assert_eq!((get(ARENA_EAGER_COMMIT), get(PURGE_DELAY)), (0, 0));
            large_table();
            assert_eq!(get(PURGE_DELAY), 1000);
        }
    }
}
