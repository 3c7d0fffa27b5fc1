//! `elect observe` prints one JSON line per leader change.

mod common;

use common::{Proc, TempDir, JOB};
use serde_json::Value;

fn next_json(p: &Proc) -> Value {
    let line = p.line();
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
    assert!(
        v["time"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{line}"
    );
    v
}

#[test]
fn prints_leader_changes_as_json_lines() {
    let dir = TempDir::new();
    let uri = dir.uri("");
    let mut observer = Proc::spawn(&["observe", "--uri", &uri, "--name", "job"]);
    assert_eq!(next_json(&observer)["leader"], Value::Null);

    let runner = Proc::spawn(&[
        "run", "--uri", &uri, "--name", "job", "--id", "a", "--", "sh", "-c", JOB,
    ]);
    let v = next_json(&observer);
    assert_eq!(v["leader"]["id"], "a");
    assert_eq!(v["leader"]["term"], 1);
    assert_eq!(v["leader"]["value"], "");

    runner.signal(libc::SIGKILL);
    assert_eq!(next_json(&observer)["leader"], Value::Null);

    observer.signal(libc::SIGINT);
    assert_eq!(observer.wait().code(), Some(0));
}
