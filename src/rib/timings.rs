//! How long the RIB task spends: per UPDATE and per re-evaluation pass.
//!
//! Where it sits: the RIB task records each UPDATE it handles and each re-evaluation pass
//! it finishes into [`Timings`], and publishes them in its [`RibView`](super::RibView) after
//! every batch; `metrics` renders them as Prometheus histograms on `GET /metrics`. The RIB
//! records into plain counters and never calls the metrics recorder.

use std::time::Duration;

/// UPDATE handling takes microseconds; a slow one (a long AS path, a large NLRI) milliseconds.
pub const UPDATE_BUCKETS: [f64; 10] = [1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 0.1];
/// A pass walks a few routes or a full table times several peers.
pub const REEVALUATION_BUCKETS: [f64; 10] = [1e-3, 1e-2, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0];

/// A histogram of durations in seconds over fixed bucket bounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Histogram {
    /// The upper bounds of the buckets, seconds, ascending.
    pub bounds: [f64; 10],
    /// Samples per bucket: `counts[i]` took at most `bounds[i]` and more than the bound
    /// before; samples above the last bound are only in `count`.
    pub counts: [u64; 10],
    /// All samples, seconds.
    pub sum: f64,
    /// How many samples.
    pub count: u64,
}

impl Histogram {
    /// An empty histogram over `bounds`.
    pub const fn new(bounds: [f64; 10]) -> Self {
        Histogram {
            bounds,
            counts: [0; 10],
            sum: 0.0,
            count: 0,
        }
    }

    /// Adds one sample.
    pub fn record(&mut self, took: Duration) {
        let seconds = took.as_secs_f64();
        if let Some(i) = self.bounds.iter().position(|&b| seconds <= b) {
            self.counts[i] += 1;
        }
        self.sum += seconds;
        self.count += 1;
    }
}

/// The RIB task's timings since it started.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timings {
    /// Seconds to handle one UPDATE.
    pub update: Histogram,
    /// Seconds one re-evaluation pass took, from the snapshot to its last export queued.
    pub reevaluation: Histogram,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            update: Histogram::new(UPDATE_BUCKETS),
            reevaluation: Histogram::new(REEVALUATION_BUCKETS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_land_in_the_first_bucket_that_holds_them() {
        let mut h = Histogram::new(UPDATE_BUCKETS);
        for micros in [0, 1, 2, 7, 200_000] {
            h.record(Duration::from_micros(micros));
        }
        assert_eq!(
            h.counts,
            [2, 1, 1, 0, 0, 0, 0, 0, 0, 0],
            "1e-6 holds 0 and 1 µs"
        );
        assert_eq!(h.count, 5, "the sample above the last bound is counted");
        assert!((h.sum - 0.20001).abs() < 1e-12);
    }
}
