//! `elect run` against the file backend, with real processes: CMD runs only on the leader with
//! the variables set, is stopped with SIGTERM (then SIGKILL) when leadership is lost or elect is
//! asked to stop, and its own exit makes elect resign and exit with its code.

mod common;

use std::time::{Duration, Instant};

use common::{Proc, TempDir, JOB};

fn run(uri: &str, id: &str, extra: &[&str], script: &str) -> Proc {
    let mut args = vec!["run", "--uri", uri, "--name", "job", "--id", id];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "sh", "-c", script]);
    Proc::spawn(&args)
}

#[test]
fn cmd_runs_only_on_the_leader_with_its_variables() {
    let dir = TempDir::new();
    let uri = dir.uri("");
    let a = run(&uri, "a", &[], JOB);
    assert_eq!(a.line(), "started a job 1 1");
    let b = run(&uri, "b", &[], JOB);
    // Let b campaign while a leads; its CMD must not start.
    assert_eq!(
        b.lines_within(Duration::from_millis(500)),
        Vec::<String>::new()
    );
    a.signal(libc::SIGKILL);
    // a's CMD dies with it (it would otherwise keep a's stdout open).
    assert!(a.stdout_closes(), "the CMD of a killed elect kept running");
    assert_eq!(b.line(), "started b job 2 2");
}

#[test]
fn losing_the_lock_stops_cmd_with_sigterm_and_campaigns_again() {
    let dir = TempDir::new();
    let a = run(&dir.uri("?ttl=1s"), "a", &[], JOB);
    assert_eq!(a.line(), "started a job 1 1");
    // Replacing the lock file takes the leadership away: the next renewal (every ttl/3) finds
    // the file is not the one it locked.
    std::fs::remove_file(dir.0.join("job.lock")).unwrap();
    assert_eq!(a.line(), "stopped");
    a.await_stderr("session_lost");
    // It campaigns again, wins the new lock file, and runs CMD with the next token.
    assert_eq!(a.line(), "started a job 2 2");
}

#[test]
fn cmd_exit_resigns_and_is_the_exit_code() {
    let dir = TempDir::new();
    let uri = dir.uri("");
    let mut a = run(
        &uri,
        "a",
        &[],
        r#"echo "started $ELECT_TERM"; read line; exit 3"#,
    );
    assert_eq!(a.line(), "started 1");
    let b = run(&uri, "b", &[], JOB);
    a.send("go");
    assert_eq!(a.wait().code(), Some(3));
    a.await_stderr("resigning");
    assert_eq!(b.line(), "started b job 2 2");
}

#[test]
fn sigterm_to_elect_stops_cmd_and_exits_0() {
    let dir = TempDir::new();
    let mut a = run(&dir.uri(""), "a", &[], JOB);
    assert_eq!(a.line(), "started a job 1 1");
    a.signal(libc::SIGTERM);
    assert_eq!(a.line(), "stopped");
    assert_eq!(a.wait().code(), Some(0));
    // It resigned: the next candidate leads at once.
    let b = run(&dir.uri(""), "b", &[], JOB);
    assert_eq!(b.line(), "started b job 2 2");
}

#[test]
fn cmd_ignoring_sigterm_is_killed_after_grace() {
    let dir = TempDir::new();
    let stubborn = r#"trap 'echo ignoring' TERM; echo started; while :; do sleep 0.02; done"#;
    let mut a = run(&dir.uri(""), "a", &["--grace", "300ms"], stubborn);
    assert_eq!(a.line(), "started");
    let asked = Instant::now();
    a.signal(libc::SIGINT);
    assert_eq!(a.line(), "ignoring");
    // Without the SIGKILL it would never exit (`wait` gives up after WAIT); a loaded machine
    // may delay the exit, so only the lower bound is checked.
    assert_eq!(a.wait().code(), Some(0));
    let took = asked.elapsed();
    assert!(
        took >= Duration::from_millis(300),
        "stopped after {took:?}, before --grace; stderr:\n{}",
        a.stderr()
    );
    a.await_stderr("SIGKILL");
}

#[test]
fn cmd_not_found_exits_127() {
    let dir = TempDir::new();
    let uri = dir.uri("");
    let mut a = Proc::spawn(&["run", "--uri", &uri, "--name", "job", "--", "/no/such/cmd"]);
    assert_eq!(a.wait().code(), Some(127));
    a.await_stderr("/no/such/cmd");
}

#[test]
fn a_paused_elect_kills_cmd_once_its_lease_deadline_has_passed() {
    let dir = TempDir::new();
    let a = run(&dir.uri("?ttl=600ms"), "a", &[], JOB);
    assert_eq!(a.line(), "started a job 1 1");
    // Pausing elect (not CMD, which has its own process group) past the lease deadline: when it
    // resumes, the deadline has passed, so CMD must go at once (no grace left) and elect must
    // campaign again for a new term.
    a.signal(libc::SIGSTOP);
    std::thread::sleep(Duration::from_millis(1200));
    a.signal(libc::SIGCONT);
    let mut lines = Vec::new();
    while lines.last().map(String::as_str) != Some("started a job 2 2") {
        lines.push(a.line());
    }
    assert!(
        lines.len() <= 2,
        "CMD of term 1 went on after resuming: {lines:?}"
    );
    a.await_stderr("SIGKILL");
}
