//! What is particular to the postgres store, against a real PostgreSQL 15 cluster
//! (scripts/servers/postgres): handover and observers woken by NOTIFY, batched renewals, roles,
//! sslmode, PgBouncer and a frozen server. What every store must do is in `contract.rs`.

use elect_testkit::wait::{expect_within, open_fails, open_recording, timed_leader};
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use elect_core::backend::postgres::NOTIFICATIONS;
use elect_core::{Election, ErrorCode, Event, RevokeReason};
use elect_testkit::postgres::{self as pgkit, PgBouncer};
use elect_testkit::{Server, Store};

const WAIT: Duration = Duration::from_secs(20);

fn open(uri: &str, opts: &str, name: &str, id: &str) -> (Election, Receiver<Event>) {
    open_recording(&format!("{uri}?id={id}&{opts}"), name)
}

/// Waits for the next event matching `pred`, skipping others.
fn expect(rx: &Receiver<Event>, pred: impl Fn(&Event) -> bool) -> Event {
    expect_within(rx, WAIT, pred)
}

/// A ttl and retry so long that only a NOTIFY can explain a handover within a second. The
/// silence keeps a candidate that resigned from winning straight back (it campaigns again at
/// once otherwise, and may be first to try).
const SLOW: &str = "ttl=30s&retry=30s&silence=3s";

#[test]
fn three_candidates_hand_over_through_notify_and_terms_grow() {
    let pg = Server::start(Store::Postgres, "pg-handover");
    let uri = &pg.uri();
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
    let (next, took) = timed_leader(&[&b, &c], Duration::from_secs(5));
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

    // No NOTIFY count here: which wake-up takes over is not determined. The loser of the
    // handover above may still have its attempt in flight when `next` closes, and that attempt
    // wins without waiting for a wakeup; a renewal round that reads the free row first wakes
    // a waiter without NOTIFY too. Within a second is still far below ttl and retry.
    let other = if next.id() == "b" { &c } else { &b };
    next.close();
    let (third, took) = timed_leader(&[&a, other], Duration::from_secs(5));
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
fn observers_learn_of_a_new_leader_through_notify() {
    let pg = Server::start(Store::Postgres, "pg-observe");
    let uri = &pg.uri();
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
}

#[test]
fn renewals_of_many_elections_share_one_statement_per_period() {
    let pg = Server::start(Store::Postgres, "pg-batch");
    let uri = &pg.uri();
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
    pgkit::log_statements(&pg);
    std::thread::sleep(Duration::from_secs(1)); // settle: first renewals ride the rounds
    let before = pgkit::statements(&pg);
    let window = Duration::from_secs(4);
    std::thread::sleep(window);
    let statements = pgkit::statements(&pg) - before;
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

#[test]
fn bad_input_gets_clear_errors_without_the_password() {
    let pg = Server::start(Store::Postgres, "pg-bad");
    let pw = &pg.var("ELECT_POSTGRES_PASSWORD");
    let port = &pg.var("ELECT_POSTGRES_PORT");
    let nocreate = &pg.var("ELECT_POSTGRES_NOCREATE_URI");

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
    // After a password the host is counted, not quoted (it may be the password's tail); after
    // a user name alone it is named.
    let closed = format!("postgres://elect:{pw}@127.0.0.1:1/elect?connect_timeout=2s");
    open_fails(
        &closed,
        pw,
        ErrorCode::Unreachable,
        &["elect@<1 host>/elect"],
    );
    let closed = "postgres://elect@127.0.0.1:1/elect?connect_timeout=2s";
    open_fails(closed, pw, ErrorCode::Unreachable, &["127.0.0.1:1"]);
}

/// Sessions of elect that use TLS, and that do not, as the server sees them.
fn tls_sessions(pg: &Server) -> (usize, usize) {
    let out = pgkit::psql(
        &pg,
        "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl)
         FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'elect'",
    );
    let (tls, plain) = out.trim().split_once('|').unwrap();
    (tls.parse().unwrap(), plain.parse().unwrap())
}

#[test]
fn sslmode_is_honoured() {
    let pg = Server::start(Store::Postgres, "pg-tls");
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
        !err.message().contains(&pg.var("ELECT_POSTGRES_PASSWORD")),
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

#[test]
fn pgbouncer_session_mode_works_and_transaction_mode_is_refused() {
    let pg = Server::start(Store::Postgres, "pg-bouncer");
    let session = PgBouncer::start(&pg, "session");
    let (a, _ra) = open(&session.uri, SLOW, "job", "a");
    let (b, _rb) = open(&session.uri, SLOW, "job", "b");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    b.start().unwrap();
    std::thread::sleep(Duration::from_millis(100)); // b reaches its LISTEN wait
    a.resign().unwrap();
    let (next, took) = timed_leader(&[&b], Duration::from_secs(5));
    assert!(
        took < Duration::from_secs(1),
        "handover through PgBouncer took {took:?}: NOTIFY did not arrive"
    );
    assert!(next.fencing_token().unwrap() > 1);

    let transaction = PgBouncer::start(&pg, "transaction");
    let e = Election::open(
        &format!("{}?connect_timeout=1s", transaction.uri),
        "job",
        None,
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Unsupported, "{e:?}");
    assert!(e.message().contains("pool_mode=session"), "{e}");
}

#[test]
fn a_frozen_server_makes_the_leader_step_down_at_its_deadline() {
    let pg = Server::start(Store::Postgres, "pg-frozen");
    let opts = "ttl=2s&renew=500ms&retry=200ms&connect_timeout=1s";
    let (a, ra) = open(&pg.uri(), opts, "job", "a");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let t1 = a.fencing_token().unwrap();

    // Statements now hang rather than fail: only the deadline can end the leadership.
    pg.pause();
    let frozen = Instant::now();
    let ev = expect(&ra, |e| matches!(e, Event::Revoked { .. }));
    let at = Instant::now();
    pg.resume();
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
