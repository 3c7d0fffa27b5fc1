//! What is particular to the mysql store, against a real MariaDB server (scripts/servers/mysql):
//! the line on a named lock, ownership per candidacy, batched renewals, errors, sslmode and the
//! storage engine. What every store must do is in `contract.rs`.

use std::time::Duration;

use elect_core::backend::mysql::LOCK_WAKEUPS;
use elect_core::{Election, ErrorCode};
use elect_testkit::mysql::{sql, status};
use elect_testkit::sql::{self as cases, open, Wakeup};
use elect_testkit::wait::{members, open_fails, timed_leader, until, WAIT};
use elect_testkit::{Server, Store};

/// Sessions of elect waiting in `GET_LOCK`, as the server lists them.
const WAITING: &str = "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
     WHERE USER = 'elect' AND INFO LIKE 'SELECT GET_LOCK%'";

#[test]
fn three_candidates_hand_over_through_the_named_lock_and_terms_grow() {
    let my = Server::start(Store::Mysql, "my-line");
    // The renewal rounds are ttl/3 = 10 s apart: a handover within 5 s is the named lock's.
    cases::three_candidates_hand_over(
        &my.uri(),
        Wakeup {
            by: "the named lock",
            count: &LOCK_WAKEUPS,
            waiting: &|| {
                until("b and c in GET_LOCK", WAIT, || {
                    sql(&my, WAITING).trim() == "2"
                })
            },
            within: Duration::from_secs(5),
        },
    );
}

#[test]
fn a_second_candidacy_with_the_same_id_neither_takes_over_nor_releases_the_lease() {
    let my = Server::start(Store::Mysql, "my-same-id");
    // Single-table UPDATEs are acquire attempts (the leader's renewals are multi-table).
    let live = "SELECT term FROM elect_leases \
         WHERE election = 'job' AND expires_at > UTC_TIMESTAMP(6)";
    cases::same_id_leaves_the_lease_alone(
        &my.uri(),
        || status(&my, "Com_update"),
        || sql(&my, live),
    );
}

#[test]
fn renewals_of_many_elections_share_one_round_trip_per_period() {
    let my = Server::start(Store::Mysql, "my-batch");
    cases::renewals_share_one_statement_per_period(&my.uri(), || status(&my, "Com_update_multi"));
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
    // ... and verify-full checks the certificate against sslrootcert.
    cases::verify_full_checks_the_ca(&my.uri(), &ca, &my.var("ELECT_MYSQL_PASSWORD"));
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
    assert_eq!(sql(&my, WAITING).trim(), "0");
    a.resign().unwrap();
    // The rounds (every 1 s) see the release, well before retry (30 s) or a ttl.
    let (next, _) = timed_leader(&[&b], Duration::from_secs(25));
    assert_eq!(next.id(), "b");
}
