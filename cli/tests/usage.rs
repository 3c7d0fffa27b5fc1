//! Bad input exits 64 with a message that names the bad part.

mod common;

use common::{elect, TempDir};

fn fails_with_64(args: &[&str], names: &str) {
    let out = elect().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{args:?}: {stderr}");
    assert!(
        stderr.contains(names),
        "{args:?}: expected `{names}` in: {stderr}"
    );
}

#[test]
fn bad_input_exits_64_naming_the_bad_part() {
    let dir = TempDir::new();
    let uri = dir.uri("");
    let bad_ttl = dir.uri("?ttl=banana");
    let bad_option = dir.uri("?colour=blue");
    fails_with_64(
        &["run", "--uri", &bad_ttl, "--name", "j", "--", "true"],
        "option `ttl`",
    );
    fails_with_64(
        &["run", "--uri", &bad_option, "--name", "j", "--", "true"],
        "option `colour`",
    );
    fails_with_64(
        &["run", "--uri", "nosuch://x", "--name", "j", "--", "true"],
        "--uri: scheme `nosuch`",
    );
    fails_with_64(
        &["run", "--uri", &uri, "--name", "", "--", "true"],
        "--name",
    );
    fails_with_64(
        &[
            "run", "--uri", &uri, "--name", "j", "--ttl", "5", "--", "true",
        ],
        "--ttl",
    );
    fails_with_64(
        &[
            "run", "--uri", &uri, "--name", "j", "--grace", "1h", "--", "true",
        ],
        "--grace",
    );
    fails_with_64(&["run", "--uri", &uri, "--name", "j"], "<CMD>");
    fails_with_64(&["run", "--name", "j", "--", "true"], "--uri");
    fails_with_64(
        &["observe", "--uri", "file://relative", "--name", "j"],
        "--uri",
    );
    fails_with_64(&["demo", "--uri", &bad_ttl], "option `ttl`");
    fails_with_64(&["frobnicate"], "frobnicate");
    assert_eq!(
        elect().arg("--help").output().unwrap().status.code(),
        Some(0)
    );
}

#[test]
fn run_help_documents_exit_codes() {
    let out = elect().args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for code in ["64", "69", "77", "127", "ELECT_FENCING_TOKEN"] {
        assert!(help.contains(code), "`{code}` missing from:\n{help}");
    }
}
