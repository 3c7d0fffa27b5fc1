//! What is particular to the Redis store, against a real redis-server (started by
//! `scripts/servers/redis` on a random loopback port): handover through pub/sub, fencing tokens
//! across a restart without persistence, connection sharing, ACLs and TLS. What every store
//! must do is in `contract.rs`.
//!
//! Tests run one at a time (`SERIAL`): the pub/sub counters they check are per process.

use elect_testkit::wait::{expect_within, open_recording, timed_leader};
use std::sync::mpsc::Receiver;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use elect_core::backend::redis::{stats, WakeStats};
use elect_core::{Election, ErrorCode, Event};
use elect_testkit::redis as rediskit;
use elect_testkit::{Server, Store};

static SERIAL: Mutex<()> = Mutex::new(());
const WAIT: Duration = Duration::from_secs(15);
/// Short leases keep the tests quick; `retry` is long so that the wake counters can tell a
/// handover woken by a message from one woken by the timer.
const OPTS: &str = "ttl=2s&retry=5s";
/// The command rules docs/stores/redis.md gives for a least-privilege ACL user.
const LEAST_PRIVILEGE: &str = "+evalsha +eval +script|load +psubscribe +info +ping +time \
    +get +set +del +pexpire +pttl +hset +hget +hmget +hdel +zadd +zrem +zrange +zrangebyscore \
    +zremrangebyscore +publish";

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn open(uri: &str, name: &str, id: &str, opts: &str) -> (Election, Receiver<Event>) {
    open_recording(&format!("{uri}?id={id}&{opts}"), name)
}

/// Polls the process-wide wake counters until `done` holds, failing after `WAIT` with `what`.
fn wait_stats(what: &str, done: impl Fn(&WakeStats) -> bool) {
    let end = Instant::now() + WAIT;
    while !done(&stats()) {
        assert!(Instant::now() < end, "{what}: {:?}", stats());
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until `n` candidates of this process have found the lock taken and wait in line, so
/// that the next grant is a handover (by message or timer), not a first try on a free lock.
fn settle(n: u64) {
    wait_stats(&format!("fewer than {n} candidates waiting"), |s| {
        s.waiting >= n
    });
}

/// Waits until no candidate of this process waits in line: candidates of earlier tests end
/// in the background after their elections are dropped, and `settle` counts process-wide.
fn quiet() {
    wait_stats("candidates still waiting", |s| s.waiting == 0);
}

/// The first of `es` that leads (within `WAIT`).
fn next_leader<'a>(es: &[&'a Election]) -> &'a Election {
    timed_leader(es, WAIT).0
}

/// The first of `es` that leads once `leave` (the leader resigning or closing) has run,
/// checking that one waiter was granted the lock after the release message and none after its
/// timer. How it came to lead is what the tests check, not how fast: speed is measured in
/// bench/ (redis_bench).
fn handed_over<'a>(es: &[&'a Election], leave: impl FnOnce()) -> &'a Election {
    let before = stats();
    leave();
    let next = next_leader(es);
    let after = stats();
    assert_eq!(
        after.after_message,
        before.after_message + 1,
        "{before:?} -> {after:?}"
    );
    assert_eq!(
        after.after_timer, before.after_timer,
        "{before:?} -> {after:?}"
    );
    next
}

fn expect(rx: &Receiver<Event>, pred: impl Fn(&Event) -> bool) -> Event {
    expect_within(rx, WAIT, pred)
}

#[test]
fn three_candidates_hand_over_through_pubsub() {
    let _s = serial();
    let server = Server::launch(Store::Redis, "handover", "start", &[]);
    let uri = &rediskit::plain_uri(&server);
    let (a, _ra) = open(uri, "job", "a", OPTS);
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    quiet();
    let (b, _rb) = open(uri, "job", "b", OPTS);
    let (c, _rc) = open(uri, "job", "c", OPTS);
    b.start().unwrap();
    c.start().unwrap();
    let mut tokens = vec![a.fencing_token().unwrap()];
    // Candidates join in the background after start(); once both wait in line they have joined.
    settle(2);
    let members: Vec<String> = a.members().unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(members, ["a", "b", "c"]);
    let leader = b.leader().unwrap().unwrap();
    assert_eq!((leader.id.as_str(), leader.term), ("a", tokens[0]));

    // resign: a successor woken by the release message (retry is 5 s).
    let next = handed_over(&[&b, &c], || a.resign().unwrap());
    tokens.push(next.fencing_token().unwrap());

    // close: the same.
    settle(2);
    let others: Vec<&Election> = [&a, &b, &c]
        .into_iter()
        .filter(|e| e.id() != next.id())
        .collect();
    let third = handed_over(&others, || next.close());
    tokens.push(third.fencing_token().unwrap());
    assert_eq!(
        third.members().unwrap().len(),
        2,
        "the closed candidate left"
    );

    assert!(
        tokens.windows(2).all(|w| w[0] < w[1]),
        "tokens increase: {tokens:?}"
    );
}

