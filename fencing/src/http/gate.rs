//! The in-memory fence of a server: per election, the highest token seen and the requests of the
//! admitted token in flight.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

/// Keeps the highest token per election for one resource, and makes the check atomic with the
/// request's work: it admits a token equal to the current one at once, lets a newer token in only
/// once the requests of the older one in flight have finished, and refuses a token lower than
/// the newest it has seen (also while that one waits). Clones share the fence: give one gate to
/// every route that writes the resource.
#[derive(Clone, Default)]
pub struct Gate {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    fences: Mutex<HashMap<String, Fence>>,
    /// Woken when an admitted token's last request in flight leaves.
    left: Notify,
}

#[derive(Default)]
struct Fence {
    /// The token whose requests may run.
    current: u64,
    /// The highest seen, maybe still waiting for `current`'s requests to finish.
    newest: u64,
    /// Requests of `current` in flight.
    active: usize,
}

/// An admitted request: it counts as in flight until dropped (also when its future is dropped
/// because the client went away).
pub struct Pass {
    inner: Arc<Inner>,
    election: String,
}

impl Gate {
    pub fn new() -> Self {
        Self::default()
    }

    /// Admits a request of `election` under `token`, waiting while an older token's requests are
    /// in flight; `Err(highest)` if `token` is older than the highest seen.
    pub async fn enter(&self, election: &str, token: u64) -> Result<Pass, u64> {
        loop {
            let left = self.inner.left.notified();
            tokio::pin!(left);
            // Registered before the check, so a leave between the check and the wait wakes us.
            left.as_mut().enable();
            {
                let mut fences = self.lock();
                let f = fences.entry(election.to_owned()).or_default();
                f.newest = f.newest.max(token);
                if token < f.newest {
                    return Err(f.newest);
                }
                if token == f.current || f.active == 0 {
                    f.current = token;
                    f.active += 1;
                    return Ok(Pass {
                        inner: self.inner.clone(),
                        election: election.to_owned(),
                    });
                }
            }
            left.await;
        }
    }

    /// The highest token seen for `election`, 0 before the first.
    pub fn highest(&self, election: &str) -> u64 {
        self.lock().get(election).map_or(0, |f| f.newest)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Fence>> {
        self.inner
            .fences
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        let mut fences = self
            .inner
            .fences
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let f = fences
            .get_mut(&self.election)
            .expect("a pass's election has a fence");
        f.active -= 1;
        if f.active == 0 {
            self.inner.left.notify_waiters();
        }
    }
}
