//! Who owns a PostgreSQL lease, against a real PostgreSQL cluster (scripts/servers/postgres):
//! a second candidacy with the same `id` neither takes over a live lease nor releases it; a
//! lease table of an earlier version (no `owner` column) is migrated in place; and elect's
//! commits are synchronous even on a server whose default is `synchronous_commit = off`.

use elect_testkit::wait::{open_recording, renewed_after};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use elect_core::{Election, Event};
use elect_testkit::postgres as pgkit;
use elect_testkit::{Server, Store};

const WAIT: Duration = Duration::from_secs(20);

fn open(uri: &str, opts: &str, id: &str) -> (Election, Receiver<Event>) {
    open_recording(&format!("{uri}?id={id}&{opts}"), "job")
}

/// How many acquire statements the server has logged (after `log_statements`).
fn acquires(pg: &Server) -> usize {
    std::fs::read_to_string(pg.var("ELECT_POSTGRES_LOG"))
        .unwrap_or_default()
        .matches("INSERT INTO elect_leases AS t")
        .count()
}

#[test]
fn a_second_candidacy_with_the_same_id_neither_takes_over_nor_releases_the_lease() {
    let pg = Server::start(Store::Postgres, "pg-same-id");
    pgkit::log_statements(&pg);
    let ttl = Duration::from_secs(3);
    let opts = "ttl=3s&retry=100ms";
    let (a, ra) = open(&pg.uri(), opts, "same");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let term = a.fencing_token().unwrap();

    // The same id on a connection of its own (a different option string), as a second process
    // with the same configuration would have.
    let (b, rb) = open(&pg.uri(), &format!("{opts}&table=elect_leases"), "same");
    let before = acquires(&pg);
    b.start().unwrap();
    let end = Instant::now() + WAIT;
    while acquires(&pg) == before {
        assert!(Instant::now() < end, "the second candidacy never tried");
        std::thread::sleep(Duration::from_millis(5));
    }
    // A renewal sent after B's attempt began waits for B's statement (row lock) and so sees
    // its outcome: had B taken the lease (a new term), A's renewal would fail.
    renewed_after(&a, Instant::now(), ttl);
    assert!(
        !b.is_leader(),
        "the second candidacy took over a live lease"
    );
    assert_eq!(a.fencing_token(), Some(term));
    assert!(!rb.try_iter().any(|e| matches!(e, Event::Elected { .. })));

    // B leaves (its leave gives up whatever lease it holds): A's lease stays live.
    b.close();
    assert_eq!(
        pgkit::psql(
            &pg,
            "SELECT expires_at > now(), term FROM elect_leases WHERE election = 'job'"
        )
        .trim(),
        format!("t|{term}"),
        "the second candidacy's leave released the first one's lease"
    );
    renewed_after(&a, Instant::now(), ttl);
    assert!(!ra.try_iter().any(|e| matches!(e, Event::Revoked { .. })));
}

#[test]
fn a_lease_table_of_an_earlier_version_gains_the_owner_column_and_keeps_its_term() {
    let pg = Server::start(Store::Postgres, "pg-migrate");
    // The table as earlier versions created it, with a released lease at term 41.
    pgkit::psql(
        &pg,
        "CREATE TABLE elect_leases (election text PRIMARY KEY, holder text NOT NULL, \
         value text NOT NULL DEFAULT '', term bigint NOT NULL, expires_at timestamptz NOT NULL); \
         ALTER TABLE elect_leases OWNER TO elect; \
         INSERT INTO elect_leases VALUES ('job', 'old', '', 41, '-infinity')",
    );
    let (a, _ra) = open(&pg.uri(), "ttl=3s&retry=100ms", "a");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    assert_eq!(a.fencing_token(), Some(42), "the term carries on");
    assert_eq!(
        pgkit::psql(
            &pg,
            "SELECT data_type, is_nullable, column_default FROM information_schema.columns \
             WHERE table_name = 'elect_leases' AND column_name = 'owner'"
        )
        .trim(),
        "text|NO|''::text"
    );
    assert_eq!(
        pgkit::psql(
            &pg,
            "SELECT length(owner) > 0 FROM elect_leases WHERE election = 'job'"
        )
        .trim(),
        "t"
    );
}

#[test]
fn commits_wait_for_a_synchronous_standby_although_the_server_default_is_off() {
    let pg = Server::start(Store::Postgres, "pg-sync");
    assert_eq!(pgkit::psql(&pg, "SHOW synchronous_commit").trim(), "off");
    let (a, _ra) = open(&pg.uri(), "ttl=3s&retry=100ms", "a");
    // A synchronous standby that never connects: a commit with synchronous_commit `on` waits
    // for it (wait event SyncRep); one with the server's default `off` does not.
    pgkit::psql(&pg, "ALTER SYSTEM SET synchronous_standby_names = 'ghost'");
    pgkit::psql(&pg, "SELECT pg_reload_conf()");
    pgkit::psql(
        &pg,
        "CREATE TABLE unrelated (x int); INSERT INTO unrelated VALUES (1)",
    );
    a.start().unwrap();
    let waiting = "SELECT count(*) FROM pg_stat_activity \
         WHERE usename = 'elect' AND wait_event = 'SyncRep'";
    let end = Instant::now() + WAIT;
    while pgkit::psql(&pg, waiting).trim() == "0" {
        assert!(
            Instant::now() < end,
            "elect's commit did not wait for the synchronous standby"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!a.is_leader(), "elected before the commit was replicated");
    pgkit::psql(&pg, "ALTER SYSTEM RESET synchronous_standby_names");
    pgkit::psql(&pg, "SELECT pg_reload_conf()");
    assert!(a.wait_leader(Some(WAIT)).unwrap());
}