#[test]
fn observer_sees_leader_id_value_and_term() {
    let _s = serial();
    let server = Server::launch(Store::Redis, "observe", "start", &[]);
    let (obs, ro) = open(&rediskit::plain_uri(&server), "job", "watcher", OPTS);
    obs.observe().unwrap();
    expect(&ro, |e| matches!(e, Event::LeaderChanged { leader: None }));
    let (a, _ra) = open(
        &rediskit::plain_uri(&server),
        "job",
        "a",
        &format!("{OPTS}&value=10.0.0.1:8080"),
    );
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let token = a.fencing_token().unwrap();
    expect(&ro, |e| {
        matches!(e, Event::LeaderChanged { leader: Some(l) }
            if l.id == "a" && l.value == "10.0.0.1:8080" && l.term == token)
    });
    let t0 = Instant::now();
    a.close();
    expect(&ro, |e| matches!(e, Event::LeaderChanged { leader: None }));
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "observers hear of a release by message"
    );
    assert_eq!(obs.leader().unwrap(), None);
}

#[test]
fn restart_without_persistence_keeps_tokens_growing() {
    let _s = serial();
    let server = Server::launch(Store::Redis, "restart", "start", &[]);
    let (a, ra) = open(&rediskit::plain_uri(&server), "job", "a", OPTS);
    let (b, rb) = open(&rediskit::plain_uri(&server), "job", "b", OPTS);
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    b.start().unwrap();
    let mut tokens = vec![a.fencing_token().unwrap()];
    // A few grants before the restart, so that the counter is past its first value.
    for _ in 0..3 {
        let l = next_leader(&[&a, &b]);
        l.resign().unwrap();
        let n = next_leader(&[&a, &b]);
        tokens.push(n.fencing_token().unwrap());
    }
    let old = next_leader(&[&a, &b]);
    let old_rx = if old.id() == "a" { &ra } else { &rb };
    while old_rx.try_recv().is_ok() {}

    // Follow the old leader's deadline (it moves with every renewal) until it steps down.
    let (deadline, stepped_down, reason) = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut deadline = old.lease_deadline().expect("leading");
            loop {
                match old.lease_deadline() {
                    Some(d) => deadline = d,
                    None => return (deadline, Instant::now()),
                }
                std::thread::sleep(Duration::from_micros(500));
            }
        });
        server.restart();
        let reason = match expect(old_rx, |e| matches!(e, Event::Revoked { .. })) {
            Event::Revoked { reason, .. } => reason,
            _ => unreachable!(),
        };
        let (d, t) = watcher.join().unwrap();
        (d, t, reason)
    });
    // The old leader steps down no later than its deadline (at once in practice: its connection
    // broke, or its next renewal found no lock).
    assert!(
        // Slack for this thread's own scheduling on a busy machine, not for the library.
        stepped_down <= deadline + Duration::from_millis(100),
        "stepped down late ({reason:?})"
    );
    assert!(!a.is_leader() && !b.is_leader());

    let new = next_leader(&[&a, &b]);
    let elected = Instant::now();
    let token = new.fencing_token().unwrap();
    assert!(
        tokens.iter().all(|t| *t < token),
        "after the restart {token} exceeds every earlier token {tokens:?}"
    );
    assert!(
        elected >= deadline,
        "no new leader while the old one could still believe it leads"
    );
}

#[test]
fn many_elections_share_one_connection_and_one_subscription() {
    let _s = serial();
    let server = Server::launch(Store::Redis, "share", "start", &[]);
    let elections: Vec<Election> = (0..50)
        .map(|i| {
            open(
                &rediskit::plain_uri(&server),
                &format!("job-{i}"),
                "x",
                OPTS,
            )
            .0
        })
        .collect();
    for e in &elections {
        e.start().unwrap();
    }
    for e in &elections {
        assert!(e.wait_leader(Some(WAIT)).unwrap());
    }
    let clients = rediskit::cli(&server, &["CLIENT", "LIST"]);
    let ours = clients
        .lines()
        .filter(|l| !l.contains("cmd=client"))
        .count();
    assert_eq!(
        ours, 2,
        "one command connection and one subscription:\n{clients}"
    );
    // Keep-alive traffic, once the elections settled (each watcher reads its new leader once):
    // about one command per interval for all fifty leaders.
    std::thread::sleep(Duration::from_secs(1));
    let before = rediskit::script_calls(&server);
    std::thread::sleep(Duration::from_secs(2));
    let per_sec = (rediskit::script_calls(&server) - before) as f64 / 2.0;
    // renew = ttl/3, a keep-alive every renew/2 = 333 ms: 3 per second, where one renewal per
    // election would be 75. The bound leaves room for a renewal asked directly when a loaded
    // machine delays a tick.
    assert!(per_sec <= 12.0, "{per_sec} scripts/s for 50 elections");
    for e in &elections {
        assert!(e.is_leader());
    }
}

