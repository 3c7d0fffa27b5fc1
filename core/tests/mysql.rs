//! What is particular to the mysql store, against a real MariaDB server (scripts/servers/mysql):
//! the line on a named lock, ownership per candidacy, batched renewals, errors, sslmode and the
//! storage engine. What every store must do is in `contract.rs`.

use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use elect_core::backend::mysql::LOCK_WAKEUPS;
use elect_core::{Election, ErrorCode, Event, RevokeReason};
use elect_testkit::mysql::{sql, status};
use elect_testkit::wait::{
    expect_within, members, open_fails, open_recording, renewed_after, timed_leader, WAIT,
};
use elect_testkit::{Server, Store};

elect_testkit::agent_child!();

fn open(uri: &str, opts: &str, name: &str, id: &str) -> (Election, Receiver<Event>) {
    open_recording(&format!("{uri}?id={id}&{opts}"), name)
}

/// A ttl, retry and renewal period so long that only the named lock can explain a handover
/// within seconds. The silence keeps a candidate that resigned from winning straight back.
const SLOW: &str = "ttl=30s&retry=30s&silence=3s";

#[test]
fn three_candidates_hand_over_through_the_named_lock_and_terms_grow() {
    let my = Server::start(Store::Mysql, "my-line");
    let uri = my.uri();
    let (a, ra) = open(&uri, SLOW, "job", "a");
    let (b, _rb) = open(&uri, SLOW, "job", "b");
    let (c, _rc) = open(&uri, SLOW, "job", "c");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let t1 = a.fencing_token().unwrap();
    b.start().unwrap();
    c.start().unwrap();
    members(&a, 3);
    // Both wait in GET_LOCK on the lock a holds before the handover is timed.
    let waiting = "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
         WHERE USER = 'elect' AND INFO LIKE 'SELECT GET_LOCK%'";
    let end = Instant::now() + WAIT;
    while sql(&my, waiting).trim() != "2" {
        assert!(Instant::now() < end, "b and c never waited on the lock");
        std::thread::sleep(Duration::from_millis(5));
    }

    let woken = LOCK_WAKEUPS.load(Ordering::Relaxed);
    a.resign().unwrap();
    expect_within(
        &ra,
        WAIT,
        |e| matches!(e, Event::Revoked { reason: RevokeReason::Resigned, term } if *term == t1),
    );
    let (next, took) = timed_leader(&[&b, &c], Duration::from_secs(25));
    assert!(
        took < Duration::from_secs(5),
        "resign handover took {took:?}: ttl, retry and renewal rounds are 10 s or more, so the \
         named lock did not wake the line"
    );
    assert!(
        LOCK_WAKEUPS.load(Ordering::Relaxed) > woken,
        "no waiter was woken by the named lock"
    );
    let t2 = next.fencing_token().unwrap();
    assert!(t2 > t1, "tokens grow: {t1} then {t2}");
    assert_eq!(a.leader().unwrap().unwrap().term, t2);

    // Closing the new leader releases its lease and its line's session: the other waiter
    // (still in GET_LOCK) takes over.
    let other = if next.id() == "b" { &c } else { &b };
    next.close();
    let (third, took) = timed_leader(&[&a, other], Duration::from_secs(25));
    assert!(
        took < Duration::from_secs(5),
        "close handover took {took:?}"
    );
    let t3 = third.fencing_token().unwrap();
    assert!(t3 > t2, "tokens grow: {t2} then {t3}");
    let ids: Vec<String> = a.members().unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), 2, "closed candidate left the members: {ids:?}");
}

