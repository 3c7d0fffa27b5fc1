//! `elect demo` runs to the end, prints growing fencing tokens and leaves nothing behind.

mod common;

use common::{elect, unique, TempDir};

#[test]
fn demo_exits_0_with_growing_tokens_and_no_leftovers() {
    let tmp = TempDir::new();
    // A tag in the environment, inherited by every candidate process, finds leftovers.
    let tag = format!("ELECT_DEMO_TEST_TAG={}", unique());
    let (key, value) = tag.split_once('=').unwrap();
    let out = elect()
        .arg("demo")
        .env("TMPDIR", &tmp.0)
        .env(key, value)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("fencing tokens only grow (1 < 2 < 3)"),
        "{stdout}"
    );
    assert!(stdout.contains("took over after"), "{stdout}");
    assert_eq!(
        std::fs::read_dir(&tmp.0).unwrap().count(),
        0,
        "temporary files left"
    );
    let leftovers: Vec<_> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|p| {
            std::fs::read(p.path().join("environ"))
                .map(|env| env.split(|b| *b == 0).any(|kv| kv == tag.as_bytes()))
                .unwrap_or(false)
        })
        .map(|p| p.file_name())
        .collect();
    assert!(leftovers.is_empty(), "processes left: {leftovers:?}");
}
