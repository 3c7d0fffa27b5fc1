//! A blocking wait that another thread can cut short.
//!
//! The bridges wait on behalf of a host language that must stay responsive while they do:
//! Python runs its signal handlers (Ctrl-C) only when the waiting call returns, Java expects
//! `Thread.interrupt()` to end a wait. Rather than waking every few milliseconds to look, they
//! hand the wait an [`Interrupt`] and fire it from wherever the host's news arrives (a thread
//! reading Python's signal wake-up fd, say); the wait then returns
//! [`Waited::Interrupted`] at once.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    /// What was waited for happened (for `wait_leader`: this candidate leads).
    Done,
    /// The timeout passed first.
    TimedOut,
    /// [`Interrupt::fire`] was called; the interrupt stays fired until [`Interrupt::take`].
    Interrupted,
}

/// Ends a wait from another thread. Cheap to clone; all clones are the same interrupt.
#[derive(Clone, Default)]
pub struct Interrupt(Arc<Inner>);

#[derive(Default)]
struct Inner {
    fired: AtomicBool,
    /// Wakes the wait in progress, if any (it notifies the condition variable the wait blocks
    /// on, under that variable's mutex, so the wake cannot fall between its check and its sleep).
    wake: Mutex<Option<Box<dyn Fn() + Send + Sync>>>,
}

impl Interrupt {
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// Makes the current wait (or the next one) return [`Waited::Interrupted`]. Any thread;
    /// never blocks for long (it takes the waited-on mutex briefly).
    pub fn fire(&self) {
        self.0.fired.store(true, SeqCst);
        if let Some(wake) = &*self.0.wake.lock().unwrap_or_else(|e| e.into_inner()) {
            wake();
        }
    }

    pub fn is_fired(&self) -> bool {
        self.0.fired.load(SeqCst)
    }

    /// Clears the interrupt; whether it had fired.
    pub fn take(&self) -> bool {
        self.0.fired.swap(false, SeqCst)
    }

    /// Lets `fire` wake a wait through `wake` until the guard is dropped.
    pub(crate) fn waking(&self, wake: impl Fn() + Send + Sync + 'static) -> WakeGuard<'_> {
        *self.0.wake.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(wake));
        WakeGuard(self)
    }
}

pub(crate) struct WakeGuard<'a>(&'a Interrupt);

impl Drop for WakeGuard<'_> {
    fn drop(&mut self) {
        *self.0 .0.wake.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Election, Error};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    /// `/proc/thread-self` names the calling thread as `<pid>/task/<tid>`.
    fn thread_self() -> std::path::PathBuf {
        std::path::Path::new("/proc").join(std::fs::read_link("/proc/thread-self").unwrap())
    }

    /// Whether the thread at `task` sleeps in a futex (a condition variable's wait).
    fn in_futex(task: &std::path::Path) -> bool {
        std::fs::read_to_string(task.join("wchan")).is_ok_and(|w| w.contains("futex"))
    }

    /// A candidate that cannot lead (another holds the lock) waits without a timeout; `fire`
    /// from another thread ends the wait once it sleeps.
    #[test]
    fn fire_ends_an_endless_wait_and_take_clears_it() -> Result<(), Error> {
        let dir = std::env::temp_dir().join(format!("elect-interrupt-{}", std::process::id()));
        let uri = format!("file://{}", dir.display());
        let holder = Election::open(&format!("{uri}?id=holder"), "job", None)?;
        holder.start()?;
        assert!(holder.wait_leader(Some(Duration::from_secs(10)))?);
        let waiter = std::sync::Arc::new(Election::open(&format!("{uri}?id=waiter"), "job", None)?);
        waiter.start()?;

        let interrupt = Interrupt::new();
        let (task_tx, task_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        let (w, i) = (waiter.clone(), interrupt.clone());
        std::thread::spawn(move || {
            task_tx.send(thread_self()).unwrap();
            done_tx.send(w.wait_leader_or(None, &i)).unwrap();
        });
        let task = task_rx.recv().unwrap();
        while !in_futex(&task) {
            std::thread::yield_now();
        }
        interrupt.fire();
        let waited = done_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("fire did not end the wait");
        assert_eq!(waited?, Waited::Interrupted);

        // Fired stays fired until taken; a taken interrupt lets a timed wait run out.
        assert_eq!(
            waiter.wait_leader_or(None, &interrupt)?,
            Waited::Interrupted
        );
        assert!(interrupt.take());
        let t = Instant::now();
        let waited = waiter.wait_leader_or(Some(Duration::from_millis(50)), &interrupt)?;
        assert_eq!(waited, Waited::TimedOut);
        assert!(t.elapsed() >= Duration::from_millis(50));

        holder.close();
        let led = waiter.wait_leader_or(Some(Duration::from_secs(10)), &interrupt)?;
        assert_eq!(led, Waited::Done);
        waiter.close();
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
