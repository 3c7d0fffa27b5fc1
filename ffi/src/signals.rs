//! Keeps SIGPIPE away from the host.
//!
//! A write to a socket whose peer is gone raises SIGPIPE in the writing thread, and store clients
//! write with `writev`, which has no `MSG_NOSIGNAL`. Rust programs ignore SIGPIPE from `main`,
//! but a C or Go host keeps the default action, which kills the process (seen with Go: a paused
//! ZooKeeper leader resumes, writes to its expired session's socket, exit status 141). The
//! library's own threads therefore run with SIGPIPE blocked: the signal stays pending on the
//! writing thread and the write fails with `EPIPE`, which the store client handles. The host's
//! threads and its SIGPIPE disposition are left as they are.

use std::mem::MaybeUninit;
use std::ptr;

/// Runs `f` with SIGPIPE blocked in the calling thread, so that every thread the library starts
/// meanwhile (the runtime's workers on the first open, which start every later thread of the
/// runtime and the callback threads) inherits the blocked mask; then restores the caller's
/// mask, also if `f` panics.
pub(crate) fn with_sigpipe_blocked<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(libc::sigset_t);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: restores a mask that pthread_sigmask itself filled in below.
            unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.0, ptr::null_mut()) };
        }
    }
    let mut pipe = MaybeUninit::<libc::sigset_t>::uninit();
    let mut old = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises `pipe` before sigaddset and pthread_sigmask read it;
    // pthread_sigmask initialises `old` (it cannot fail with SIG_BLOCK and a valid set).
    let restore = unsafe {
        libc::sigemptyset(pipe.as_mut_ptr());
        libc::sigaddset(pipe.as_mut_ptr(), libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, pipe.as_ptr(), old.as_mut_ptr());
        Restore(old.assume_init())
    };
    let result = f();
    drop(restore);
    result
}
