//! Child processes of `elect`: the leader's CMD, and the candidates of the demo.
//!
//! Each child runs in a process group of its own, so that the terminal's Ctrl-C reaches only
//! `elect` (which then stops the child in order) and so that stopping the child reaches
//! whatever it started too. Each child also dies with `elect` (`PR_SET_PDEATHSIG`): if `elect`
//! is killed, its lock is gone and another process may lead, so its CMD must not go on.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};
use std::sync::{Arc, Mutex};

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

/// How a job's process group ended, reported by its reaper thread.
pub enum JobEvent {
    /// CMD itself exited (with this status); what it started may still be running.
    Exited(io::Result<ExitStatus>),
    /// Every process of the group has exited and been reaped.
    GroupGone,
}

/// A running child, signalled as a process group.
///
/// `elect` makes itself a child subreaper (see [`reap_orphans`]), so whatever CMD starts and
/// leaves behind becomes `elect`'s child when CMD exits. A thread of the job's own then reaps
/// every member of the group and reports through `on_event` first CMD's exit, then that no
/// process of the group is left, so the caller can wait for both together with other events,
/// without polling.
pub struct Job {
    pid: libc::pid_t,
    /// Set, under the lock, when the last member was reaped: from then on the group's id may
    /// be reused by an unrelated group, so it must not be signalled any more.
    gone: Arc<Mutex<bool>>,
}

impl Job {
    pub fn spawn(
        mut cmd: Command,
        mut on_event: impl FnMut(JobEvent) + Send + 'static,
    ) -> io::Result<Job> {
        detach_but_tie(&mut cmd);
        let child: Child = cmd.spawn()?;
        let pid = child.id() as libc::pid_t;
        // The reaper below waits for the child; std's handle is not used for that.
        drop(child);
        let gone = Arc::new(Mutex::new(false));
        let reaper_gone = gone.clone();
        std::thread::Builder::new()
            .name("elect-job-wait".into())
            .spawn(move || reap_group(pid, &reaper_gone, &mut on_event))?;
        Ok(Job { pid, gone })
    }

    pub fn pid(&self) -> u32 {
        self.pid as u32
    }

    /// Sends `sig` to the child's process group, unless it is gone already (the caller learns
    /// of that through `on_event`).
    pub fn signal(&self, sig: i32) {
        let gone = self.gone.lock().unwrap_or_else(|e| e.into_inner());
        if !*gone {
            signal_group(self.pid, sig);
        }
    }
}

/// Makes this process the reaper of its orphaned descendants (`PR_SET_CHILD_SUBREAPER`), so
/// that what a job leaves behind can be waited for (see [`Job`]).
pub fn reap_orphans() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only; no memory is involved.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reaps every child of ours in process group `pgid` until none is left: reports the exit of
/// the group leader (CMD) when it comes, and `GroupGone` at the end. Each exit is first seen
/// without reaping it (`WNOWAIT`) and then reaped under the `gone` lock, so that
/// [`Job::signal`] never sends to a group id that the kernel could have handed out again.
fn reap_group(pgid: libc::pid_t, gone: &Mutex<bool>, on_event: &mut impl FnMut(JobEvent)) {
    use std::os::unix::process::ExitStatusExt;
    loop {
        let exited = next_exit(pgid, 0);
        let mut guard = gone.lock().unwrap_or_else(|e| e.into_inner());
        let Some(pid) = exited else {
            *guard = true;
            break;
        };
        let mut status = 0;
        // SAFETY: waitpid on a child that has exited (seen just above), with a valid out
        // pointer to a local.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        // Nothing exited and no child left in the group: it is empty.
        let empty = next_exit(pgid, libc::WNOHANG).is_none();
        *guard = empty;
        drop(guard);
        if pid == pgid {
            on_event(JobEvent::Exited(Ok(ExitStatus::from_raw(status))));
        }
        if empty {
            break;
        }
    }
    on_event(JobEvent::GroupGone);
}

/// The pid of an exited child of ours in group `pgid`, without reaping it; `Some(0)` with
/// `WNOHANG` when children remain but none has exited, `None` when no child is left.
fn next_exit(pgid: libc::pid_t, flags: libc::c_int) -> Option<libc::pid_t> {
    loop {
        // SAFETY: siginfo_t is plain data, zeroed as waitid(2) asks for WNOHANG; the pointer
        // is valid for the call, and si_pid is the field waitid fills for child events.
        let (rc, pid) = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let rc = libc::waitid(
                libc::P_PGID,
                pgid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT | flags,
            );
            (rc, info.si_pid())
        };
        if rc == 0 {
            return Some(pid);
        }
        if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return None; // ECHILD
        }
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
