//! The one tokio runtime of the process, started on first use.
//!
//! Hosts (C, Go, the JVM, CPython) need no runtime of their own. Two named worker threads are
//! enough for lease renewals and watches of many elections; user callbacks never run here (see
//! `dispatcher`), so a slow callback cannot delay a renewal.

use std::future::Future;
use std::sync::RwLock;

use once_cell::sync::Lazy;
use tokio::runtime::{Builder, Handle, Runtime};

use crate::error::{Error, Result};

/// Leaked on purpose: the runtime lives as long as the process, and after `fork()` the child's
/// copy of it has no threads, so it can only be abandoned and replaced, never dropped (dropping
/// would wait for worker threads that do not exist).
static RUNTIME: Lazy<RwLock<&'static Runtime>> = Lazy::new(|| RwLock::new(build()));

fn build() -> &'static Runtime {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("elect-rt")
        .enable_all()
        .build()
        .expect("elect: cannot start the tokio runtime");
    Box::leak(Box::new(rt))
}

pub fn handle() -> &'static Handle {
    let rt: &'static Runtime = *RUNTIME.read().unwrap_or_else(|e| e.into_inner());
    rt.handle()
}

/// In a forked child: a fresh runtime in place of the parent's, whose worker threads did not
/// survive the fork. Elections the child opens afterwards work; those it inherited stay
/// unusable (see `election::after_fork_in_child`).
pub(crate) fn abandon_after_fork() {
    if Lazy::get(&RUNTIME).is_none() {
        return; // never started in the parent: nothing to replace
    }
    // try_write: a lock held by a parent thread at fork time stays held forever in the child.
    if let Ok(mut rt) = RUNTIME.try_write() {
        *rt = build();
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
