//! A password (or etcd's token) about to travel without TLS to a host that is not loopback is
//! one `tracing` warning per `open`, naming the store and the election, never the secret; none
//! for loopback hosts, TLS connections or connections without credentials.
//!
//! The hosts are TEST-NET-1 addresses (RFC 5737, never routed), so `open` fails after the
//! warning: the warning comes before any connection, which is the point of it.

mod log_capture;

use elect_core::Election;

const SECRET: &str = "Qz7xWarnPw";

/// The warnings `open` of `uri` logged.
fn warnings_of(uri: &str, election: &str) -> Vec<String> {
    let from = log_capture::lines().len();
    let _ = Election::open(&format!("{uri}connect_timeout=300ms"), election, None);
    log_capture::lines()[from..]
        .iter()
        .filter(|l| l.starts_with("WARN elect_core::plain_text"))
        .cloned()
        .collect()
}

#[test]
fn credentials_in_plain_text_to_another_host_are_one_warning() {
    log_capture::install();
    let exposed = [
        ("etcd", format!("etcd://app:{SECRET}@192.0.2.1:2379/jobs?")),
        // etcd's token goes with every request even without a password.
        ("etcd", "etcd://app@192.0.2.1:2379/jobs?".to_string()),
        (
            "zk",
            format!("zk://app:{SECRET}@192.0.2.1:2181,127.0.0.1:1/jobs?"),
        ),
        ("redis", format!("redis://:{SECRET}@192.0.2.1:6379/0?")),
        (
            "postgres",
            format!("postgres://app:{SECRET}@192.0.2.1/elect?sslmode=disable&"),
        ),
    ];
    for (i, (store, uri)) in exposed.iter().enumerate() {
        let election = format!("job{i}");
        let warned = warnings_of(uri, &election);
        assert_eq!(warned.len(), 1, "{store}: {warned:?}");
        let w = &warned[0];
        assert!(w.contains(&format!("store=\"{store}\"")), "{w}");
        assert!(w.contains(&format!("election=\"{election}\"")), "{w}");
        assert!(w.contains("without TLS"), "{w}");
        assert!(!w.contains(SECRET), "the password in: {w}");
    }

    let quiet = [
        // Loopback only.
        format!("redis://:{SECRET}@127.0.0.1:1/0?"),
        format!("etcd://app:{SECRET}@localhost:1,[::1]:1/jobs?"),
        // TLS.
        format!("rediss://:{SECRET}@192.0.2.1:6379/0?"),
        format!("etcd://app:{SECRET}@192.0.2.1:2379/jobs?ca=/nonexistent&"),
        format!("postgres://app:{SECRET}@192.0.2.1/elect?sslmode=require&"),
        format!("zk://app:{SECRET}@192.0.2.1:2281/jobs?ca=/nonexistent&"),
        // No credentials.
        "redis://192.0.2.1:6379/0?".to_string(),
        "zk://192.0.2.1:2181/jobs?".to_string(),
    ];
    for uri in quiet {
        let warned = warnings_of(&uri, "quiet");
        assert!(warned.is_empty(), "{uri}: {warned:?}");
    }
}
