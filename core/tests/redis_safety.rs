//! The Redis store's safety guards against a real redis-server: a crash and restart from an RDB
//! snapshot (persistence as Debian packages it) must not hand the lock to a second candidate
//! while the old leader may still believe it leads, whatever the ttls of the candidates; and a
//! lock key that elect did not set (no expiry) is reported, not hammered.

use elect_testkit::wait::{expect_within, open_recording};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use elect_core::{Election, ErrorCode, Event};
use elect_testkit::fleet::AgentEvent;
use elect_testkit::redis as rediskit;
use elect_testkit::{Server, Store};

const WAIT: Duration = Duration::from_secs(20);
/// Debian's redis.conf leaves `save` at Redis's default: these snapshot points.
const DEBIAN_SAVE: &[&str] = &["--save", "3600 1 300 100 60 10000"];

fn open(uri: &str, id: &str, opts: &str) -> (Election, Receiver<Event>) {
    open_recording(&format!("{uri}?id={id}&{opts}"), "job")
}

elect_testkit::agent_child!();

/// Kills the server with SIGKILL (no shutdown save) and starts it again on the same port and
/// data directory, so that it loads the last snapshot. Returns when it answers again.
fn crash_and_reload(server: &Server) {
    let pid = server.pid().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .unwrap()
        .success());
    server.restart();
    assert_eq!(
        rediskit::cli(&server, &["GET", "marker"]).trim(),
        "from-the-snapshot",
        "the restarted server loaded the snapshot"
    );
}

#[test]
fn restart_from_an_rdb_snapshot_grants_nothing_until_the_old_lease_ran_out() {
    let server = Server::launch(Store::Redis, "rdb", "start", DEBIAN_SAVE);
    let opts = "ttl=3s&retry=100ms";
    let (a, ra) = open(&rediskit::plain_uri(&server), "a", opts);
    // The snapshot is taken after A connected but before it leads: it holds whatever elect
    // wrote at connect, not the lock.
    rediskit::cli(&server, &["SET", "marker", "from-the-snapshot"]);
    assert_eq!(rediskit::cli(&server, &["SAVE"]).trim(), "OK");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let (b, rb) = open(&rediskit::plain_uri(&server), "b", opts);
    b.start().unwrap();
    expect_within(
        &rb,
        WAIT,
        |e| matches!(e, Event::LeaderChanged { leader: Some(l) } if l.id == "a"),
    );

    // Follow A's deadline (it moves with every renewal) until A steps down.
    let deadline = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut deadline = a.lease_deadline().expect("leading");
            while let Some(d) = a.lease_deadline() {
                deadline = d;
                std::thread::sleep(Duration::from_micros(500));
            }
            deadline
        });
        crash_and_reload(&server);
        expect_within(&ra, WAIT, |e| matches!(e, Event::Revoked { .. }));
        watcher.join().unwrap()
    });

    // Both campaign again; whoever is elected first must not be early.
    let (first, elected) = wait_first(&[&a, &b]);
    assert!(
        elected >= deadline,
        "`{}` was elected {:?} before the old leader's deadline",
        first.id(),
        deadline - elected
    );
}

/// The first of `es` to lead, waiting up to `WAIT`; with when it was seen leading.
fn wait_first<'a>(es: &[&'a Election]) -> (&'a Election, Instant) {
    let end = Instant::now() + WAIT;
    loop {
        if let Some(l) = es.iter().find(|e| e.is_leader()) {
            return (l, Instant::now());
        }
        assert!(Instant::now() < end, "no leader within {WAIT:?}");
        std::thread::sleep(Duration::from_micros(200));
    }
}

#[test]
fn a_candidate_with_a_shorter_ttl_waits_for_the_old_leaders_longer_lease() {
    let server = Server::launch(Store::Redis, "rdb-ttl", "start", DEBIAN_SAVE);
    rediskit::cli(&server, &["SET", "marker", "from-the-snapshot"]);
    assert_eq!(rediskit::cli(&server, &["SAVE"]).trim(), "OK");
    let long = Duration::from_secs(4);
    let uri = rediskit::plain_uri(&server);
    let mut fleet = elect_testkit::agent::fleet();
    let old = fleet
        .join(&format!("{uri}?ttl=4s&retry=100ms"), "job", "child")
        .unwrap();
    fleet
        .wait_for(WAIT, |n| {
            n.member == old && matches!(n.event, AgentEvent::Elected(_))
        })
        .unwrap();
    let (b, rb) = open(&uri, "b", "ttl=1s&retry=100ms");
    b.start().unwrap();
    expect_within(
        &rb,
        WAIT,
        |e| matches!(e, Event::LeaderChanged { leader: Some(l) } if l.id == "child"),
    );

    // The old leader is cut off from now on (it cannot renew, nor learn that it lost): it
    // believes it leads until at most `stopped + 4 s - margin`, whatever happens to the server.
    fleet.signal(old, "STOP").unwrap();
    let stopped = Instant::now();
    crash_and_reload(&server);
    assert!(b.wait_leader(Some(WAIT)).unwrap());
    let elected = Instant::now();
    let margin = long / 10;
    assert!(
        elected >= stopped + long - margin,
        "the 1 s candidate was elected {:?} after the 4 s leader stopped",
        elected - stopped
    );
    fleet.signal(old, "CONT").unwrap();
    fleet
        .wait_for(WAIT, |n| {
            n.member == old && matches!(n.event, AgentEvent::Revoked(..))
        })
        .unwrap();
}

#[test]
fn a_lock_without_expiry_is_reported_and_retried_at_the_retry_pace() {
    let server = Server::launch(Store::Redis, "foreign", "start", &[]);
    rediskit::cli(&server, &["SET", "elect:{job}:lock", "not-elect"]);
    let (a, ra) = open(&rediskit::plain_uri(&server), "a", "ttl=2s&retry=200ms");
    a.start().unwrap();
    let foreign =
        |e: &Event| matches!(e, Event::Error { message } if message.contains("no expiry"));
    expect_within(&ra, WAIT, foreign);
    let before = rediskit::script_calls(&server);
    for _ in 0..3 {
        expect_within(&ra, WAIT, foreign);
    }
    let during = rediskit::script_calls(&server) - before;
    eprintln!("scripts during three retries: {during}");
    // Three attempts at the retry pace, plus the keep-alive's heartbeats (every ttl/6) over
    // those 600 ms: 4 to 7 scripts. Retrying every millisecond would be hundreds.
    assert!(
        during <= 20,
        "{during} scripts while the foreign lock stayed"
    );
    assert!(!a.is_leader());

    rediskit::cli(&server, &["DEL", "elect:{job}:lock"]);
    assert!(
        a.wait_leader(Some(WAIT)).unwrap(),
        "elected once the key is gone"
    );
}

#[test]
fn a_user_who_may_not_run_info_fails_open_with_a_permission_error_naming_it() {
    let server = Server::launch(Store::Redis, "noinfo", "start", &[]);
    rediskit::cli(
        &server,
        &[
            "ACL",
            "SETUSER",
            "noinfo",
            "on",
            ">pw",
            "~elect:*",
            "&elect:events:*",
            "+@all",
            "-info",
        ],
    );
    let uri = format!(
        "redis://noinfo:pw@{}",
        rediskit::plain_uri(&server).trim_start_matches("redis://")
    );
    let e = Election::open(&format!("{uri}?id=a"), "job", None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Permission, "{e}");
    assert!(e.message().contains("INFO server"), "{e}");
    assert!(
        !e.message().contains("pw@"),
        "no password in the message: {e}"
    );
}
