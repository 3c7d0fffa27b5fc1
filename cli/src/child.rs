//! Child processes of `elect`: the leader's CMD, and the candidates of the demo.
//!
//! Each child runs in a process group of its own, so that the terminal's Ctrl-C reaches only
//! `elect` (which then stops the child in order) and so that stopping the child reaches
//! whatever it started too. Each child also dies with `elect` (`PR_SET_PDEATHSIG`): if `elect`
//! is killed, its lock is gone and another process may lead, so its CMD must not go on.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};

/// Prepares `cmd` to run in its own process group and to be killed when `elect` dies.
pub fn detach_but_tie(cmd: &mut Command) {
    let parent = std::process::id() as libc::pid_t;
    cmd.process_group(0);
    // SAFETY: the closure runs in the child between fork and exec and calls only
    // async-signal-safe functions (prctl, getppid), touching no memory shared with the parent.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() != parent {
                return Err(io::Error::other("elect exited while starting the command"));
            }
            Ok(())
        });
    }
}

/// A running child, signalled as a process group. A thread of its own waits for its exit and
/// reports it through `on_exit`, so the caller can wait for it together with other events.
pub struct Job {
    pid: libc::pid_t,
}

impl Job {
    pub fn spawn(
        mut cmd: Command,
        on_exit: impl FnOnce(io::Result<ExitStatus>) + Send + 'static,
    ) -> io::Result<Job> {
        detach_but_tie(&mut cmd);
        let mut child: Child = cmd.spawn()?;
        let pid = child.id() as libc::pid_t;
        std::thread::Builder::new()
            .name("elect-job-wait".into())
            .spawn(move || on_exit(child.wait()))?;
        Ok(Job { pid })
    }

    pub fn pid(&self) -> u32 {
        self.pid as u32
    }

    /// Sends `sig` to the child's process group. Errors (the group is already gone) are of no
    /// interest: the caller learns of the exit through `on_exit`.
    pub fn signal(&self, sig: i32) {
        signal_group(self.pid, sig);
    }
}

/// Sends `sig` to the process group led by `pid`.
pub fn signal_group(pid: libc::pid_t, sig: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
    unsafe { libc::kill(-pid, sig) };
}

/// The exit code for a command that could not be started.
pub fn spawn_error_code(e: &io::Error) -> i32 {
    match e.kind() {
        io::ErrorKind::NotFound => crate::exit::NOT_FOUND,
        _ => crate::exit::CANNOT_EXECUTE,
    }
}
