//! The global allocator: mimalloc, with three of its options set for a long-running server.
//!
//! mimalloc is faster than the system allocator for the RIB, which allocates and frees a
//! path list per prefix and lists per UPDATE, millions in a full-table load (see
//! BENCHMARKS.md). Three options differ from its defaults:
//! - no transparent huge pages (`allow_thp = 0`, which mimalloc applies as
//!   `prctl(PR_SET_THP_DISABLE)` for the process): mimalloc asks the kernel for them
//!   (`MADV_HUGEPAGE`), and the kernel then zeroes 2 MiB at the first touch, compacting
//!   memory to find them. The RIB task that touches the memory waits meanwhile. On this
//!   VM a huge page's first touch cost 11 s per GiB against 0.7 s for small pages, and
//!   ten full-table feeders converged in about 7 s instead of 12.5 s without them
//!   (BENCHMARKS.md). Databases that care about latency advise the same (Redis,
//!   MongoDB);
//! - arena memory is committed as it is used (`arena_eager_commit = 0`), not when reserved,
//!   which lowered peak RSS at 83 IXP members (`benches/ixp.sh`) without slowing the
//!   full-table loads;
//! - while the daemon's table is small (until the RIB first holds 300,000 paths:
//!   `rib/large.rs`) freed memory goes back to the OS at once (`purge_delay = 0`), then
//!   after mimalloc's default second. At an IXP of INEX's size what the VRP load, the
//!   import and the table dump free then no longer piles up into the peak (83 members:
//!   about 90 MiB instead of 140); with large tables purging at once cost one full-table
//!   feeder a fifth more time.
//!
//! An operator's `MIMALLOC_ALLOW_THP`, `MIMALLOC_ARENA_EAGER_COMMIT` or
//! `MIMALLOC_PURGE_DELAY` (mimalloc's own way to set them) wins over each.
//!
//! This is the binary's only `unsafe` (the library's is `bgp/sockopt.rs`): mimalloc's
//! options are set through its C API (`mi_option_set`), and huge pages are turned off
//! through `prctl`; neither has a safe wrapper.

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

/// `mi_option_allow_thp` (v3's `mi_option_e`): whether mimalloc asks for transparent huge
/// pages.
const ALLOW_THP: mi_option_t = 43;

/// mimalloc v3's default purge delay, milliseconds.
const PURGE_DELAY_DEFAULT: i64 = 1000;

/// Sets the huge page and commit options unless their environment variables are set; call
/// before the first thread starts.
pub fn tune() {
    set_unless_env(ARENA_EAGER_COMMIT, "MIMALLOC_ARENA_EAGER_COMMIT", 0);
    if set_unless_env(ALLOW_THP, "MIMALLOC_ALLOW_THP", 0) {
        // mimalloc read the option as it started (before `main`) and already asked for huge
        // pages for its first arena; this is what it does itself when the option is 0
        // then. The flag is the process's, so it covers that arena too.
        // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments only and sets one
        // flag of the process; a kernel without it returns an error, which leaves huge
        // pages as they were.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
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

/// Sets `option` to `value` unless the operator set `env`; whether it did.
fn set_unless_env(option: mi_option_t, env: &str, value: i64) -> bool {
    let unset = std::env::var_os(env).is_none();
    if unset {
        // SAFETY: mi_option_set stores one aligned word of mimalloc's option table, at an
        // index the test below checks. `tune` and `small_table` run before any other
        // thread. For `large_table` other threads read the option meanwhile: mimalloc
        // reads options as plain words at each use (its own `mi_option_set` is what it
        // offers to change one at run time), so a reader sees the old value or the new.
        unsafe { mi_option_set(option, value as _) };
    }
    unset
}

#[cfg(test)]
mod tests {
    use super::*;
    use libmimalloc_sys::mi_option_get;

    /// The indices name the intended options: before `tune` and `small_table` they hold
    /// mimalloc's defaults (huge pages allowed; 2: eager commit where the OS overcommits;
    /// a purge delay of 1000 ms), after them rovgate's values, with the process's huge
    /// pages off (a parent may have turned them off before), and after `large_table` the
    /// purge delay is mimalloc's again.
    #[test]
    fn tune_sets_the_intended_options() {
        // SAFETY: reads of mimalloc's option table and of one flag of the process.
        let get = |option| unsafe { mi_option_get(option) };
        let thp_disabled = || unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        let options = || (get(ALLOW_THP), get(ARENA_EAGER_COMMIT), get(PURGE_DELAY));
        let env = |name| std::env::var_os(name).is_none();
        let names = [
            "MIMALLOC_ALLOW_THP",
            "MIMALLOC_ARENA_EAGER_COMMIT",
            "MIMALLOC_PURGE_DELAY",
        ];
        if names.into_iter().all(env) {
            assert_eq!(options(), (1, 2, 1000));
            tune();
            small_table();
            assert_eq!((options(), thp_disabled()), ((0, 0, 0), 1));
            large_table();
            assert_eq!(get(PURGE_DELAY), 1000);
        }
    }
}
