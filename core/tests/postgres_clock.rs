//! A PostgreSQL server whose wall clock steps forward, for real: the cluster runs under
//! libfaketime (`LD_PRELOAD`), whose offset file the test rewrites, so `now()` on the server
//! jumps while this process's clocks do not. The leader must notice at its next renewal and
//! step down, and must not step down while the clock keeps pace.

use elect_testkit::wait::{expect_within, open_recording};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use elect_core::{Event, RevokeReason};
use elect_testkit::{Server, Store};

const WAIT: Duration = Duration::from_secs(20);

/// libfaketime's library (Debian package `libfaketime`, installed by scripts/setup).
fn libfaketime() -> String {
    std::fs::read_dir("/usr/lib")
        .unwrap()
        .filter_map(|d| Some(d.ok()?.path().join("faketime/libfaketime.so.1")))
        .find(|p| p.exists())
        .expect("libfaketime is not installed: run scripts/setup")
        .display()
        .to_string()
}

/// A directory the server's user can read, removed when dropped.
struct OffsetFile(PathBuf);

impl OffsetFile {
    fn new() -> OffsetFile {
        let dir = std::env::temp_dir().join(format!("elect-faketime-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = OffsetFile(dir.join("offset"));
        file.set("+0");
        file
    }

    /// libfaketime's offset, e.g. `+2` (seconds); read by the server at every clock call.
    fn set(&self, offset: &str) {
        let tmp = self.0.with_extension("tmp");
        std::fs::write(&tmp, format!("{offset}\n")).unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::rename(&tmp, &self.0).unwrap();
    }
}

impl Drop for OffsetFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.0.parent().unwrap());
    }
}

#[test]
fn a_leader_steps_down_when_the_servers_clock_jumps_ahead_by_more_than_the_margin() {
    let offset = OffsetFile::new();
    let lib = libfaketime();
    let file = offset.0.display().to_string();
    let pg = Server::launch_with_env(
        Store::Postgres,
        "pg-clock",
        "start",
        &[],
        &[
            ("LD_PRELOAD", &lib),
            ("FAKETIME_TIMESTAMP_FILE", &file),
            ("FAKETIME_NO_CACHE", "1"),
            // Only the wall clock moves, as with an NTP step.
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ],
    );
    // ttl 3 s: renewals every second, margin 300 ms.
    let (a, ra) = open_recording(&format!("{}?id=a&ttl=3s", pg.uri()), "job");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());

    // Three renewals while the server's clock keeps pace: no step down.
    for _ in 0..3 {
        let d = a
            .lease_deadline()
            .expect("leading while the clock keeps pace");
        let end = Instant::now() + WAIT;
        while a.lease_deadline().is_some_and(|n| n <= d) {
            assert!(Instant::now() < end, "no renewal");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    assert!(
        a.is_leader(),
        "stepped down while the server's clock kept pace"
    );

    offset.set("+2");
    let jumped = Instant::now();
    let noticed = expect_within(
        &ra,
        WAIT,
        |e| matches!(e, Event::Error { message } if message.contains("clock ran")),
    );
    let revoked = expect_within(&ra, WAIT, |e| matches!(e, Event::Revoked { .. }));
    let took = jumped.elapsed();
    assert!(
        matches!(
            revoked,
            Event::Revoked {
                reason: RevokeReason::SessionLost,
                ..
            }
        ),
        "{revoked:?}"
    );
    assert!(!a.is_leader());
    eprintln!("step noticed {took:?} after it: {noticed:?}");
    // At the first renewal after the step: one renewal period (1 s), plus scheduling slack.
    assert!(
        took < Duration::from_millis(1000 + 500),
        "noticed after {took:?}"
    );
}