#[test]
fn bad_input_gives_one_clear_error() {
    let _s = serial();
    let server = Server::launch(Store::Redis, "bad", "start", &["--requirepass", "s3cret"]);
    let port = server.var("ELECT_REDIS_PORT");
    let code = |uri: &str| Election::open(uri, "job", None).map(|_| ()).unwrap_err();

    let e = code(&format!("redis://:wrong-pw@127.0.0.1:{port}/0"));
    assert_eq!(e.code(), ErrorCode::Auth, "{e:?}");
    assert!(!e.message().contains("wrong-pw"), "{e:?}");
    let e = code(&format!("redis://127.0.0.1:{port}/0"));
    assert_eq!(e.code(), ErrorCode::Auth, "no password: {e:?}");
    assert!(Election::open(&format!("redis://:s3cret@127.0.0.1:{port}/0"), "job", None).is_ok());

    // ACL user.
    let auth = ["--no-auth-warning", "-a", "s3cret"];
    let mut acl = auth.to_vec();
    acl.extend(["ACL", "SETUSER", "alice", "on", ">pw", "~*", "&*", "+@all"]);
    assert!(rediskit::cli(&server, &acl).contains("OK"));
    assert!(Election::open(&format!("redis://alice:pw@127.0.0.1:{port}/0"), "job", None).is_ok());
    let e = code(&format!("redis://alice:nope@127.0.0.1:{port}/0"));
    assert_eq!(e.code(), ErrorCode::Auth, "{e:?}");
    // The least privilege of docs/stores/redis.md is enough to lead; less fails at open.
    let mut acl = auth.to_vec();
    acl.extend([
        "ACL",
        "SETUSER",
        "least",
        "on",
        ">pw",
        "~elect:*",
        "&elect:events:*",
    ]);
    acl.extend(LEAST_PRIVILEGE.split(' '));
    assert!(rediskit::cli(&server, &acl).contains("OK"));
    let (e, _) = open(
        &format!("redis://least:pw@127.0.0.1:{port}/0"),
        "job",
        "l",
        OPTS,
    );
    e.start().unwrap();
    assert!(e.wait_leader(Some(WAIT)).unwrap());
    assert_eq!(e.members().unwrap().len(), 1);
    let mut acl = auth.to_vec();
    acl.extend([
        "ACL",
        "SETUSER",
        "noscript",
        "on",
        ">pw",
        "~*",
        "&*",
        "+@all",
        "-@scripting",
    ]);
    assert!(rediskit::cli(&server, &acl).contains("OK"));
    let e = code(&format!("redis://noscript:pw@127.0.0.1:{port}/0"));
    assert_eq!(e.code(), ErrorCode::Permission, "{e:?}");

    let e = code(&format!("redis://:s3cret@127.0.0.1:{port}/99"));
    assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e:?}");
    assert!(e.message().contains("db index"), "{e:?}");
    let e = code(&format!("redis://127.0.0.1:{port}/zero"));
    assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e:?}");
    assert!(e.message().contains("path `/zero`"), "{e:?}");

    // Unreachable: a port nobody listens on. One error, promptly.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let t0 = Instant::now();
    let e = code(&format!("redis://127.0.0.1:{closed}/0?connect_timeout=2s"));
    assert_eq!(e.code(), ErrorCode::Unreachable, "{e:?}");
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());

    let e = code(&format!("redis://127.0.0.1:{port},127.0.0.1:1/0"));
    assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e:?}");
    let e = code(&format!("redis://127.0.0.1:{port}/0?prefix=a*b"));
    assert!(e.message().contains("option `prefix`"), "{e:?}");
    let e = code(&format!("redis://127.0.0.1:{port}/0?tls_ca=/x.pem"));
    assert!(e.message().contains("option `tls_ca`"), "{e:?}");
    let e = code(&format!("redis://127.0.0.1:{port}/0?bogus=1"));
    assert!(e.message().contains("option `bogus`"), "{e:?}");
}

#[test]
fn tls_with_the_servers_ca_and_a_clear_error_without_it() {
    let _s = serial();
    let server = Server::launch(Store::Redis, "tls", "start", &["--tls"]);
    let uri = rediskit::plain_uri(&server);
    assert!(uri.starts_with("rediss://"));
    let ca = server.var("ELECT_REDIS_TLS_CA");
    let (e, _) = open(&uri, "job", "t", &format!("tls_ca={ca}&{OPTS}"));
    e.start().unwrap();
    assert!(e.wait_leader(Some(WAIT)).unwrap());
    assert_eq!(e.leader().unwrap().unwrap().id, "t");
    // The system's roots do not know the test CA: one error that says why.
    let err = Election::open(&uri, "job", None).map(|_| ()).unwrap_err();
    assert!(
        err.message().to_lowercase().contains("certificate"),
        "{err:?}"
    );
    assert_eq!(err.code(), ErrorCode::Unreachable, "{err:?}");
    let err = Election::open(&format!("{uri}?tls_ca=/nonexistent.pem"), "job", None)
        .map(|_| ())
        .unwrap_err();
    assert!(err.message().contains("option `tls_ca`"), "{err:?}");
}
