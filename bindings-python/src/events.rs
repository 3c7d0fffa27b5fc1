//! Events as plain tuples: the package turns them into its dataclasses, which keeps this module
//! and its stubs small.
//!
//! `("elected", term)`, `("revoked", term, reason)`, `("leader_changed", (id, value, term) | None)`,
//! `("error", message)`, `("member_joined", (id, value))`, `("member_left", (id, value))`.

use elect_core::Event;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3::IntoPyObjectExt;

pub fn to_py<'py>(py: Python<'py>, event: &Event) -> PyResult<Bound<'py, PyTuple>> {
    let items: Vec<Bound<'py, PyAny>> = match event {
        Event::Elected { term } => vec![
            event.kind().name().into_bound_py_any(py)?,
            term.into_bound_py_any(py)?,
        ],
        Event::Revoked { term, reason } => vec![
            event.kind().name().into_bound_py_any(py)?,
            term.into_bound_py_any(py)?,
            reason.name().into_bound_py_any(py)?,
        ],
        Event::LeaderChanged { leader } => vec![
            event.kind().name().into_bound_py_any(py)?,
            leader
                .as_ref()
                .map(|l| (l.id.as_str(), l.value.as_str(), l.term))
                .into_bound_py_any(py)?,
        ],
        Event::Error { message } => vec![
            event.kind().name().into_bound_py_any(py)?,
            message.into_bound_py_any(py)?,
        ],
        Event::MemberJoined { member } | Event::MemberLeft { member } => vec![
            event.kind().name().into_bound_py_any(py)?,
            (member.id.as_str(), member.value.as_str()).into_bound_py_any(py)?,
        ],
    };
    PyTuple::new(py, items)
}
