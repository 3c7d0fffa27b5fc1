//! Surviving `fork()`: a forked child has only the thread that called `fork()`, and copies of
//! every lock as it was at that instant, possibly held by a thread that no longer exists.
//!
//! Bindings call [`after_fork_in_child`] from a fork handler in the child (`pthread_atfork`,
//! `os.register_at_fork`). It only bumps an atomic counter, which is async-signal-safe as such a
//! handler must be. Process-wide state that a child needs afresh (the runtime, the connection
//! registry) is kept in a [`PerProcess`]: each value is built on first use under the current
//! generation, in lock-free slots, so the child never waits on a lock copied from its parent.
//! Elections opened before the fork belong to the parent and refuse to work in the child.

use std::sync::atomic::{AtomicU64, Ordering};

use once_cell::race::OnceBox;

/// Bumped in each forked child; elections and per-process values made under an older value
/// belong to an ancestor process.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Marks everything made so far as the parent's. Call it in the child right after `fork()`
/// (the bindings do, from their fork handlers): the child's copies of the parent's elections
/// then neither claim leadership nor block, and the child's first `open` starts its own runtime
/// and connections.
pub fn after_fork_in_child() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// How many forks (seen by [`after_fork_in_child`]) separate this process from the first one.
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

/// A value of which each process has its own, built by `init` on first use in that process.
///
/// The values live as long as the process; an ancestor's values are left alone in the child
/// (never dropped: their threads and connections do not exist there).
pub(crate) struct PerProcess<T> {
    head: OnceBox<Slot<T>>,
    init: fn() -> T,
}

/// One generation's value, and the link to later generations'.
struct Slot<T> {
    generation: u64,
    value: OnceBox<T>,
    next: OnceBox<Slot<T>>,
}

impl<T> Slot<T> {
    fn new(generation: u64) -> Box<Slot<T>> {
        Box::new(Slot {
            generation,
            value: OnceBox::new(),
            next: OnceBox::new(),
        })
    }
}

impl<T> PerProcess<T> {
    pub const fn new(init: fn() -> T) -> PerProcess<T> {
        PerProcess {
            head: OnceBox::new(),
            init,
        }
    }

    /// This process's value. Threads that race to build it each build one and all get the
    /// same; the others are dropped (`OnceBox`: no lock, so nothing to inherit half-taken).
    pub fn get(&self) -> &T {
        let generation = generation();
        let mut slot = self.head.get_or_init(|| Slot::new(generation));
        while slot.generation != generation {
            slot = slot.next.get_or_init(|| Slot::new(generation));
        }
        slot.value.get_or_init(|| Box::new((self.init)()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::channel;
    use std::sync::Mutex;

    use super::*;

    /// A lock that another thread holds when the process forks stays held forever in the
    /// child. Simulated without a fork: a thread holds this process's value, then the
    /// generation moves on as in a child; the new generation's value must be another, free one.
    /// (Other unit tests only ever take per-process values afresh, so the bump is harmless.)
    #[test]
    fn a_child_gets_fresh_values_whatever_the_parent_held() {
        static VALUE: PerProcess<Mutex<u32>> = PerProcess::new(|| Mutex::new(0));
        *VALUE.get().lock().unwrap() = 7;
        let (held, release) = (channel(), channel::<()>());
        let holder = std::thread::spawn(move || {
            let _guard = VALUE.get().lock().unwrap();
            held.0.send(()).unwrap();
            let _ = release.1.recv();
        });
        held.1.recv().unwrap();
        after_fork_in_child();
        let fresh = VALUE.get().try_lock();
        assert_eq!(
            fresh.as_deref().copied().ok(),
            Some(0),
            "a fresh, unlocked value"
        );
        drop(fresh);
        release.0.send(()).unwrap();
        holder.join().unwrap();
    }
}
