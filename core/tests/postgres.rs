//! What is particular to the postgres store, against a real PostgreSQL 15 cluster
//! (scripts/servers/postgres): handover and observers woken by NOTIFY, batched renewals, roles,
//! sslmode, PgBouncer and a frozen server. What every store must do is in `contract.rs`.

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use elect_core::backend::postgres::NOTIFICATIONS;
use elect_core::{Election, ErrorCode, Event, RevokeReason};
use elect_testkit::postgres::{self as pgkit, PgBouncer};
use elect_testkit::sql::{self as cases, open, Wakeup, SLOW};
use elect_testkit::wait::{expect_within, open_fails, timed_leader, WAIT};
use elect_testkit::{Server, Store};

/// Waits for the next event matching `pred`, skipping others.
fn expect(rx: &Receiver<Event>, pred: impl Fn(&Event) -> bool) -> Event {
    expect_within(rx, WAIT, pred)
}

#[test]
fn three_candidates_hand_over_through_notify_and_terms_grow() {
    let pg = Server::start(Store::Postgres, "pg-handover");
    cases::three_candidates_hand_over(
        &pg.uri(),
        Wakeup {
            by: "NOTIFY",
            count: &NOTIFICATIONS,
            // Let b and c reach their LISTEN wait.
            waiting: &|| std::thread::sleep(Duration::from_millis(100)),
            within: Duration::from_secs(1),
        },
    );
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
    pgkit::log_statements(&pg);
    cases::renewals_share_one_statement_per_period(&pg.uri(), || pgkit::statements(&pg) as u64);
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
    // ... disable stays on plain TCP ...
    let e = open("sslmode=disable").unwrap();
    assert_eq!(tls_sessions(&pg).1, 2);
    drop(e);
    // ... and verify-full checks the certificate against sslrootcert (the system roots without
    // it).
    cases::verify_full_checks_the_ca(&pg.uri(), &ca, &pg.var("ELECT_POSTGRES_PASSWORD"));
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
