//! `elect._native.Group`: one instance of a group of elections (shards), its blocking calls made
//! outside the GIL.

use elect_core::{Config, Event};
use pyo3::prelude::*;

use crate::errors::check;
use crate::events;

#[pyclass(frozen, module = "elect._native")]
pub struct Group {
    inner: elect_core::Group,
}

#[pymethods]
impl Group {
    /// Joins the group and campaigns at once; `handler(shard, event_tuple)` runs on the group's
    /// event thread with the GIL taken.
    #[new]
    #[pyo3(signature = (uri, name, shards, cap, options, handler=None))]
    fn new(
        py: Python<'_>,
        uri: &str,
        name: &str,
        shards: usize,
        cap: Option<usize>,
        options: Vec<(String, String)>,
        handler: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let config = check(py, Config::parse_with(uri, options))?;
        let handler = handler.map(make_handler);
        let name = name.to_string();
        let inner =
            py.detach(move || elect_core::Group::open_with(config, &name, shards, cap, handler));
        Ok(Group {
            inner: check(py, inner)?,
        })
    }

    fn is_leader(&self, shard: usize) -> bool {
        self.inner.is_leader(shard)
    }

    fn fencing_token(&self, shard: usize) -> Option<u64> {
        self.inner.fencing_token(shard)
    }

    fn leading(&self) -> Vec<usize> {
        self.inner.leading()
    }

    /// Idempotent; without the GIL, since closing waits for threads that may wait for it.
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.inner.close())
    }

    #[getter]
    fn id(&self) -> &str {
        self.inner.id()
    }

    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    #[getter]
    fn shards(&self) -> usize {
        self.inner.shards()
    }
}

impl Drop for Group {
    /// As `Election`'s: closed outside the GIL, or plainly at interpreter shutdown.
    fn drop(&mut self) {
        let inner = &self.inner;
        if Python::try_attach(|py| py.detach(|| inner.close())).is_none() {
            inner.close();
        }
    }
}

fn make_handler(handler: Py<PyAny>) -> elect_core::GroupHandler {
    Box::new(move |shard: usize, event: &Event| {
        Python::try_attach(|py| {
            let result = events::to_py(py, event).and_then(|t| handler.call1(py, (shard, t)));
            if let Err(e) = result {
                e.write_unraisable(py, Some(handler.bind(py)));
            }
        });
    })
}
