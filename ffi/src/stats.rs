//! `elect_stats`: one election's metrics snapshot.

use std::time::{Duration, UNIX_EPOCH};

use elect_core::RevokeReason;

use crate::election::{elect_election, election_ref};
use crate::error::elect_status;
use crate::guard;

/// The length of `elect_stats_snapshot::revocations`: one slot per `elect_revoke_reason`, plus
/// index 0 (none).
pub const ELECT_REASON_SLOTS: usize = 7;
const _: () = assert!(ELECT_REASON_SLOTS == RevokeReason::ALL.len() + 1);

/// One election's counters and gauges at one instant, filled by `elect_stats`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct elect_stats_snapshot {
    /// Terms this candidate won (`ELECT_EVENT_ELECTED` events).
    pub terms_won: u64,
    /// `ELECT_EVENT_REVOKED` events, indexed by `elect_revoke_reason` (index 0 stays 0).
    pub revocations: [u64; ELECT_REASON_SLOTS],
    /// `ELECT_EVENT_ERROR` events: store errors the election recovered from.
    pub store_errors: u64,
    /// Times the store answered again after an error.
    pub reconnects: u64,
    /// When the leadership last moved from one candidate to another (as this process saw
    /// it), in milliseconds since the Unix epoch; -1 if it has not.
    pub last_failover_unix_ms: i64,
    /// Nanoseconds this leader may still believe it leads without a renewal; -1 when not
    /// leading.
    pub lease_remaining_ns: i64,
    /// Round trip of the last confirmed renewal, in nanoseconds; -1 before the first.
    pub store_rtt_ns: i64,
    /// False from a store error until the store answers again.
    pub store_connected: bool,
    /// Times the leadership moved from one candidate to another, as this process saw it.
    pub failovers: u64,
    /// False when the election is closed, or when it still says it leads past its lease
    /// deadline (a wedged leader): what a `/healthz` handler reports.
    pub healthy: bool,
}

/// Fills `*out` with the metrics of `e`. Cheap: atomic loads, no lock, no store round trip;
/// fine to call on every scrape or health probe.
///
/// Threading: any thread. NULL `e` or `out` gives `ELECT_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `e` is NULL or a live election; `out` is NULL or points to writable `elect_stats_snapshot`.
#[no_mangle]
pub unsafe extern "C" fn elect_stats(
    e: *const elect_election,
    out: *mut elect_stats_snapshot,
) -> elect_status {
    guard::status("elect_stats", || {
        guard::non_null(out, "out")?;
        // SAFETY: NULL or live per the contract.
        let e = unsafe { election_ref(e) }?;
        let s = e.stats();
        let nanos =
            |d: Option<Duration>| d.map_or(-1, |d| d.as_nanos().min(i64::MAX as u128) as i64);
        let mut revocations = [0; ELECT_REASON_SLOTS];
        for reason in RevokeReason::ALL {
            revocations[reason as usize] = s.revocations(reason);
        }
        let stats = elect_stats_snapshot {
            terms_won: s.terms_won,
            revocations,
            store_errors: s.store_errors,
            reconnects: s.reconnects,
            last_failover_unix_ms: s.last_failover.map_or(-1, |t| {
                t.duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64)
            }),
            lease_remaining_ns: nanos(s.lease_remaining),
            store_rtt_ns: nanos(s.store_rtt),
            store_connected: s.store_connected,
            failovers: s.failovers,
            healthy: e.health().ok,
        };
        // SAFETY: non-NULL, and the caller promises it points to writable `elect_stats_snapshot`.
        unsafe { out.write(stats) };
        Ok(())
    })
}