#[test]
fn a_second_candidacy_with_the_same_id_neither_takes_over_nor_releases_the_lease() {
    let my = Server::start(Store::Mysql, "my-same-id");
    let uri = my.uri();
    let ttl = Duration::from_secs(2);
    let opts = "ttl=2s&retry=100ms";
    let (a, ra) = open(&uri, opts, "job", "same");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let term = a.fencing_token().unwrap();

    // The same id on a connection of its own (a different option string), as a second process
    // with the same configuration would have. Single-table UPDATEs are acquire attempts (the
    // leader's renewals are multi-table): wait for B's.
    let (b, rb) = open(&uri, &format!("{opts}&table=elect_leases"), "job", "same");
    let before = status(&my, "Com_update");
    b.start().unwrap();
    let end = Instant::now() + WAIT;
    while status(&my, "Com_update") == before {
        assert!(Instant::now() < end, "the second candidacy never tried");
        std::thread::sleep(Duration::from_millis(5));
    }
    renewed_after(&a, Instant::now(), ttl);
    assert!(
        !b.is_leader(),
        "the second candidacy took over a live lease"
    );
    assert_eq!(a.fencing_token(), Some(term));
    assert!(!rb.try_iter().any(|e| matches!(e, Event::Elected { .. })));

    // B leaves (its leave gives up whatever lease it holds): A's lease stays live.
    b.close();
    let row = "SELECT expires_at > UTC_TIMESTAMP(6), term FROM elect_leases WHERE election = 'job'";
    assert_eq!(
        sql(&my, row).trim(),
        format!("1\t{term}"),
        "the second candidacy's leave released the first one's lease"
    );
    renewed_after(&a, Instant::now(), ttl);
    assert!(!ra.try_iter().any(|e| matches!(e, Event::Revoked { .. })));
}

#[test]
fn renewals_of_many_elections_share_one_round_trip_per_period() {
    let my = Server::start(Store::Mysql, "my-batch");
    let uri = my.uri();
    let opts = "ttl=3s&renew=250ms";
    let elections: Vec<(Election, Receiver<Event>)> = (0..40)
        .map(|i| open(&uri, opts, &format!("job-{i}"), "solo"))
        .collect();
    for (e, _) in &elections {
        e.start().unwrap();
    }
    for (e, _) in &elections {
        assert!(e.wait_leader(Some(WAIT)).unwrap());
    }
    std::thread::sleep(Duration::from_secs(1)); // settle: first renewals ride the rounds
    let before = status(&my, "Com_update_multi");
    let window = Duration::from_secs(4);
    std::thread::sleep(window);
    let rounds = status(&my, "Com_update_multi") - before;
    // One round per 250 ms is 16 in 4 s; renewing each of the 40 elections separately would
    // be 640.
    assert!(
        (12..=20).contains(&rounds),
        "{rounds} renewal statements in {window:?} for 40 leaders"
    );
    for (e, _) in &elections {
        assert!(e.is_leader(), "still leading on batched renewals");
    }
}

#[test]
fn bad_input_gets_clear_errors_without_the_password() {
    let my = Server::start(Store::Mysql, "my-bad");
    let pw = my.var("ELECT_MYSQL_PASSWORD");
    let port = my.var("ELECT_MYSQL_PORT");
    let nocreate = my.var("ELECT_MYSQL_NOCREATE_URI");

    let wrong = format!("mysql://elect:wrong-{pw}@127.0.0.1:{port}/elect");
    open_fails(
        &wrong,
        &pw,
        ErrorCode::Auth,
        &["user `elect`", "Access denied"],
    );
    let nodb = format!("mariadb://elect:{pw}@127.0.0.1:{port}/nosuchdb");
    open_fails(&nodb, &pw, ErrorCode::Auth, &["nosuchdb"]);
    let fresh = format!("{nocreate}?table=fresh_leases");
    let named = [
        "table `fresh_leases`",
        "user `elect_nocreate`",
        "may not create",
    ];
    open_fails(&fresh, &pw, ErrorCode::Permission, &named);

    // A lease table on a storage engine without transactions is refused.
    sql(
        &my,
        "CREATE TABLE IF NOT EXISTS myisam_leases (x INT) ENGINE=MyISAM",
    );
    let myisam = format!("{}?table=myisam_leases", my.uri());
    open_fails(&myisam, &pw, ErrorCode::Unsupported, &["MyISAM", "InnoDB"]);

    let table = format!("{}?table=Bad;Name", my.uri());
    open_fails(&table, &pw, ErrorCode::InvalidArgument, &["option `table`"]);
    let closed = format!("mysql://elect:{pw}@127.0.0.1:1/elect?connect_timeout=2s");
    // Hosts after a password are named by count (a password's tail could pass for a host).
    open_fails(&closed, &pw, ErrorCode::Unreachable, &["<1 host>"]);
}

