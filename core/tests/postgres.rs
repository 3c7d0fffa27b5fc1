//! The postgres store against a real PostgreSQL 15 cluster (scripts/servers/postgres): handover
//! through NOTIFY, terms across handovers and server restarts, stepping down when the server
//! goes away, observers, members, batched renewals and clear errors for bad input.

mod pg_server;

mod common;

use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use elect_core::backend::postgres::NOTIFICATIONS;
use elect_core::{Election, ErrorCode, Event, RevokeReason};
use pg_server::PgServer;

const WAIT: Duration = Duration::from_secs(20);

fn open(uri: &str, opts: &str, name: &str, id: &str) -> (Election, Receiver<Event>) {
    common::open_recording(&format!("{uri}?id={id}&{opts}"), name)
}

/// Waits for the next event matching `pred`, skipping others.
fn expect(rx: &Receiver<Event>, pred: impl Fn(&Event) -> bool) -> Event {
    common::expect_within(rx, WAIT, pred)
}

/// The one of `es` that leads, polling `is_leader` (an atomic load) until one does.
fn wait_for_leader<'a>(es: &[&'a Election], within: Duration) -> (&'a Election, Duration) {
    let start = Instant::now();
    loop {
        if let Some(l) = es.iter().copied().find(|e| e.is_leader()) {
            return (l, start.elapsed());
        }
        assert!(
            start.elapsed() < within,
            "no leader within {within:?}; the store says {:?}",
            es[0].leader()
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// A ttl and retry so long that only a NOTIFY can explain a handover within a second. The
/// silence keeps a candidate that resigned from winning straight back (it campaigns again at
/// once otherwise, and may be first to try).
const SLOW: &str = "ttl=30s&retry=30s&silence=3s";

#[test]
fn three_candidates_hand_over_through_notify_and_terms_grow() {
    let pg = PgServer::start("pg-handover");
    let uri = pg.uri();
    let (a, ra) = open(uri, SLOW, "job", "a");
    let (b, _rb) = open(uri, SLOW, "job", "b");
    let (c, _rc) = open(uri, SLOW, "job", "c");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let t1 = a.fencing_token().unwrap();
    b.start().unwrap();
    c.start().unwrap();
    // Both are in line (members) before the handover is timed.
    let end = Instant::now() + WAIT;
    while a.members().unwrap().len() < 3 {
        assert!(Instant::now() < end, "members: {:?}", a.members().unwrap());
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(b.leader().unwrap().unwrap().id, "a");
    std::thread::sleep(Duration::from_millis(100)); // let b and c reach their LISTEN wait

    let woken = NOTIFICATIONS.load(Ordering::Relaxed);
    a.resign().unwrap();
    assert!(!a.is_leader());
    expect(
        &ra,
        |e| matches!(e, Event::Revoked { reason: RevokeReason::Resigned, term } if *term == t1),
    );
    let (next, took) = wait_for_leader(&[&b, &c], Duration::from_secs(5));
    assert!(
        took < Duration::from_secs(1),
        "resign handover took {took:?}: ttl and retry are 30 s, so NOTIFY did not wake the line"
    );
    assert!(
        NOTIFICATIONS.load(Ordering::Relaxed) > woken,
        "no waiter was woken by NOTIFY"
    );
    let t2 = next.fencing_token().unwrap();
    assert!(t2 > t1, "tokens grow: {t1} then {t2}");
    assert_eq!(a.leader().unwrap().unwrap().term, t2);

    // No NOTIFY count here (CI once failed on it, on a loaded machine): the loser of the
    // handover above may still have its attempt in flight when `next` closes, and that attempt
    // wins without waiting for a wakeup; a renewal round that reads the free row first wakes
    // a waiter without NOTIFY too. Within a second is still far below ttl and retry.
    let other = if next.id() == "b" { &c } else { &b };
    next.close();
    let (third, took) = wait_for_leader(&[&a, other], Duration::from_secs(5));
    assert!(
        took < Duration::from_secs(1),
        "close handover took {took:?}: ttl and retry are 30 s"
    );
    let t3 = third.fencing_token().unwrap();
    assert!(t3 > t2, "tokens grow: {t2} then {t3}");
    let ids: Vec<String> = a.members().unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), 2, "closed candidate left the members: {ids:?}");
    assert!(!ids.contains(&next.id().to_string()));
}

#[test]
fn a_restart_of_postgres_steps_the_leader_down_and_terms_keep_growing() {
    let mut pg = PgServer::start("pg-restart");
    let uri = pg.uri().to_string();
    let opts = "ttl=2s&renew=500ms&retry=200ms";
    let (a, ra) = open(&uri, opts, "job", "a");
    let (b, _rb) = open(&uri, opts, "job", "b");
    let (obs, ro) = open(&uri, opts, "job", "watcher");
    obs.observe().unwrap();
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    b.start().unwrap();
    let t1 = a.fencing_token().unwrap();
    expect(
        &ro,
        |e| matches!(e, Event::LeaderChanged { leader: Some(l) } if l.term == t1),
    );

    pg.halt();
    // No renewal can be sent after the server is gone, so the deadline is at most a renewal
    // sent just now plus ttl (2 s) minus margin (ttl/10). Closing the connections usually makes
    // the leader step down (store_unreachable) before that.
    let deadline = Instant::now() + Duration::from_millis(1800);
    let ev = expect(&ra, |e| matches!(e, Event::Revoked { .. }));
    let stepped_down = Instant::now();
    assert!(
        stepped_down <= deadline + Duration::from_millis(50),
        "stepped down {:?} after the deadline: {ev:?}",
        stepped_down - deadline
    );
    assert!(!a.is_leader() && !b.is_leader());

    pg.start_again();
    let (leader, _) = wait_for_leader(&[&a, &b], WAIT);
    let t2 = leader.fencing_token().unwrap();
    assert!(t2 > t1, "term after the restart {t2} must exceed {t1}");
    // The observer's sessions came back too.
    expect(
        &ro,
        |e| matches!(e, Event::LeaderChanged { leader: Some(l) } if l.term == t2),
    );
}

#[test]
fn observers_follow_the_leader_and_its_expiry() {
    let pg = PgServer::start("pg-observe");
    let uri = pg.uri();
    let opts = "ttl=1s&renew=300ms&retry=200ms";
    let (obs, ro) = open(uri, opts, "job", "watcher");
    obs.observe().unwrap();
    expect(&ro, |e| matches!(e, Event::LeaderChanged { leader: None }));
    let (a, _ra) = open(uri, opts, "job", "a");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let token = a.fencing_token().unwrap();
    let start = Instant::now();
    expect(
        &ro,
        |e| matches!(e, Event::LeaderChanged { leader: Some(l) } if l.id == "a" && l.term == token),
    );
    assert!(
        start.elapsed() < Duration::from_millis(250),
        "NOTIFY makes observers prompt"
    );
    a.resign().unwrap();
    expect(&ro, |e| matches!(e, Event::LeaderChanged { leader: None }));
    a.close();

    // A leader that dies announces nothing: the observer learns from the expired row.
    let mut child = Child::spawn(&pg, opts, "mortal");
    let term: u64 = child.expect("elected ").parse().unwrap();
    expect(
        &ro,
        |e| matches!(e, Event::LeaderChanged { leader: Some(l) } if l.id == "mortal" && l.term == term),
    );
    child.process.kill().unwrap();
    let killed = Instant::now();
    expect(&ro, |e| matches!(e, Event::LeaderChanged { leader: None }));
    // Expiry (at most ttl after the last renewal) plus at most one round (renew) to notice.
    assert!(
        killed.elapsed() < Duration::from_millis(1000 + 300 + 200),
        "the observer saw the expiry after {:?}",
        killed.elapsed()
    );
}

#[test]
fn renewals_of_many_elections_share_one_statement_per_period() {
    let pg = PgServer::start("pg-batch");
    let uri = pg.uri();
    let opts = "ttl=3s&renew=250ms";
    let elections: Vec<(Election, Receiver<Event>)> = (0..40)
        .map(|i| open(uri, opts, &format!("job-{i}"), "solo"))
        .collect();
    for (e, _) in &elections {
        e.start().unwrap();
    }
    for (e, _) in &elections {
        assert!(e.wait_leader(Some(WAIT)).unwrap());
    }
    pg.log_statements();
    std::thread::sleep(Duration::from_secs(1)); // settle: first renewals ride the rounds
    let before = pg.statements();
    let window = Duration::from_secs(4);
    std::thread::sleep(window);
    let statements = pg.statements() - before;
    // One round per 250 ms is 16 in 4 s; renewing each of the 40 elections separately would
    // be 640.
    assert!(
        (12..=20).contains(&statements),
        "{statements} statements in {window:?} for 40 leaders"
    );
    for (e, _) in &elections {
        assert!(e.is_leader(), "still leading on batched renewals");
    }
}

/// Opening `uri` fails with `code`, naming every one of `mentions`, and never shows `pw`.
fn open_fails(uri: &str, pw: &str, code: ErrorCode, mentions: &[&str]) {
    let e = Election::open(uri, "job", None).unwrap_err();
    assert_eq!(e.code(), code, "{e:?}");
    for m in mentions {
        assert!(e.message().contains(m), "`{m}` not in: {e}");
    }
    assert!(!e.message().contains(pw), "password leaked: {e}");
}

#[test]
fn bad_input_gets_clear_errors_without_the_password() {
    let pg = PgServer::start("pg-bad");
    let pw = pg.password();
    let port = pg.var("ELECT_POSTGRES_PORT");
    let nocreate = pg.var("ELECT_POSTGRES_NOCREATE_URI");

    let wrong = format!("postgres://elect:wrong-{pw}@127.0.0.1:{port}/elect");
    open_fails(
        &wrong,
        pw,
        ErrorCode::Auth,
        &["user `elect`", "authentication failed"],
    );
    let nodb = format!("postgres://elect:{pw}@127.0.0.1:{port}/nosuchdb");
    let missing = ["database `nosuchdb` does not exist"];
    open_fails(&nodb, pw, ErrorCode::InvalidArgument, &missing);
    let fresh = format!("{nocreate}?table=fresh_leases");
    let named = [
        "table `fresh_leases`",
        "user `elect_nocreate`",
        "may not create",
    ];
    open_fails(&fresh, pw, ErrorCode::Permission, &named);

    // The table exists (made by a role that may) but this role has no rights on it.
    drop(Election::open(&format!("{}?table=owned_leases", pg.uri()), "job", None).unwrap());
    let owned = format!("{nocreate}?table=owned_leases");
    open_fails(&owned, pw, ErrorCode::Permission, &["table `owned_leases`"]);

    let sslmode = format!("{}?sslmode=sometimes", pg.uri());
    open_fails(
        &sslmode,
        pw,
        ErrorCode::InvalidArgument,
        &["option `sslmode`"],
    );
    let table = format!("{}?table=Bad;Name", pg.uri());
    open_fails(&table, pw, ErrorCode::InvalidArgument, &["option `table`"]);
    let closed = format!("postgres://elect:{pw}@127.0.0.1:1/elect?connect_timeout=2s");
    open_fails(&closed, pw, ErrorCode::Unreachable, &["127.0.0.1:1"]);
}

/// Sessions of elect that use TLS, and that do not, as the server sees them.
fn tls_sessions(pg: &PgServer) -> (usize, usize) {
    let out = pg.psql(
        "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl)
         FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'elect'",
    );
    let (tls, plain) = out.trim().split_once('|').unwrap();
    (tls.parse().unwrap(), plain.parse().unwrap())
}

#[test]
fn sslmode_is_honoured() {
    let pg = PgServer::start("pg-tls");
    let ca = pg.var("ELECT_POSTGRES_CA").to_string();
    let open = |q: &str| Election::open(&format!("{}?{q}", pg.uri()), "job", None);

    // The server offers TLS: prefer (the default) and require use it without a CA...
    let e = open("sslmode=require").unwrap();
    assert_eq!(
        tls_sessions(&pg),
        (2, 0),
        "statement and LISTEN sessions over TLS"
    );
    drop(e);
    let e = open("").unwrap();
    assert!(tls_sessions(&pg).0 >= 2);
    drop(e);
    // ... verify-full checks the certificate against sslrootcert (and the host name) ...
    let e = open(&format!("sslmode=verify-full&sslrootcert={ca}")).unwrap();
    e.start().unwrap();
    assert!(
        e.wait_leader(Some(WAIT)).unwrap(),
        "elections work over TLS"
    );
    drop(e);
    // ... and fails against the system roots, which do not know the test CA ...
    let err = open("sslmode=verify-full").unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unreachable, "{err:?}");
    assert!(err.message().contains("certificate"), "{err}");
    assert!(
        !err.message().contains(pg.password()),
        "password leaked: {err}"
    );
    // ... disable stays on plain TCP.
    let e = open("sslmode=disable").unwrap();
    assert_eq!(tls_sessions(&pg).1, 2);
    drop(e);

    let err = open("sslrootcert=/nonexistent/ca.pem").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(err.message().contains("option `sslrootcert`"), "{err}");
}

/// The child candidate of the multi-process tests: this test binary run again with
/// `ELECT_PG_CHILD=<uri>` (see [`Child::spawn`]). Without that variable it does nothing.
/// Protocol: lines `is_leader`, `token`, `write <token>` on stdin; answers and events as lines
/// starting with `child: ` on stdout (the test harness prints other lines of its own).
#[test]
fn child_candidate() {
    let Ok(uri) = std::env::var("ELECT_PG_CHILD") else {
        return;
    };
    let db = std::env::var("ELECT_PG_CHILD_DB").unwrap();
    use std::io::{BufRead, Write};
    let say = |line: String| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "child: {line}");
        let _ = out.flush();
    };
    let e = Election::open(
        &uri,
        "job",
        Some(Box::new(move |ev: &Event| match ev {
            Event::Elected { term } => say(format!("elected {term}")),
            Event::Revoked { term, reason } => say(format!("revoked {term} {reason}")),
            _ => {}
        })),
    )
    .unwrap();
    e.start().unwrap();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let reply = match line.split_once(' ').unwrap_or((&line, "")) {
            ("is_leader", _) => format!("is_leader {}", e.is_leader()),
            ("token", _) => format!("token {}", e.fencing_token().unwrap_or(0)),
            ("write", token) => format!("wrote {}", fenced_write(&db, token.parse().unwrap())),
            _ => format!("unknown {line}"),
        };
        say(reply);
    }
}

