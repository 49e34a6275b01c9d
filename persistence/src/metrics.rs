//! Figures an operator's monitoring reads (the API's `/metrics`): lock-free
//! counters and histograms, owned by the [`Db`](crate::Db) they describe.
//! Nothing here carries a value from a row: only counts and durations.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Upper bounds (seconds) of the latency buckets: 1 ms to 10 s.
pub const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Upper bounds of the batch-size buckets (writes or entries per commit).
pub const BATCH: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0];

/// A histogram with fixed buckets, safe to observe from any thread.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// One per bound, then one for +Inf (not cumulative).
    counts: Vec<AtomicU64>,
    sum_bits: AtomicU64,
}

/// A histogram read at one moment, buckets cumulative as Prometheus wants.
#[derive(Clone, Debug, PartialEq)]
pub struct HistogramSnapshot {
    /// `(upper bound, observations ≤ it)`, the last bound `+Inf`.
    pub buckets: Vec<(f64, u64)>,
    /// Sum of the observed values.
    pub sum: f64,
    /// Number of observations.
    pub count: u64,
}

impl Histogram {
    /// An empty histogram over `bounds` (ascending).
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_bits: AtomicU64::new(0f64.to_bits()),
        }
    }

    /// Records one value.
    pub fn observe(&self, value: f64) {
        let slot = self
            .bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(self.bounds.len());
        if let Some(count) = self.counts.get(slot) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        let _ = self
            .sum_bits
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + value).to_bits())
            });
    }

    /// The histogram now.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut running = 0;
        let mut buckets = Vec::with_capacity(self.counts.len());
        for (slot, count) in self.counts.iter().enumerate() {
            running += count.load(Ordering::Relaxed);
            let bound = self.bounds.get(slot).copied().unwrap_or(f64::INFINITY);
            buckets.push((bound, running));
        }
        HistogramSnapshot {
            buckets,
            sum: f64::from_bits(self.sum_bits.load(Ordering::Relaxed)),
            count: running,
        }
    }
}

/// What the database layer counts.
#[derive(Debug)]
pub struct DbMetrics {
    /// Time spent waiting for a pooled connection.
    pub checkout_wait: Histogram,
    /// Check-outs that gave up (pool exhausted past its time-out, or the
    /// server unreachable).
    pub checkout_failures: AtomicU64,
    /// Writes queued for the writer thread and not yet taken into a batch.
    pub writes_waiting: AtomicI64,
    /// Writes per group commit.
    pub batch_writes: Histogram,
    /// How long each group commit took, from its first write to its commit.
    pub batch_seconds: Histogram,
}

impl Default for DbMetrics {
    fn default() -> Self {
        Self {
            checkout_wait: Histogram::new(SECONDS),
            checkout_failures: AtomicU64::new(0),
            writes_waiting: AtomicI64::new(0),
            batch_writes: Histogram::new(BATCH),
            batch_seconds: Histogram::new(SECONDS),
        }
    }
}

/// The pool's connections at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolState {
    /// Connections open (in use and idle).
    pub connections: u32,
    /// Of those, idle.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_the_sum_adds_up() {
        let histogram = Histogram::new(&[1.0, 10.0]);
        for value in [0.5, 1.0, 3.0, 20.0] {
            histogram.observe(value);
        }
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.count, 4);
        assert!((snapshot.sum - 24.5).abs() < 1e-9);
        assert_eq!(
            snapshot.buckets,
            vec![(1.0, 2), (10.0, 3), (f64::INFINITY, 4)]
        );
    }
}
