//! `elect._native.Election`: one core election, with every blocking call made outside the GIL.

use std::time::{Duration, Instant};

use elect_core::{Config, Error, Event, Interrupt, State, Waited};
use pyo3::prelude::*;

use crate::errors::{check, to_py};
use crate::events;
use crate::signals::SignalWakeup;

#[pyclass(frozen, module = "elect._native")]
pub struct Election {
    inner: elect_core::Election,
}

#[pymethods]
impl Election {
    /// Opens the election: parses `uri`, applies `options` as `Config::set(key, value)` in order
    /// (the same validation as query parameters), connects, and sends every event to `handler`
    /// as a tuple on one of the library's callback threads with the GIL taken.
    #[new]
    #[pyo3(signature = (uri, name, options, handler=None))]
    fn new(
        py: Python<'_>,
        uri: &str,
        name: &str,
        options: Vec<(String, String)>,
        handler: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let config = check(py, Config::parse_with(uri, options))?;
        let handler = handler.map(make_handler);
        let name = name.to_string();
        let inner = py.detach(move || elect_core::Election::open_with(config, &name, handler));
        Ok(Election {
            inner: check(py, inner)?,
        })
    }

    fn start(&self, py: Python<'_>) -> PyResult<()> {
        check(py, py.detach(|| self.inner.start()))
    }

    fn observe(&self, py: Python<'_>) -> PyResult<()> {
        check(py, py.detach(|| self.inner.observe()))
    }

    /// Two atomic loads and a clock read: no GIL release, no I/O.
    fn is_leader(&self) -> bool {
        self.inner.is_leader()
    }

    fn fencing_token(&self) -> Option<u64> {
        self.inner.fencing_token()
    }

    /// Seconds of lease left, `None` when not leading. No I/O.
    fn lease_remaining(&self) -> Option<f64> {
        self.inner.lease_remaining().map(|d| d.as_secs_f64())
    }

    /// A handle on the current term if at least `min_lease` seconds of lease are left.
    #[pyo3(signature = (min_lease=0.0))]
    fn term(&self, py: Python<'_>, min_lease: f64) -> PyResult<Option<crate::term::Term>> {
        if !(0.0..1e9).contains(&min_lease) {
            let msg = format!("min_lease: expected seconds >= 0, got {min_lease}");
            return Err(to_py(py, Error::invalid(msg)));
        }
        let term = self.inner.term_for(Duration::from_secs_f64(min_lease));
        Ok(term.map(crate::term::Term::new))
    }

    /// Blocks without the GIL until leading (`True`) or `timeout` seconds pass (`False`);
    /// `None` waits forever. A signal (Ctrl-C) wakes the wait at once so that its Python
    /// handler runs; the wait goes on unless the handler raised (see `signals`).
    #[pyo3(signature = (timeout=None))]
    fn wait_leader(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let until = match timeout {
            None => None,
            Some(t) if (0.0..1e9).contains(&t) => Some(Instant::now() + Duration::from_secs_f64(t)),
            Some(t) => {
                let msg = format!("timeout: expected seconds >= 0 or None, got {t}");
                return Err(to_py(py, Error::invalid(msg)));
            }
        };
        let interrupt = Interrupt::new();
        let wakeup = SignalWakeup::install(py, &interrupt)?;
        let waited = self.wait_interruptible(py, until, &interrupt, wakeup.as_ref());
        match wakeup {
            Some(w) => {
                let restored = w.restore(py);
                let led = waited?;
                restored?;
                Ok(led)
            }
            None => waited,
        }
    }

    fn resign(&self, py: Python<'_>) -> PyResult<()> {
        check(py, py.detach(|| self.inner.resign()))
    }

    fn proclaim(&self, py: Python<'_>, value: &str) -> PyResult<()> {
        check(py, py.detach(|| self.inner.proclaim(value)))
    }

