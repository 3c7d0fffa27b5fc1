//! SIGINT, SIGTERM and SIGHUP as messages instead of asynchronous interruptions.
//!
//! [`block`] must run first in `main`, before the library starts any thread: every thread then
//! inherits the blocked mask, so the signals stay pending until the one thread started by
//! [`forward`] takes them with `sigwait` and hands them to ordinary code, which can then stop
//! the job, resign and exit in order. Children start with an empty mask (std's `Command`
//! resets it), so CMD still sees its signals.

use std::io;

/// The set of signals that ask `elect` to stop.
#[derive(Clone, Copy)]
pub struct StopSignals(libc::sigset_t);

/// Blocks the stop signals in the calling thread (and so in every thread it starts later).
pub fn block() -> io::Result<StopSignals> {
    // SAFETY: sigset_t is plain data that sigemptyset initialises before any other use; the
    // pointers passed are valid for the duration of each call.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, sig);
        }
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(StopSignals(set))
    }
}

/// Starts the thread that waits for the stop signals and calls `on_signal` with each one.
pub fn forward(set: StopSignals, mut on_signal: impl FnMut(i32) + Send + 'static) {
    let spawned = std::thread::Builder::new()
        .name("elect-signals".into())
        .spawn(move || loop {
            let mut sig = 0;
            // SAFETY: `set.0` is an initialised sigset_t and `sig` a valid out pointer.
            if unsafe { libc::sigwait(&set.0, &mut sig) } == 0 {
                on_signal(sig);
            }
        });
    if let Err(e) = spawned {
        // Without the thread the signals stay blocked; say so rather than ignore Ctrl-C silently.
        eprintln!("elect: cannot start the signal thread ({e}); use SIGKILL to stop");
    }
}

/// The signal's name for messages.
pub fn name(sig: i32) -> &'static str {
    match sig {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        libc::SIGKILL => "SIGKILL",
        _ => "a signal",
    }
}
