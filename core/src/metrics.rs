//! Per-election counters and gauges, read as a [`Stats`] snapshot: a few relaxed atomic loads,
//! no lock, no I/O, so a scrape or a health probe costs nothing the election notices.
//!
//! The dispatcher counts events as it queues them (terms won, revocations by reason, store
//! errors, leader moves); the engine and the leader watch report store answers (round-trip
//! time of renewals, and whether the store answers again after an error: a reconnect).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::event::{Event, RevokeReason};
use crate::lease::{Lease, State};

#[derive(Default)]
pub(crate) struct Metrics {
    terms_won: AtomicU64,
    /// Indexed by `RevokeReason as usize - 1`.
    revocations: [AtomicU64; RevokeReason::ALL.len()],
    store_errors: AtomicU64,
    reconnects: AtomicU64,
    /// Set by a store error, cleared (and counted as a reconnect) by the next store answer.
    failing: AtomicBool,
    /// Leader moves from one candidate to another.
    failovers: AtomicU64,
    /// Milliseconds since the Unix epoch of the last leader move; 0 for none yet.
    last_failover_ms: AtomicU64,
    /// The leader last seen, to tell a move from a repeat or the first sighting.
    last_leader: Mutex<Option<String>>,
    /// Round trip of the last confirmed renewal, in nanoseconds; 0 for none yet.
    rtt_nanos: AtomicU64,
}

impl Metrics {
    /// Counts `event` (called as it is queued for the host).
    pub fn on_event(&self, event: &Event) {
        match event {
            Event::Elected { .. } => {
                self.terms_won.fetch_add(1, Relaxed);
            }
            Event::Revoked { reason, .. } => {
                self.revocations[*reason as usize - 1].fetch_add(1, Relaxed);
            }
            Event::Error { .. } => {
                self.store_errors.fetch_add(1, Relaxed);
                self.failing.store(true, Relaxed);
            }
            Event::LeaderChanged { leader } => {
                let Some(leader) = leader else { return };
                let mut last = self.last_leader.lock().unwrap_or_else(|e| e.into_inner());
                if last.as_ref().is_some_and(|l| *l != leader.id) {
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .unwrap_or_default();
                    self.last_failover_ms.store(now.as_millis() as u64, Relaxed);
                    self.failovers.fetch_add(1, Relaxed);
                }
                *last = Some(leader.id.clone());
            }
            Event::MemberJoined { .. } | Event::MemberLeft { .. } => {}
        }
    }

    /// The store answered (a grant, a renewal with its round trip, a watch update).
    pub fn store_answered(&self, rtt: Option<Duration>) {
        if let Some(rtt) = rtt {
            self.rtt_nanos.store(rtt.as_nanos().max(1) as u64, Relaxed);
        }
        if self.failing.load(Relaxed) && self.failing.swap(false, Relaxed) {
            self.reconnects.fetch_add(1, Relaxed);
        }
    }

    pub fn snapshot(&self, lease: &Lease) -> Stats {
        let ms = self.last_failover_ms.load(Relaxed);
        let rtt = self.rtt_nanos.load(Relaxed);
        Stats {
            terms_won: self.terms_won.load(Relaxed),
            revocations: std::array::from_fn(|i| self.revocations[i].load(Relaxed)),
            store_errors: self.store_errors.load(Relaxed),
            reconnects: self.reconnects.load(Relaxed),
            failovers: self.failovers.load(Relaxed),
            last_failover: (ms != 0).then(|| UNIX_EPOCH + Duration::from_millis(ms)),
            lease_remaining: lease
                .deadline()
                .filter(|_| lease.is_leader())
                .map(|d| d.saturating_duration_since(std::time::Instant::now())),
            store_rtt: (rtt != 0).then(|| Duration::from_nanos(rtt)),
            store_connected: !self.failing.load(Relaxed),
        }
    }
}

/// A snapshot of one election's metrics (see `docs/DESIGN.md`, "Observability").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Terms this candidate won (`Elected` events).
    pub terms_won: u64,
    /// `Revoked` events, indexed by `RevokeReason as usize - 1`; see [`Stats::revocations`].
    pub revocations: [u64; RevokeReason::ALL.len()],
    /// `Error` events: store errors the election recovered from.
    pub store_errors: u64,
    /// Times the store answered again after an error.
    pub reconnects: u64,
    /// Times the leadership moved from one candidate to another, as seen by this process.
    pub failovers: u64,
    /// When the leadership last moved from one candidate to another, as seen by this process.
    pub last_failover: Option<SystemTime>,
    /// How long this leader may still believe it leads without a renewal; `None` when not
    /// leading.
    pub lease_remaining: Option<Duration>,
    /// Round trip of the last confirmed renewal; `None` before the first.
    pub store_rtt: Option<Duration>,
    /// False from a store error until the store answers again.
    pub store_connected: bool,
}

impl Stats {
    /// How many leaderships ended for `reason`.
    pub fn revocations(&self, reason: RevokeReason) -> u64 {
        self.revocations[reason as usize - 1]
    }
}

/// What a `/healthz` handler or an Actuator health indicator needs, read locally (no store
/// round trip): see [`crate::Election::health`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// False when the election is closed, or when it still says it leads after its lease
    /// deadline passed (a wedged leader: the engine's own timer should have revoked it).
    pub ok: bool,
    pub state: State,
    /// `is_leader()` at the time of the check.
    pub leading: bool,
    /// False from a store error until the store answers again.
    pub store_connected: bool,
    /// How long this leader may still believe it leads; `None` when not leading.
    pub lease_remaining: Option<Duration>,
}

impl Health {
    pub(crate) fn of(state: State, leading: bool, stats: &Stats) -> Health {
        let wedged = state == State::Leading && !leading;
        Health {
            ok: state != State::Closed && !wedged,
            state,
            leading,
            store_connected: stats.store_connected,
            lease_remaining: stats.lease_remaining,
        }
    }
}
