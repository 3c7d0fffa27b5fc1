//! `fork()` while the library is busy: the parent leads and other threads of it keep calling
//! into the library (store reads on the shared runtime, opens and closes that take the
//! connection registry), so a fork can land while one of them holds the runtime or the
//! registry. The `pthread_atfork` child handler must leave the child able to open, campaign and
//! lead on the same store, whatever the parent's threads held: every child must finish within
//! its alarm.

use std::ffi::{CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use elect::election::{
    elect_close, elect_election, elect_is_leader, elect_open, elect_start, elect_wait_leader,
};
use elect::error::elect_status;
use elect::leader::{elect_leader, elect_leader_info, elect_leader_info_free};

const FORKS: usize = 40;
/// A child that has not finished by then is stuck (SIGALRM ends it, and the test fails).
const CHILD_ALARM_S: u32 = 20;
const WAIT_MS: i64 = 10_000;

/// An open election handle; the raw pointer only moves between the test's own threads.
struct Handle(*mut elect_election);
// SAFETY: the C ABI allows every call on an election from any thread (see `elect_election`).
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

fn open(uri: &CStr, name: &str) -> *mut elect_election {
    let name = CString::new(name).unwrap();
    let mut e = ptr::null_mut();
    // SAFETY: valid NUL-terminated strings and a writable out pointer; no callback.
    let rc = unsafe { elect_open(uri.as_ptr(), name.as_ptr(), None, ptr::null_mut(), &mut e) };
    assert_eq!(rc, elect_status::ELECT_OK, "open {name:?}");
    e
}

/// What a child does: the parent's election must not lead here, and one of its own on the
/// same store must. Returns the exit code (0 when all is well).
fn child(uri: &CStr, parent: &Handle, n: usize) -> i32 {
    // SAFETY: the parent's election is still a live handle in this process's memory.
    if unsafe { elect_is_leader(parent.0) } {
        return 2;
    }
    let own = open(uri, &format!("fork-child-{n}"));
    // SAFETY: `own` is a live election opened just above.
    let led = unsafe {
        elect_start(own) == elect_status::ELECT_OK
            && elect_wait_leader(own, WAIT_MS) == elect_status::ELECT_OK
            && elect_is_leader(own)
    };
    // SAFETY: as above; closed once.
    unsafe { elect_close(own) };
    if led {
        0
    } else {
        3
    }
}

#[test]
fn children_forked_while_the_library_is_busy_can_open_and_lead() {
    let dir = std::env::temp_dir().join(format!("elect-ffi-fork-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let uri = CString::new(format!("file://{}", dir.display())).unwrap();
    let parent = Arc::new(Handle(open(&uri, "fork-parent")));
    // SAFETY: a live election.
    unsafe {
        assert_eq!(elect_start(parent.0), elect_status::ELECT_OK);
        assert_eq!(elect_wait_leader(parent.0, WAIT_MS), elect_status::ELECT_OK);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let mut busy = Vec::new();
    {
        // Store reads through the shared runtime.
        let (stop, parent) = (stop.clone(), parent.clone());
        busy.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let mut info = elect_leader_info {
                    id: ptr::null_mut(),
                    value: ptr::null_mut(),
                    term: 0,
                };
                // SAFETY: a live election and a writable out struct, freed right after.
                unsafe {
                    elect_leader(parent.0, &mut info);
                    elect_leader_info_free(&mut info);
                }
            }
        }));
    }
    {
        // Opens and closes on the same store: the connection registry and the runtime.
        let (stop, uri) = (stop.clone(), uri.clone());
        busy.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let e = open(&uri, "fork-churn");
                // SAFETY: opened just above, closed once.
                unsafe { elect_close(e) };
            }
        }));
    }

    let mut failures = Vec::new();
    for n in 0..FORKS {
        // SAFETY: fork(2); the child only calls the library (whose fork handler ran) and
        // leaves with _exit, never returning into the test harness.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: alarm and _exit are async-signal-safe and touch no memory.
            unsafe {
                libc::alarm(CHILD_ALARM_S);
                libc::_exit(child(&uri, &parent, n));
            }
        }
        let mut status = 0;
        // SAFETY: waiting for our own child with a valid out pointer.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
            failures.push(format!("fork {n}: {}", verdict(status)));
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in busy {
        t.join().unwrap();
    }
    // SAFETY: a live election, closed once.
    unsafe {
        assert!(elect_is_leader(parent.0), "the parent kept its leadership");
        elect_close(parent.0);
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "children that could not open and lead: {failures:?}"
    );
}

/// What a child's wait status says, in words.
fn verdict(status: i32) -> String {
    match (libc::WIFEXITED(status), libc::WEXITSTATUS(status)) {
        (true, 2) => "the parent's election claimed to lead in the child".into(),
        (true, 3) => "its own election did not lead".into(),
        (true, code) => format!("exit {code}"),
        _ if libc::WTERMSIG(status) == libc::SIGALRM => "stuck (killed by its alarm)".into(),
        _ => format!("killed by signal {}", libc::WTERMSIG(status)),
    }
}
