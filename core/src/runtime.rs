//! The one tokio runtime of the process, started on first use.
//!
//! Hosts (C, Go, the JVM, CPython) need no runtime of their own. Two named worker threads are
//! enough for lease renewals and watches of many elections; user callbacks never run here (see
//! `dispatcher`), so a slow callback cannot delay a renewal.

use std::future::Future;

use once_cell::sync::Lazy;
use tokio::runtime::{Builder, Handle, Runtime};

use crate::error::{Error, Result};

static RUNTIME: Lazy<Runtime> = Lazy::new(|| {
    Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("elect-rt")
        .enable_all()
        .build()
        .expect("elect: cannot start the tokio runtime")
});

pub fn handle() -> &'static Handle {
    RUNTIME.handle()
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
