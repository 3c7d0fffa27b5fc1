//! `elect._native`: the private extension module under the pure-Python package `elect`.
//!
//! It is deliberately thin: one class over `elect_core::Election` plus a few functions. The
//! Pythonic API (keyword options, event objects, asyncio, `leadership()`) lives in the package,
//! and the exception classes live in `elect._errors`, the one table from core's error codes.

mod errors;
mod events;
mod group;
mod native;
mod observe;
mod signals;
mod term;

use pyo3::prelude::*;

type OptionRow = (&'static str, &'static str, &'static str, &'static str);

/// See `_native.tables`.
#[derive(IntoPyObject)]
struct Tables {
    options: Vec<OptionRow>,
    event_kinds: Vec<(i32, &'static str)>,
    revoke_reasons: Vec<(i32, &'static str)>,
}

#[pymodule]
mod _native {
    use super::*;

    #[pymodule_export]
    use crate::native::Election;

    #[pymodule_export]
    use crate::group::Group;

    #[pymodule_export]
    use crate::observe::{log_records_dropped, set_log_sink};

    #[pymodule_export]
    use crate::term::Term;

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

    /// Core's tables the package mirrors, so the tests can check the package against them:
    /// `options` as `(name, kind, default, doc)`, `event_kinds` and `revoke_reasons` as
    /// `(number, name)`.
    #[pyfunction]
    fn tables() -> Tables {
        use elect_core::options::CommonOption;
        use elect_core::{EventKind, RevokeReason};
        Tables {
            options: CommonOption::ALL
                .map(|o| (o.name(), o.kind().name(), o.default_text(), o.doc()))
                .to_vec(),
            event_kinds: EventKind::ALL.map(|k| (k as i32, k.name())).to_vec(),
            revoke_reasons: RevokeReason::ALL.map(|r| (r as i32, r.name())).to_vec(),
        }
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
