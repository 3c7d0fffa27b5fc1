//! `elect`'s own log on stderr: `--log-level` and `ELECT_LOG` choose the level, a bad value is
//! a usage error naming it, and leadership changes arrive with their election, id and term.

mod common;

use common::{elect, Proc, TempDir, JOB};

#[test]
fn leadership_changes_are_logged_on_stderr_at_the_chosen_level() {
    let dir = TempDir::new();
    let uri = dir.uri("");
    let mut runner = Proc::spawn(&[
        "--log-level",
        "info",
        "run",
        "--uri",
        &uri,
        "--name",
        "job",
        "--id",
        "a",
        "--",
        "sh",
        "-c",
        JOB,
    ]);
    runner.await_stderr("INFO elect_core::event_log: elected");
    let stderr = runner.stderr();
    let line = stderr
        .lines()
        .find(|l| l.contains(": elected"))
        .expect("the elected line");
    assert!(
        line.contains("election=job") && line.contains("id=a") && line.contains("term=1"),
        "{line}"
    );
    assert!(
        line.contains(&format!("store=file://{}", dir.0.display())),
        "{line}"
    );
    runner.signal(libc::SIGTERM);
    runner.await_stderr("INFO elect_core::event_log: revoked: leadership ended");
    assert_eq!(runner.wait().code(), Some(0));
}

#[test]
fn the_environment_variable_sets_the_level_and_the_flag_overrides_it() {
    let dir = TempDir::new();
    let uri = dir.uri("");
    // warn: a healthy election logs nothing; info (the flag) shows the leader seen.
    let quiet = elect()
        .env("ELECT_LOG", "warn")
        .args(["observe", "--metrics", "--uri", &uri, "--name", "job"])
        .output()
        .unwrap();
    assert!(quiet.status.success());
    assert_eq!(String::from_utf8_lossy(&quiet.stderr), "");
    let loud = elect()
        .env("ELECT_LOG", "warn")
        .args([
            "--log-level",
            "INFO",
            "observe",
            "--metrics",
            "--uri",
            &uri,
            "--name",
            "job",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&loud.stderr);
    assert!(
        stderr.contains("leader changed: nobody leads election=job"),
        "{stderr}"
    );
}

#[test]
fn a_bad_level_is_a_usage_error_naming_it() {
    let out = elect()
        .env("ELECT_LOG", "chatty")
        .args(["observe", "--uri", "file:///tmp/x", "--name", "job"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`chatty` is not a log level"), "{stderr}");
}
