//! `elect run` gives up the lock only once CMD's whole process group is gone: what CMD started
//! in the background must not run on beside the next leader's copy. Each CMD here leaves a
//! grandchild (its pid in a file); the next term's CMD, which starts only after the lock was
//! given up, reports whether that grandchild still exists.

mod common;

use std::path::PathBuf;

use common::{Proc, TempDir};

/// The grandchild that a CMD leaves behind, killed when the test ends whatever its outcome.
struct Stray(PathBuf);

impl Stray {
    fn pid(&self) -> Option<i32> {
        std::fs::read_to_string(&self.0).ok()?.trim().parse().ok()
    }
    fn alive(&self) -> bool {
        let pid = self.pid().expect("CMD wrote the grandchild's pid");
        // SAFETY: kill(2) with signal 0 only checks that the process exists.
        unsafe { libc::kill(pid, 0) == 0 }
    }
}

impl Drop for Stray {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            // SAFETY: kill(2) on a process this test started (through elect); no memory involved.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Prints whether the grandchild of the previous term is still there, then starts one of its
/// own (which ignores SIGTERM, as a careless daemon would), records its pid and prints
/// `started <term>`; `tail` says what CMD does next.
fn script(pidfile: &std::path::Path, tail: &str) -> String {
    let f = pidfile.display();
    format!(
        r#"if [ -f {f} ]; then if kill -0 "$(cat {f})" 2>/dev/null; then echo "previous still running"; else echo "previous gone"; fi; fi
sh -c 'trap "" TERM; exec sleep 600' & echo $! > {f}
echo "started $ELECT_TERM"; {tail}"#
    )
}

fn run(uri: &str, id: &str, script: &str) -> Proc {
    Proc::spawn(&[
        "run", "--uri", uri, "--name", "job", "--id", id, "--grace", "200ms", "--", "sh", "-c",
        script,
    ])
}

#[test]
fn cmd_exiting_by_itself_leaves_nothing_running_for_the_next_leader() {
    let dir = TempDir::new();
    let stray = Stray(dir.0.join("stray.pid"));
    let uri = dir.uri("");
    let mut a = run(&uri, "a", &script(&stray.0, "read line; exit 3"));
    assert_eq!(a.line(), "started 1");
    let b = run(&uri, "b", &script(&stray.0, "exec sleep 600"));
    a.send("go");
    assert_eq!(b.line(), "previous gone");
    assert_eq!(b.line(), "started 2");
    assert_eq!(a.wait().code(), Some(3), "CMD's own exit code");
    a.await_stderr("SIGKILL");
}

#[test]
fn a_signal_to_elect_stops_the_whole_group_before_it_exits() {
    let dir = TempDir::new();
    let stray = Stray(dir.0.join("stray.pid"));
    let mut a = run(&dir.uri(""), "a", &script(&stray.0, "wait"));
    assert_eq!(a.line(), "started 1");
    a.signal(libc::SIGTERM);
    assert_eq!(a.wait().code(), Some(0));
    assert!(
        !stray.alive(),
        "elect exited (and resigned) while its CMD's grandchild ran on; stderr:\n{}",
        a.stderr()
    );
}

#[test]
fn losing_the_lock_stops_the_whole_group_before_the_next_term() {
    let dir = TempDir::new();
    let stray = Stray(dir.0.join("stray.pid"));
    let a = run(&dir.uri("?ttl=1s"), "a", &script(&stray.0, "wait"));
    assert_eq!(a.line(), "started 1");
    std::fs::remove_file(dir.0.join("job.lock")).unwrap();
    a.await_stderr("session_lost");
    assert_eq!(a.line(), "previous gone");
    assert_eq!(a.line(), "started 2");
}
