//! The one definition of median and p99 of every benchmark: nearest rank, as HdrHistogram
//! computes it (the smallest recorded value such that at least that fraction of the samples are
//! at or below it), at 3 significant digits. The Go, Java and Python benchmarks use the same
//! definition (see `bench/README.md`).

use std::time::Duration;

use hdrhistogram::Histogram;

/// p50, p99 and max of a set of durations.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub n: u64,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Summary {
    /// Of samples in nanoseconds. Panics on an empty set (a benchmark with no rounds).
    pub fn of_ns(samples: &[u64]) -> Summary {
        // 3 significant digits from 1 ns to one hour.
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3)
            .expect("valid histogram bounds");
        for &ns in samples {
            h.saturating_record(ns.max(1));
        }
        assert!(!h.is_empty(), "no samples");
        Summary {
            n: h.len(),
            p50: Duration::from_nanos(h.value_at_quantile(0.50)),
            p99: Duration::from_nanos(h.value_at_quantile(0.99)),
            max: Duration::from_nanos(h.max()),
        }
    }

    pub fn of(samples: &[Duration]) -> Summary {
        let ns: Vec<u64> = samples.iter().map(|d| d.as_nanos() as u64).collect();
        Summary::of_ns(&ns)
    }
}

/// `d` in milliseconds with two decimals, the unit of every table.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal to `us` microseconds at the histogram's 3 significant digits (its buckets report
    /// their highest equivalent value). Neighbouring ranks here differ by 1 % or more.
    fn about(d: Duration, us: u64) -> bool {
        let (got, want) = (d.as_nanos() as f64, us as f64 * 1e3);
        (got - want).abs() <= want * 1e-3
    }

    #[test]
    fn nearest_rank() {
        let s = Summary::of_ns(&(1..=100).map(|i| i * 1000).collect::<Vec<_>>());
        assert!(
            about(s.p50, 50) && about(s.p99, 99) && about(s.max, 100),
            "{s:?}"
        );
        // Ten samples: p99 is the largest.
        let s = Summary::of_ns(&(1..=10).map(|i| i * 1000).collect::<Vec<_>>());
        assert!(about(s.p50, 5) && about(s.p99, 10), "{s:?}");
    }
}
