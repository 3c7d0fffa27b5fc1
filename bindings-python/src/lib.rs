//! `elect._native`: the private extension module under the pure-Python package `elect`.
//!
//! It is deliberately thin: one class over `elect_core::Election` plus a few functions. The
//! Pythonic API (keyword options, event objects, asyncio, `leadership()`) lives in the package,
//! and the exception classes live in `elect._errors`, the one table from core's error codes.

mod errors;
mod events;
mod native;

use pyo3::prelude::*;

#[pymodule]
mod _native {
    use super::*;

    #[pymodule_export]
    use crate::native::Election;

    #[pymodule_export]
    const VERSION: &str = elect_core::VERSION;

    /// Marks every election opened so far as the parent's; `elect` registers it with
    /// `os.register_at_fork(after_in_child=...)`.
    #[pyfunction]
    fn after_fork_in_child() {
        elect_core::after_fork_in_child();
    }

    /// Every error code of core as `(number, name)`, so the tests can check that the Python
    /// table covers them all.
    #[pyfunction]
    fn error_codes() -> Vec<(i32, &'static str)> {
        elect_core::ErrorCode::ALL
            .iter()
            .map(|c| (*c as i32, c.name()))
            .collect()
    }

    /// Reports `exc`, raised by a user callback, through `sys.unraisablehook` (Python has no
    /// public way to call the hook with a proper `UnraisableHookArgs`).
    #[pyfunction]
    fn write_unraisable(
        py: Python<'_>,
        exc: Bound<'_, pyo3::exceptions::PyBaseException>,
        obj: Option<Bound<'_, PyAny>>,
    ) {
        PyErr::from_value(exc.into_any()).write_unraisable(py, obj.as_ref());
    }
}