    fn hand_over_to(&self, py: Python<'_>, successor: &str) -> PyResult<()> {
        check(py, py.detach(|| self.inner.hand_over_to(successor)))
    }

    /// `(id, value, term)` of the leader as the store sees it, or `None`.
    fn leader(&self, py: Python<'_>) -> PyResult<Option<(String, String, u64)>> {
        let leader = check(py, py.detach(|| self.inner.leader()))?;
        Ok(leader.map(|l| (l.id, l.value, l.term)))
    }

    /// `(id, value)` of every live candidate.
    fn members(&self, py: Python<'_>) -> PyResult<Vec<(String, String)>> {
        let members = check(py, py.detach(|| self.inner.members()))?;
        Ok(members.into_iter().map(|m| (m.id, m.value)).collect())
    }

    /// Idempotent. Without the GIL, because closing waits for the election's queued callbacks,
    /// whose thread may be waiting for the GIL to run one.
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.inner.close())
    }

    /// The metrics snapshot as a tuple (see `observe::StatsTuple`): atomic loads, no I/O.
    fn stats(&self) -> crate::observe::StatsTuple {
        crate::observe::stats_tuple(&self.inner.stats())
    }

    /// `(ok, leading, store_connected, lease_remaining)`, read locally: no store round trip.
    fn health(&self) -> (bool, bool, bool, Option<f64>) {
        crate::observe::health_tuple(&self.inner.health())
    }

    #[getter]
    fn id(&self) -> &str {
        self.inner.id()
    }

    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// `idle`, `campaigning`, `leading`, `revoked`, `observing` or `closed`.
    #[getter]
    fn state(&self) -> &'static str {
        match self.inner.state() {
            State::Idle => "idle",
            State::Campaigning => "campaigning",
            State::Leading => "leading",
            State::Revoked => "revoked",
            State::Observing => "observing",
            State::Closed => "closed",
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "<elect._native.Election name={:?} id={:?} state={}>",
            self.inner.name(),
            self.inner.id(),
            self.state()
        )
    }
}

impl Drop for Election {
    /// An election dropped without `close()` is closed here, outside the GIL for the same
    /// reason as `close`. At interpreter shutdown there is no GIL to give up, and the dispatcher
    /// cannot take it either (`try_attach` fails), so a plain close cannot deadlock.
    fn drop(&mut self) {
        let inner = &self.inner;
        if Python::try_attach(|py| py.detach(|| inner.close())).is_none() {
            inner.close();
        }
    }
}

/// Wraps the Python handler for the library's callback threads. An exception that escapes it (the
/// package catches callback errors itself, so this is a last resort) goes to
/// `sys.unraisablehook`; at interpreter shutdown events are dropped.
fn make_handler(handler: Py<PyAny>) -> elect_core::Handler {
    Box::new(move |event: &Event| {
        Python::try_attach(|py| {
            let result = events::to_py(py, event).and_then(|t| handler.call1(py, (t,)));
            if let Err(e) = result {
                e.write_unraisable(py, Some(handler.bind(py)));
            }
        });
    })
}

impl Election {
    /// Waits until `until`, running Python's signal handlers whenever `interrupt` fires.
    fn wait_interruptible(
        &self,
        py: Python<'_>,
        until: Option<Instant>,
        interrupt: &Interrupt,
        wakeup: Option<&SignalWakeup>,
    ) -> PyResult<bool> {
        loop {
            // A signal that arrived before the wake-up fd was ours is only flagged: look first.
            py.check_signals()?;
            let left = until.map(|u| u.saturating_duration_since(Instant::now()));
            let waited = py.detach(|| self.inner.wait_leader_or(left, interrupt));
            match check(py, waited)? {
                Waited::Done => return Ok(true),
                Waited::TimedOut => return Ok(false),
                Waited::Interrupted => {
                    interrupt.take();
                    if let Some(w) = wakeup {
                        w.forward(py);
                    }
                }
            }
        }
    }
}
