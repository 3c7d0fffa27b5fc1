//! One term of leadership as a value the term's work holds: its fencing token, the lease
//! remaining, and a cancellation signal raised the moment the term ends (or, with the `drain`
//! option, the moment `resign()`/`close()` asks the work to stop).
//!
//! Holding a [`Term`] also says "work of this term is running": with `drain` set, `resign()`
//! and `close()` wait until every `Term` of the current term is dropped (bounded by the lease
//! deadline) before they give up the lease, so the successor's first write comes after the
//! predecessor's last.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::lease::Lease;

/// The shared state of one term: cancelled once, counted holders.
#[derive(Default)]
pub(crate) struct TermSignal {
    cancelled: AtomicBool,
    /// Guards the condition variable's wake-ups (the flag itself is atomic).
    lock: Mutex<()>,
    changed: Condvar,
    /// Wakes async waiters of `cancelled` (`Term::revoked`).
    cancel_notify: Notify,
    /// How many `Term` handles of this term are alive (the term's work in progress).
    holders: AtomicUsize,
    /// Wakes the engine's drain when the last holder lets go.
    released: Notify,
}

impl TermSignal {
    /// Raises the signal; idempotent.
    pub(crate) fn cancel(&self) {
        if self.cancelled.swap(true, SeqCst) {
            return;
        }
        let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.changed.notify_all();
        self.cancel_notify.notify_waiters();
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(SeqCst)
    }

    /// Resolves once no `Term` of this term is held.
    pub(crate) async fn all_released(&self) {
        loop {
            let notified = self.released.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.holders.load(SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// A handle on the current term, from [`crate::Election::term`]. Clone it to hand it to more
/// workers; drop it when the work of the term is done (that is what `drain` waits for).
pub struct Term {
    token: u64,
    signal: Arc<TermSignal>,
    lease: Arc<Lease>,
}

impl Term {
    pub(crate) fn new(token: u64, signal: Arc<TermSignal>, lease: Arc<Lease>) -> Term {
        signal.holders.fetch_add(1, SeqCst);
        Term {
            token,
            signal,
            lease,
        }
    }

    /// The fencing token of this term.
    pub fn token(&self) -> u64 {
        self.token
    }

    /// Whether the work of this term must stop: the term ended (Revoked, whatever the reason),
    /// its lease deadline passed, or a draining `resign()`/`close()` asked it to stop.
    pub fn is_cancelled(&self) -> bool {
        self.signal.is_cancelled() || self.remaining().is_none()
    }

    /// The lease left to this term: the time until its deadline, `None` once the term is over.
    pub fn remaining(&self) -> Option<Duration> {
        if self.lease.fencing_token() != self.token {
            return None;
        }
        let left = self.deadline()?.saturating_duration_since(Instant::now());
        Some(left).filter(|d| !d.is_zero())
    }

    /// The lease deadline of this term (renewals move it), `None` once the term is over.
    pub fn deadline(&self) -> Option<Instant> {
        if self.lease.fencing_token() != self.token {
            return None;
        }
        self.lease.deadline()
    }

    /// Blocks until the term is cancelled (`true`) or `timeout` passes (`false`); `None` waits
    /// as long as it takes. Never call it from a runtime thread; in async code use
    /// [`Term::cancelled`].
    pub fn wait_cancelled(&self, timeout: Option<Duration>) -> bool {
        let until = timeout.map(|t| Instant::now() + t);
        let mut g = self.signal.lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if self.is_cancelled() {
                return true;
            }
            // Wake at the deadline too: the engine's timer cancels the signal then, but the
            // lease may also end by the clock alone (see `is_cancelled`).
            let mut wake = self.deadline().unwrap_or_else(Instant::now);
            if let Some(until) = until {
                if Instant::now() >= until {
                    return false;
                }
                wake = wake.min(until);
            }
            let left = wake.saturating_duration_since(Instant::now());
            g = self
                .signal
                .changed
                .wait_timeout(g, left.max(Duration::from_millis(1)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Resolves once the term is cancelled; for async work (`tokio::select!` on it).
    pub async fn cancelled(&self) {
        loop {
            let notified = self.signal.cancel_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            match self.deadline() {
                Some(d) => {
                    let _ = tokio::time::timeout_at(d.into(), notified).await;
                }
                None => return,
            }
        }
    }
}

impl Clone for Term {
    fn clone(&self) -> Term {
        Term::new(self.token, self.signal.clone(), self.lease.clone())
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        if self.signal.holders.fetch_sub(1, SeqCst) == 1 {
            self.signal.released.notify_waiters();
        }
    }
}

impl std::fmt::Debug for Term {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Term")
            .field("token", &self.token)
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}
