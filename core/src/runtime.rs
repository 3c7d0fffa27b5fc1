//! The one tokio runtime of the process, started on first use.
//!
//! Hosts (C, Go, the JVM, CPython) need no runtime of their own. Two named worker threads are
//! enough for lease renewals and watches of many elections; user callbacks never run here (see
//! `dispatcher`), so a slow callback cannot delay a renewal.

use std::future::Future;

use tokio::runtime::{Builder, Handle, Runtime};

use crate::error::{Error, Result};
use crate::fork::PerProcess;

/// Per process: after `fork()` the child's copy of the parent's runtime has no threads, so the
/// child starts its own on first use (see `fork`).
static RUNTIME: PerProcess<Workers> = PerProcess::new(build);

/// The runtime, shut down without waiting if it is ever dropped: only a runtime that lost a race
/// to be the process's one is, and that may happen inside some other async context.
struct Workers(Option<Runtime>);

impl Drop for Workers {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

fn build() -> Workers {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("elect-rt")
        .enable_all()
        .build()
        .expect("elect: cannot start the tokio runtime");
    Workers(Some(rt))
}

pub fn handle() -> &'static Handle {
    match &RUNTIME.get().0 {
        Some(rt) => rt.handle(),
        None => unreachable!("only a dropped runtime is taken"),
    }
}

/// Runs `fut` on the shared runtime and blocks the calling thread until it finishes.
///
/// Safe to call from any thread, including a thread that is itself inside some other tokio
/// runtime (the host's), because the future runs on our workers and we wait on a std channel.
pub fn block_on<F>(fut: F) -> Result<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    handle().spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv()
        .map_err(|_| Error::internal("a task on the elect runtime panicked"))
}
