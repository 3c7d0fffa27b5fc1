//! `elect._native.Term`: a handle on one term of leadership, held by the work of that term
//! (see `elect_core::Term`): the `drain` option waits for `release()` of every handle.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use elect_core::Error;
use pyo3::prelude::*;

use crate::errors::to_py;

#[pyclass(frozen, module = "elect._native")]
pub struct Term {
    token: u64,
    /// `None` once released. An `Arc` so that a wait in progress does not hold the lock.
    inner: Mutex<Option<Arc<elect_core::Term>>>,
}

impl Term {
    pub fn new(term: elect_core::Term) -> Term {
        Term {
            token: term.token(),
            inner: Mutex::new(Some(Arc::new(term))),
        }
    }

    fn get(&self) -> Option<Arc<elect_core::Term>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[pymethods]
impl Term {
    #[getter]
    fn token(&self) -> u64 {
        self.token
    }

    /// Seconds of lease left to this term, `None` once it is over (or released).
    fn remaining(&self) -> Option<f64> {
        self.get()?.remaining().map(|d| d.as_secs_f64())
    }

    /// Whether the term's work must stop (term over, deadline passed, or a draining
    /// resign/close); true once released.
    fn is_cancelled(&self) -> bool {
        self.get().is_none_or(|t| t.is_cancelled())
    }

    /// Blocks without the GIL until cancelled (`True`) or `timeout` seconds pass (`False`).
    fn wait(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        if !(0.0..1e9).contains(&timeout) {
            let msg = format!("timeout: expected seconds >= 0, got {timeout}");
            return Err(to_py(py, Error::invalid(msg)));
        }
        let Some(term) = self.get() else {
            return Ok(true);
        };
        Ok(py.detach(|| term.wait_cancelled(Some(Duration::from_secs_f64(timeout)))))
    }

    /// Ends this handle's part in the term's work (what `drain` waits for). Idempotent.
    fn release(&self) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    fn __repr__(&self) -> String {
        format!("<elect._native.Term token={}>", self.token)
    }
}
