//! Notices a store server whose wall clock jumped forward.
//!
//! Redis key expiry and PostgreSQL's `now()` follow the server's wall clock. A step forward
//! there (NTP correcting a large offset, a VM resumed with a stale clock) ends a lease early in
//! real time, while the leader's deadline, kept on its own monotonic clock, assumes the lease
//! lasts its full ttl: the two overlap by the size of the step less the `margin`. Every
//! renewal reads the server's time; between two readings the server's clock cannot honestly
//! advance by more than the local time between sending the first request and receiving the
//! answer to the second. When it advanced by more than that plus the margin, the leader steps
//! down.
//!
//! This notices a step at the first renewal after it. It cannot prevent the overlap between the
//! step and that renewal, and it does not see a step that happens while nobody renews.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The [`ServerClock`] of one store connection, shared by its tasks, with the margin the
/// leaders allow.
pub struct ClockCheck {
    store: &'static str,
    margin: Duration,
    clock: Mutex<ServerClock>,
}

impl ClockCheck {
    pub fn new(store: &'static str, margin: Duration) -> ClockCheck {
        ClockCheck {
            store,
            margin,
            clock: Mutex::default(),
        }
    }

    /// Records a reading of the server's clock (see [`ServerClock::observe`]). When the
    /// server's clock ran ahead by more than the margin, logs it and returns the message for
    /// the leaders, who then step down.
    pub fn check(&self, sent: Instant, received: Instant, server_ms: f64) -> Option<String> {
        let ahead = self
            .clock
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .observe(sent, received, server_ms, self.margin)?;
        let message = jumped_message(self.store, ahead, self.margin);
        tracing::warn!("{message}");
        Some(message)
    }
}

/// The last reading of one server's clock.
#[derive(Default)]
pub struct ServerClock {
    last: Option<Reading>,
}

#[derive(Clone, Copy)]
struct Reading {
    /// When the request that read the clock was sent (the server read it after this).
    sent: Instant,
    /// The server's time, milliseconds since the epoch.
    server_ms: f64,
}

impl ServerClock {
    /// Records the server's time `server_ms` (milliseconds since the epoch), read by a request
    /// sent at `sent` and answered at `received`. Returns how far the server's clock ran ahead
    /// of real time since the previous reading, when that is more than `tolerance`.
    pub fn observe(
        &mut self,
        sent: Instant,
        received: Instant,
        server_ms: f64,
        tolerance: Duration,
    ) -> Option<Duration> {
        let now = Reading { sent, server_ms };
        let prev = self.last.replace(now)?;
        // The most real time that can have passed between the two readings.
        let real_ms = received.saturating_duration_since(prev.sent).as_secs_f64() * 1000.0;
        let ahead_ms = (server_ms - prev.server_ms) - real_ms;
        (ahead_ms > tolerance.as_secs_f64() * 1000.0)
            .then(|| Duration::from_secs_f64(ahead_ms / 1000.0))
    }
}

/// The message of a leader that steps down because the server's clock jumped.
fn jumped_message(store: &str, ahead: Duration, margin: Duration) -> String {
    format!(
        "the {store} server's clock ran {:.0} ms ahead of this process's clock since the previous \
         renewal (more than the margin, {} ms): leases on the server may have ended early, so \
         this leader steps down",
        ahead.as_secs_f64() * 1000.0,
        margin.as_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARGIN: Duration = Duration::from_millis(300);

    /// Readings as (ms after t0 when sent, ms when answered, server time in ms).
    fn run(readings: &[(u64, u64, f64)]) -> Vec<Option<Duration>> {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut clock = ServerClock::default();
        readings
            .iter()
            .map(|&(sent, received, server)| clock.observe(at(sent), at(received), server, MARGIN))
            .collect()
    }

    #[test]
    fn a_server_clock_that_keeps_pace_is_fine() {
        // Renewals every 500 ms, 1 to 40 ms round trips, server reads anywhere in between.
        let base = 1_796_628_396_219.0;
        let out = run(&[
            (0, 2, base + 1.0),
            (500, 540, base + 539.0),
            (1000, 1001, base + 1000.5),
            (1500, 1530, base + 1500.0),
        ]);
        assert!(out.iter().all(Option::is_none), "{out:?}");
    }

    #[test]
    fn a_step_forward_beyond_the_margin_is_reported_once() {
        let base = 1_796_628_396_219.0;
        let out = run(&[
            (0, 2, base + 1.0),
            (500, 502, base + 501.0 + 2000.0),
            (1000, 1002, base + 1001.0 + 2000.0),
        ]);
        assert_eq!(out[0], None);
        let ahead = out[1].expect("the step is noticed");
        assert!(
            (1990..=2010).contains(&ahead.as_millis()),
            "{ahead:?} ahead"
        );
        assert_eq!(out[2], None, "reported once, not at every renewal after it");
    }

    #[test]
    fn a_step_within_the_margin_or_backwards_is_not_reported() {
        let base = 1_796_628_396_219.0;
        let out = run(&[
            (0, 2, base),
            (500, 502, base + 502.0 + 250.0),
            (1000, 1002, base + 1002.0 + 250.0 - 5000.0),
        ]);
        assert!(out.iter().all(Option::is_none), "{out:?}");
    }

    #[test]
    fn answers_out_of_order_do_not_look_like_a_step() {
        // Two requests in flight at once; the later one's answer is processed first.
        let base = 1_796_628_396_219.0;
        let out = run(&[
            (0, 1, base),
            (600, 650, base + 640.0),
            (500, 660, base + 520.0),
            (1100, 1101, base + 1100.0),
        ]);
        assert!(out.iter().all(Option::is_none), "{out:?}");
    }
}