/// A write to a resource that checks the token against the lease row in the same statement;
/// returns the number of rows written (0 = rejected).
fn fenced_write(db: &str, token: u64) -> u64 {
    let sql = format!(
        "WITH w AS (UPDATE fenced SET by_term = {token} WHERE id = 1 AND EXISTS \
         (SELECT 1 FROM elect_leases WHERE election = 'job' AND term = {token}) RETURNING 1) \
         SELECT count(*) FROM w"
    );
    let out = std::process::Command::new("psql")
        .args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", db, "-c", &sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// A candidate in another process, so it can be killed or paused.
struct Child {
    process: std::process::Child,
    stdin: std::process::ChildStdin,
    lines: Receiver<String>,
    /// Lines received but not yet asked for (an event may come before the awaited reply).
    pending: Vec<String>,
}

impl Child {
    fn spawn(pg: &PgServer, opts: &str, id: &str) -> Child {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let mut process = Command::new(std::env::current_exe().unwrap())
            .args([
                "child_candidate",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("ELECT_PG_CHILD", format!("{}?id={id}&{opts}", pg.uri()))
            .env("ELECT_PG_CHILD_DB", pg.uri())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = process.stdin.take().unwrap();
        let stdout = process.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(|l| l.ok())
            {
                // The harness may have printed `test child_candidate ... ` on the same line.
                if let Some(at) = line.find("child: ") {
                    let _ = tx.send(line[at + "child: ".len()..].to_string());
                }
            }
        });
        Child {
            process,
            stdin,
            lines,
            pending: Vec::new(),
        }
    }

    /// The first line starting with `prefix` (the rest of it), keeping others for later.
    fn expect(&mut self, prefix: &str) -> String {
        if let Some(i) = self.pending.iter().position(|l| l.starts_with(prefix)) {
            return self.pending.remove(i)[prefix.len()..].trim().to_string();
        }
        let end = Instant::now() + WAIT;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("child said no `{prefix}` in time"));
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.trim().to_string();
            }
            self.pending.push(line);
        }
    }

    fn ask(&mut self, request: &str, answer: &str) -> String {
        use std::io::Write;
        writeln!(self.stdin, "{request}").unwrap();
        self.expect(answer)
    }

    fn signal(&self, sig: &str) -> bool {
        std::process::Command::new("kill")
            .args([sig, &self.process.id().to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.signal("-CONT"); // a paused child cannot die of SIGKILL before it resumes
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

const FAST: &str = "ttl=2s&renew=500ms&retry=500ms";

#[test]
fn sigkill_of_the_leader_hands_over_within_ttl_and_retry() {
    let pg = PgServer::start("pg-sigkill");
    let mut child = Child::spawn(&pg, FAST, "doomed");
    let t1: u64 = child.expect("elected ").parse().unwrap();
    let (b, _rb) = open(pg.uri(), FAST, "job", "b");
    let (c, _rc) = open(pg.uri(), FAST, "job", "c");
    b.start().unwrap();
    c.start().unwrap();
    assert_eq!(b.leader().unwrap().unwrap().id, "doomed");

    child.process.kill().unwrap(); // SIGKILL: no release, no NOTIFY
    let (next, took) = wait_for_leader(&[&b, &c], WAIT);
    assert!(
        took <= Duration::from_millis(2000 + 500 + 300),
        "crash handover took {took:?}, more than ttl + retry"
    );
    let t2 = next.fencing_token().unwrap();
    assert!(t2 > t1, "tokens grow: {t1} then {t2}");
    let _ = child.process.wait();
    let ids: Vec<String> = b.members().unwrap().into_iter().map(|m| m.id).collect();
    let end = Instant::now() + WAIT;
    let mut ids = ids;
    while ids.contains(&"doomed".to_string()) {
        assert!(
            Instant::now() < end,
            "the killed candidate stays a member: {ids:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
        ids = b.members().unwrap().into_iter().map(|m| m.id).collect();
    }
}

#[test]
fn a_paused_leader_loses_and_its_fenced_write_is_rejected() {
    let pg = PgServer::start("pg-sigstop");
    pg.psql(
        "CREATE TABLE fenced (id int PRIMARY KEY, by_term bigint NOT NULL);
         INSERT INTO fenced VALUES (1, 0);
         GRANT SELECT, UPDATE ON fenced TO elect;",
    );
    let mut child = Child::spawn(&pg, FAST, "sleeper");
    let t1: u64 = child.expect("elected ").parse().unwrap();
    let (b, rb) = open(pg.uri(), FAST, "job", "b");
    b.start().unwrap();
    assert_eq!(
        fenced_write(pg.uri(), t1),
        1,
        "the leader's own write passes"
    );

    assert!(child.signal("-STOP"));
    assert!(b.wait_leader(Some(WAIT)).unwrap());
    let t2 = b.fencing_token().unwrap();
    assert!(t2 > t1);
    expect(&rb, |e| matches!(e, Event::Elected { term } if *term == t2));
    assert_eq!(fenced_write(pg.uri(), t2), 1, "the new leader writes");

    assert!(child.signal("-CONT"));
    assert_eq!(
        child.ask("is_leader", "is_leader "),
        "false",
        "not leader on resume"
    );
    assert_eq!(child.ask("token", "token "), "0");
    assert_eq!(
        child.ask(&format!("write {t1}"), "wrote "),
        "0",
        "stale write rejected"
    );
    let revoked = child.expect("revoked ");
    assert!(revoked.starts_with(&t1.to_string()), "{revoked}");
    assert_eq!(pg.psql("SELECT by_term FROM fenced").trim(), t2.to_string());
    assert!(
        b.is_leader(),
        "the resumed process did not disturb the new leader"
    );
}

#[test]
fn pgbouncer_session_mode_works_and_transaction_mode_is_refused() {
    let pg = PgServer::start("pg-bouncer");
    let session = pg_server::PgBouncer::start(&pg, "session");
    let (a, _ra) = open(&session.uri, SLOW, "job", "a");
    let (b, _rb) = open(&session.uri, SLOW, "job", "b");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    b.start().unwrap();
    std::thread::sleep(Duration::from_millis(100)); // b reaches its LISTEN wait
    a.resign().unwrap();
    let (next, took) = wait_for_leader(&[&b], Duration::from_secs(5));
    assert!(
        took < Duration::from_secs(1),
        "handover through PgBouncer took {took:?}: NOTIFY did not arrive"
    );
    assert!(next.fencing_token().unwrap() > 1);

    let transaction = pg_server::PgBouncer::start(&pg, "transaction");
    let e = Election::open(
        &format!("{}?connect_timeout=1s", transaction.uri),
        "job",
        None,
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Unsupported, "{e:?}");
    assert!(e.message().contains("pool_mode=session"), "{e}");
}

/// Sends `sig` to the cluster's postmaster and its backends (its children only).
fn signal_cluster(pg: &PgServer, sig: &str) {
    let pid = pg.pid().to_string();
    let children = std::process::Command::new("pgrep")
        .args(["-P", &pid])
        .output()
        .unwrap();
    let mut pids: Vec<String> = String::from_utf8(children.stdout)
        .unwrap()
        .split_whitespace()
        .map(String::from)
        .collect();
    pids.push(pid);
    let ok = std::process::Command::new("kill")
        .arg(sig)
        .args(&pids)
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pids:?}");
}

#[test]
fn a_frozen_server_makes_the_leader_step_down_at_its_deadline() {
    let pg = PgServer::start("pg-frozen");
    let opts = "ttl=2s&renew=500ms&retry=200ms&connect_timeout=1s";
    let (a, ra) = open(pg.uri(), opts, "job", "a");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let t1 = a.fencing_token().unwrap();

    // Statements now hang rather than fail: only the deadline can end the leadership.
    signal_cluster(&pg, "-STOP");
    let frozen = Instant::now();
    let ev = expect(&ra, |e| matches!(e, Event::Revoked { .. }));
    let at = Instant::now();
    signal_cluster(&pg, "-CONT");
    assert_eq!(
        ev,
        Event::Revoked {
            term: t1,
            reason: RevokeReason::LeaseExpired
        }
    );
    // The deadline is at most ttl - margin (1.8 s) after the freeze, and at least that after
    // the last renewal sent before it (at most one renew period earlier).
    let held = at - frozen;
    assert!(
        held >= Duration::from_millis(1800 - 500 - 50) && held <= Duration::from_millis(1800 + 100),
        "stepped down {held:?} after the freeze"
    );
    assert!(
        a.wait_leader(Some(WAIT)).unwrap(),
        "re-elected after the thaw"
    );
    assert!(a.fencing_token().unwrap() > t1);
}
