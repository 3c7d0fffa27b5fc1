//! The clock that lease deadlines are measured on: `CLOCK_BOOTTIME`.
//!
//! A store's lease runs on while this machine (or VM) is suspended; `CLOCK_MONOTONIC`, and so
//! `std::time::Instant` and tokio's timers, stop meanwhile. A deadline on the monotonic clock
//! would let a resumed leader believe it leads for what was left of its lease before the
//! suspend, although the store's lease ran out long ago. `CLOCK_BOOTTIME` is the monotonic
//! clock plus the time spent suspended, so a deadline on it has passed when the leader resumes.
//!
//! Deadlines are nanoseconds of `CLOCK_BOOTTIME` in an `AtomicU64` (see `lease`), so that
//! `is_leader()` is two atomic loads and one `clock_gettime(CLOCK_BOOTTIME)` (a vDSO call, like
//! `CLOCK_MONOTONIC`). `0` is reserved for "no deadline". The clock is read through the C
//! library (rustix's `use-libc`): rustix's own vDSO lookup reads memory that valgrind does not
//! map, and the C tests run under valgrind.
//!
//! Backends stamp renewals with `Instant`s (the monotonic clock), and timers need `Instant`s;
//! [`BootClock`] converts between the two without ever placing a renewal later than it was.

use std::time::{Duration, Instant};

use rustix::time::{clock_gettime, ClockId};

/// Nanoseconds of `CLOCK_BOOTTIME`; always at least 1.
#[inline]
pub fn now_nanos() -> u64 {
    let t = clock_gettime(ClockId::Boottime);
    (t.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec as u64)
        .max(1)
}

/// The instant at which `CLOCK_BOOTTIME` shows `nanos`, if no suspend comes in between: for
/// timers and for callers that work with `Instant`s. Past values give past instants.
pub fn instant_at(nanos: u64) -> Instant {
    let (now, boot) = (Instant::now(), now_nanos());
    if nanos >= boot {
        now + Duration::from_nanos(nanos - boot)
    } else {
        now.checked_sub(Duration::from_nanos(boot - nanos))
            .unwrap_or(now)
    }
}

/// Suspended time above this is taken as a suspend; below it, as the jitter between the two
/// clock reads of one observation.
const SUSPEND_SEEN: u64 = 1_000_000;

/// Converts `Instant`s (the monotonic clock) to `CLOCK_BOOTTIME` nanos for one election.
///
/// The two clocks differ by the time spent suspended, which only grows. Each observation reads
/// both clocks; the conversion of an instant uses the difference from the last observation
/// made *at or before* that instant. A renewal sent before a suspend whose answer arrives after
/// it therefore keeps the smaller, pre-suspend difference: its deadline is never placed later
/// than the store's lease, only (after a suspend) earlier, until the next renewal.
pub(crate) struct BootClock {
    base: Instant,
    /// `(first seen at, boot nanos at base + suspended time)`, one entry per suspend seen.
    steps: Vec<(Instant, u64)>,
}

impl BootClock {
    pub fn new() -> BootClock {
        let base = Instant::now();
        let mut clock = BootClock {
            base,
            steps: Vec::new(),
        };
        let first = clock.measure().1;
        clock.steps.push((base, first));
        clock
    }

    /// Reads both clocks: the boot clock first, so the difference is never overstated.
    fn measure(&self) -> (Instant, u64) {
        let boot = now_nanos();
        let now = Instant::now();
        let since_base = now.saturating_duration_since(self.base).as_nanos() as u64;
        (now, boot.saturating_sub(since_base))
    }

    /// Notes a suspend that happened since the last observation, if any.
    pub fn observe(&mut self) {
        let (now, offset) = self.measure();
        if offset > self.last().saturating_add(SUSPEND_SEEN) {
            self.steps.push((now, offset));
        }
    }

    fn last(&self) -> u64 {
        self.steps.last().map_or(0, |s| s.1)
    }

    /// `CLOCK_BOOTTIME` nanos at `at`, never later than the true value for instants since
    /// this clock was made.
    pub fn nanos_at(&self, at: Instant) -> u64 {
        let offset = self
            .steps
            .iter()
            .rev()
            .find(|(seen, _)| *seen <= at)
            .or(self.steps.first())
            .map_or(0, |s| s.1);
        let nanos = match at.checked_duration_since(self.base) {
            Some(after) => offset.saturating_add(after.as_nanos() as u64),
            None => offset.saturating_sub(self.base.duration_since(at).as_nanos() as u64),
        };
        nanos.max(1)
    }

    /// Pretends a suspend of `d` happened now (the monotonic clock cannot be stopped in a
    /// test).
    #[cfg(test)]
    pub fn suspend_for_test(&mut self, d: Duration) {
        let (now, offset) = self.measure();
        self.steps.push((now, offset + d.as_nanos() as u64));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_instants_to_the_boot_clock() {
        let clock = BootClock::new();
        let before = now_nanos();
        let at = clock.nanos_at(Instant::now());
        let after = now_nanos();
        assert!(
            at <= after,
            "never later than the boot clock: {at} > {after}"
        );
        // The conversion loses only the jitter between two clock reads.
        assert!(before.saturating_sub(at) < 50_000_000, "{before} vs {at}");
        let ahead = Instant::now() + Duration::from_secs(5);
        assert!(clock.nanos_at(ahead) >= at + 4_900_000_000);
        assert!(instant_at(clock.nanos_at(ahead)) <= ahead);
    }

    #[test]
    fn a_renewal_sent_before_a_suspend_keeps_the_difference_from_before_it() {
        let mut clock = BootClock::new();
        let sent_before = Instant::now();
        let plain = clock.nanos_at(sent_before);
        clock.suspend_for_test(Duration::from_secs(60));
        clock.observe(); // no further suspend: no new step
        assert_eq!(clock.steps.len(), 2);
        assert_eq!(
            clock.nanos_at(sent_before),
            plain,
            "a renewal sent before the suspend must not move by the suspended time"
        );
        let sent_after = Instant::now();
        let shifted = clock.nanos_at(sent_after);
        assert!(
            shifted >= plain + 60_000_000_000,
            "after it, the suspend counts"
        );
    }
}
