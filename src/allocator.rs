//! The global allocator: mimalloc, with two of its options set for a long-running server.
//!
//! mimalloc is faster than the system allocator for the RIB, which allocates and frees a
//! path list per prefix and lists per UPDATE, millions in a full-table load (see
//! BENCHMARKS.md). Its defaults suit short programs: it commits whole arenas up front and
//! returns freed pages to the OS only after a second (ten for arenas). rovgate loads 424k
//! VRPs, then routes, on other threads, so memory freed after the first load sat resident
//! beside the second: 134 MiB peak at 83 IXP members against 75 MiB with commit on demand
//! and purging after 10 ms (`benches/ixp.sh`, BENCHMARKS.md).
//!
//! This is the binary's only `unsafe`: mimalloc's options are set through its C API
//! (`mi_option_set`), which has no safe wrapper. It is called once, first thing in `main`,
//! before any thread exists.

use libmimalloc_sys::{mi_option_set, mi_option_t};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_eager_commit` (mimalloc.h's `mi_option_e`, the same in v2 and v3;
/// the crate's constants predate it): commit arena memory when used, not when reserved.
const ARENA_EAGER_COMMIT: mi_option_t = 4;
/// `mi_option_purge_delay`: milliseconds before freed memory goes back to the OS.
const PURGE_DELAY: mi_option_t = 15;

/// Sets mimalloc's options, each unless its environment variable (mimalloc's own way to
/// set it) is set; call before the first thread starts.
pub fn tune() {
    let options = [
        (ARENA_EAGER_COMMIT, "MIMALLOC_ARENA_EAGER_COMMIT", 0),
        (PURGE_DELAY, "MIMALLOC_PURGE_DELAY", 10),
    ];
    for (option, variable, value) in options {
        if std::env::var_os(variable).is_none() {
            // SAFETY: mi_option_set writes one entry of mimalloc's option table; the index
            // is valid (checked by the test below) and no other thread runs yet.
            unsafe { mi_option_set(option, value) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libmimalloc_sys::mi_option_get;

    /// The indices name the intended options: before `tune` they hold mimalloc's defaults
    /// for those two options (2: eager commit where the OS overcommits; 1,000 ms), after it
    /// rovgate's.
    #[test]
    fn tune_sets_the_intended_options() {
        // SAFETY: reads of mimalloc's option table.
        let get = |option| unsafe { mi_option_get(option) };
        let unset = |v| std::env::var_os(v).is_none();
        if unset("MIMALLOC_ARENA_EAGER_COMMIT") && unset("MIMALLOC_PURGE_DELAY") {
            assert_eq!((get(ARENA_EAGER_COMMIT), get(PURGE_DELAY)), (2, 1000));
            tune();
            assert_eq!((get(ARENA_EAGER_COMMIT), get(PURGE_DELAY)), (0, 10));
        }
    }
}
