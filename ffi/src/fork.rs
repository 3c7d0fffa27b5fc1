//! Keeps elections of a parent process from acting in a forked child.
//!
//! A child of `fork()` has none of the parent's threads (runtime, dispatchers), so its copies of
//! the parent's elections would believe they lead until the deadline and block forever on calls.
//! The child handler makes them fail with `ELECT_ERR_CLOSED` instead; the child opens its own.

use std::sync::Once;

extern "C" fn child() {
    elect_core::after_fork_in_child();
}

/// Registers the `pthread_atfork` child handler, once per process (on the first open).
pub(crate) fn register_handler() {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        // SAFETY: `child` is a plain function that only bumps an atomic counter, which is
        // async-signal-safe as a fork handler must be; it never unwinds.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(child)) };
        if rc != 0 {
            eprintln!("elect: pthread_atfork failed ({rc}); elections will misbehave after fork()");
        }
    });
}
