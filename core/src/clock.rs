//! The monotonic clock that lease deadlines are measured on.
//!
//! Deadlines are stored as nanoseconds since a process-wide epoch in an `AtomicU64`, so that
//! `is_leader()` is two atomic loads and one `clock_gettime(CLOCK_MONOTONIC)` (a vDSO call).
//! `0` is reserved for "no deadline".

use std::time::{Duration, Instant};

use once_cell::sync::Lazy;

static EPOCH: Lazy<Instant> = Lazy::new(|| Instant::now() - Duration::from_nanos(1));

/// Nanoseconds since the epoch; always at least 1.
#[inline]
pub fn now_nanos() -> u64 {
    nanos_at(Instant::now())
}

/// The instant as nanoseconds since the epoch (1 for instants before it).
#[inline]
pub fn nanos_at(at: Instant) -> u64 {
    (at.saturating_duration_since(*EPOCH).as_nanos() as u64).max(1)
}

/// The instant that [`nanos_at`] turned into `nanos`.
pub fn instant_at(nanos: u64) -> Instant {
    *EPOCH + Duration::from_nanos(nanos)
}