#[test]
fn sslmode_is_honoured() {
    let my = Server::start(Store::Mysql, "my-tls");
    let ca = my.var("ELECT_MYSQL_CA");
    let open = |q: &str| Election::open(&format!("{}?{q}", my.uri()), "job", None);
    let handshakes = || status(&my, "Ssl_accepts");

    // sslmode=disable stays on plain TCP (first: a TLS session that ends may be counted late).
    let before = handshakes();
    drop(open("sslmode=disable").unwrap());
    assert_eq!(handshakes(), before, "no TLS with sslmode=disable");
    // The server offers TLS: prefer (the default) and require use it without a CA...
    let before = handshakes();
    let e = open("sslmode=require").unwrap();
    assert!(handshakes() > before, "the statement session over TLS");
    drop(e);
    let before = handshakes();
    drop(open("").unwrap());
    assert!(handshakes() > before, "prefer uses the server's TLS");
    // ... verify-full checks the certificate against sslrootcert (and the host name) ...
    let e = open(&format!("sslmode=verify-full&sslrootcert={ca}")).unwrap();
    e.start().unwrap();
    assert!(
        e.wait_leader(Some(WAIT)).unwrap(),
        "elections work over TLS"
    );
    drop(e);
    // ... and fails against the built-in roots, which do not know the test CA ...
    let err = open("sslmode=verify-full").unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unreachable, "{err:?}");
    assert!(err.message().contains("certificate"), "{err}");
    assert!(!err.message().contains(&my.var("ELECT_MYSQL_PASSWORD")));

    let err = open("sslrootcert=/nonexistent/ca.pem").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(err.message().contains("option `sslrootcert`"), "{err}");
}

#[test]
fn with_handover_poll_waiters_learn_of_a_release_from_the_rounds() {
    let my = Server::start(Store::Mysql, "my-poll");
    let uri = my.uri();
    let name = "job";
    let opts = "ttl=3s&retry=30s&silence=3s&handover=poll";
    let (a, _ra) = open(&uri, opts, name, "a");
    let (b, _rb) = open(&uri, opts, name, "b");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    b.start().unwrap();
    members(&a, 2);
    // No session of b waits on the named lock: it polls.
    let waiting = "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
         WHERE USER = 'elect' AND INFO LIKE 'SELECT GET_LOCK%'";
    assert_eq!(sql(&my, waiting).trim(), "0");
    a.resign().unwrap();
    // The rounds (every 1 s) see the release, well before retry (30 s) or a ttl.
    let (next, _) = timed_leader(&[&b], Duration::from_secs(25));
    assert_eq!(next.id(), "b");
}

/// MySQL announces no joins or leaves: the rounds count the members and digest their ids. A
/// leave and a join of other processes between two rounds of the observer's process keep the
/// count (2 -> 2) and must still be seen. (Its own candidacies would start a round of its own.)
#[test]
fn a_leave_and_a_join_between_two_rounds_are_seen() {
    let my = Server::start(Store::Mysql, "my-swap");
    let uri = my.uri();
    let name = "job";
    let others = format!("{uri}?ttl=3s&renew=1s&retry=500ms");
    let mut fleet = elect_testkit::agent::fleet();
    fleet.join(&others, name, "a").unwrap();
    let b = fleet.join(&others, name, "b").unwrap();
    // The observer's rounds come every 3 s: the swap below fits between two of them.
    let (o, ro) = open(&uri, "ttl=9s&renew=3s", name, "o");
    o.observe().unwrap();
    let joined = |id: &'static str| move |e: &Event| matches!(e, Event::MemberJoined { member } if member.id == id);
    expect_within(&ro, WAIT, joined("a"));
    expect_within(&ro, WAIT, joined("b"));
    fleet.request(b, "close").unwrap();
    fleet.join(&others, name, "c").unwrap();
    expect_within(&ro, Duration::from_secs(8), joined("c"));
    fleet.shutdown();
}
