//! Turns core errors into the exceptions of `elect._errors`, where the one table lives.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

static FROM_CODE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The exception for `e`: `elect._errors.from_code(code, name, message)` builds it, so the
/// mapping from codes to classes is written once, in Python, next to the classes.
pub fn to_py(py: Python<'_>, e: elect_core::Error) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let from_code = FROM_CODE.import(py, "elect._errors", "from_code")?;
        let exc = from_code.call1((e.code() as i32, e.code().name(), e.message()))?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|failure| failure)
}

/// `to_py` for a core `Result`.
pub fn check<T>(py: Python<'_>, r: elect_core::Result<T>) -> PyResult<T> {
    r.map_err(|e| to_py(py, e))
}
