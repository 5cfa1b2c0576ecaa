//! The global allocator: mimalloc, with one of its options set for a long-running server.
//!
//! mimalloc is faster than the system allocator for the RIB, which allocates and frees a
//! path list per prefix and lists per UPDATE, millions in a full-table load (see
//! BENCHMARKS.md). By default it commits whole arenas up front; rovgate commits arena
//! memory as it uses it (`arena_eager_commit = 0`), which lowered peak RSS at 83 IXP members
//! (`benches/ixp.sh`) without slowing the full-table loads. Purging freed pages sooner than
//! mimalloc's 1 s (`purge_delay`) lowered it further but cost ten feeders about 30 % more
//! time, so that one stays at its default.
//!
//! This is the binary's only `unsafe` (the library's is `bgp/sockopt.rs`): mimalloc's
//! options are set through its C API (`mi_option_set`), which has no safe wrapper. It is
//! called once, first thing in `main`, before any thread exists.

use libmimalloc_sys::{mi_option_set, mi_option_t};

// `cargo build --release --features system-allocator` leaves Rust's default (the C
// library's malloc), which heap profilers such as heaptrack see; mimalloc's they do not.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_eager_commit` (mimalloc.h's `mi_option_e`, the same in v2 and v3;
/// the crate's constants predate it): commit arena memory when used, not when reserved.
const ARENA_EAGER_COMMIT: mi_option_t = 4;

/// Sets mimalloc's option unless its environment variable (mimalloc's own way to set it)
/// is set; call before the first thread starts.
pub fn tune() {
    if std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_none() {
        // SAFETY: mi_option_set writes one entry of mimalloc's option table; the index is
        // valid (checked by the test below) and no other thread runs yet.
        unsafe { mi_option_set(ARENA_EAGER_COMMIT, 0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libmimalloc_sys::mi_option_get;

    /// The index names the intended option: before `tune` it holds mimalloc's default for
    /// it (2: eager commit where the OS overcommits), after it rovgate's.
    #[test]
    fn tune_sets_the_intended_options() {
        // SAFETY: reads of mimalloc's option table.
        let get = |option| unsafe { mi_option_get(option) };
        if std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_none() {
            assert_eq!(get(ARENA_EAGER_COMMIT), 2);
            tune();
            assert_eq!(get(ARENA_EAGER_COMMIT), 0);
        }
    }
}
