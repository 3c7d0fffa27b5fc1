//! The lock-free leadership state that `is_leader()` reads.
//!
//! The engine task is the only writer. Readers do two atomic loads and one clock read
//! (`CLOCK_BOOTTIME`, see `clock`), so `is_leader()` can be called on every loop iteration of a
//! job, from any thread.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::clock;
use crate::interrupt::{Interrupt, Waited};
use crate::term::{Term, TermSignal};

/// Where an election is in its life.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Opened; neither `start` nor `observe` called yet.
    Idle = 0,
    /// Waiting in line (or retrying after a store error).
    Campaigning = 1,
    /// Holds the leadership (until the deadline).
    Leading = 2,
    /// Just lost the leadership; campaigns again after `silence`.
    Revoked = 3,
    /// Following the leader without campaigning.
    Observing = 4,
    /// Closed: every call fails with `Closed`.
    Closed = 5,
}

impl State {
    fn from_u8(v: u8) -> State {
        match v {
            0 => State::Idle,
            1 => State::Campaigning,
            2 => State::Leading,
            3 => State::Revoked,
            4 => State::Observing,
            _ => State::Closed,
        }
    }
}

#[derive(Default)]
pub struct Lease {
    state: AtomicU8,
    /// `CLOCK_BOOTTIME` nanos (see `clock`) until which we may believe we lead; 0 when not
    /// leading.
    deadline: AtomicU64,
    /// Fencing token of the current term; 0 when not leading.
    token: AtomicU64,
    /// Wakes `wait_leader` callers on every change.
    changed: Condvar,
    generation: Mutex<u64>,
    /// The cancellation signal of the current term; `None` between terms.
    term: Mutex<Option<Arc<TermSignal>>>,
}

impl Lease {
    pub fn state(&self) -> State {
        State::from_u8(self.state.load(SeqCst))
    }

    #[inline]
    pub fn is_leader(&self) -> bool {
        let deadline = self.deadline.load(SeqCst);
        deadline != 0 && clock::now_nanos() < deadline
    }

    /// The token of the current term, or 0 when not leading (or past the deadline).
    pub fn fencing_token(&self) -> u64 {
        let token = self.token.load(SeqCst);
        if token != 0 && self.is_leader() && self.token.load(SeqCst) == token {
            token
        } else {
            0
        }
    }

    /// The deadline of the current term, if leading, as the instant the monotonic clock will
    /// show then (earlier than that instant if the machine is suspended meanwhile).
    pub fn deadline(&self) -> Option<Instant> {
        match self.deadline.load(SeqCst) {
            0 => None,
            n => Some(clock::instant_at(n)),
        }
    }

    pub(crate) fn set_state(&self, state: State) {
        self.state.store(state as u8, SeqCst);
        self.notify();
    }

    /// Enters a new term. The token is published before the deadline so that a reader who sees
    /// the deadline sees the token too.
    pub(crate) fn elect(&self, term: u64, deadline: u64) {
        *self.term.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::default());
        self.token.store(term, SeqCst);
        self.deadline.store(deadline, SeqCst);
        self.set_state(State::Leading);
    }

    /// Moves the deadline after a confirmed renewal; never moves it backwards.
    pub(crate) fn extend(&self, deadline: u64) {
        self.deadline.fetch_max(deadline, SeqCst);
    }

    /// Ends the term: deadline first, so `is_leader()` turns false before anything else changes.
    pub(crate) fn revoke(&self, next: State) {
        self.deadline.store(0, SeqCst);
        self.token.store(0, SeqCst);
        if let Some(signal) = self.term.lock().unwrap_or_else(|e| e.into_inner()).take() {
            signal.cancel();
        }
        self.set_state(next);
    }

    /// A handle on the current term, `None` when not leading. The check and the clone happen
    /// under the lock `revoke` takes, so a handle is never made for a term already cancelled
    /// by `revoke`.
    pub(crate) fn term(self: &Arc<Self>) -> Option<Term> {
        let current = self.term.lock().unwrap_or_else(|e| e.into_inner());
        let signal = current.as_ref()?;
        let token = self.fencing_token();
        (token != 0).then(|| Term::new(token, signal.clone(), self.clone()))
    }

    /// The signal of the current term (for the engine's drain), `None` between terms.
    pub(crate) fn term_signal(&self) -> Option<Arc<TermSignal>> {
        self.term.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The time left until the deadline, `None` when not leading (or past the deadline).
    pub fn remaining(&self) -> Option<Duration> {
        let deadline = self.deadline.load(SeqCst);
        let now = clock::now_nanos();
        (deadline != 0 && now < deadline).then(|| Duration::from_nanos(deadline - now))
    }

    fn notify(&self) {
        let mut g = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        *g += 1;
        self.changed.notify_all();
    }

    /// Wakes every `wait_leader` without a change, so that it looks at its interrupt.
    pub(crate) fn wake_waiters(&self) {
        let _g = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        self.changed.notify_all();
    }

    /// Blocks until this candidate leads, the election closes, or `timeout` passes.
    /// Returns whether it leads. Never call from a runtime thread.
    pub fn wait_leader(&self, timeout: Option<Duration>) -> bool {
        self.wait_leader_or(timeout, None) == Waited::Done
    }

    /// [`Lease::wait_leader`] that also ends when `interrupt` fires. `Done` when leading,
    /// `TimedOut` when the time passed or the election closed. The caller arranges for a fired
    /// interrupt to call [`Lease::wake_waiters`] (see [`Interrupt`]).
    pub(crate) fn wait_leader_or(
        &self,
        timeout: Option<Duration>,
        interrupt: Option<&Interrupt>,
    ) -> Waited {
        let until = timeout.map(|t| Instant::now() + t);
        let mut g = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if self.is_leader() {
                return Waited::Done;
            }
            if self.state() == State::Closed {
                return Waited::TimedOut;
            }
            if interrupt.is_some_and(Interrupt::is_fired) {
                return Waited::Interrupted;
            }
            match until {
                None => g = self.changed.wait(g).unwrap_or_else(|e| e.into_inner()),
                Some(until) => {
                    let now = Instant::now();
                    if now >= until {
                        return Waited::TimedOut;
                    }
                    g = self
                        .changed
                        .wait_timeout(g, until - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_bounds_leadership() {
        let l = Lease::default();
        assert!(!l.is_leader());
        let in_ = |d: Duration| clock::now_nanos() + d.as_nanos() as u64;
        l.elect(7, in_(Duration::from_secs(60)));
        assert!(l.is_leader());
        assert_eq!(l.fencing_token(), 7);
        l.extend(clock::now_nanos());
        assert!(l.is_leader(), "extend never shortens the deadline");
        l.revoke(State::Revoked);
        assert!(!l.is_leader());
        assert_eq!(l.fencing_token(), 0);
        l.elect(8, clock::now_nanos() - 1_000_000);
        assert!(!l.is_leader(), "a past deadline is not leadership");
        assert_eq!(l.fencing_token(), 0);
    }
}
