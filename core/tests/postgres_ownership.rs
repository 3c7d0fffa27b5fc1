//! Who owns a PostgreSQL lease, against a real PostgreSQL cluster (scripts/servers/postgres):
//! a second candidacy with the same `id` neither takes over a live lease nor releases it; a
//! lease table of an earlier version (no `owner` column) is migrated in place; and elect's
//! commits are synchronous even on a server whose default is `synchronous_commit = off`.

use std::time::{Duration, Instant};

use elect_testkit::postgres as pgkit;
use elect_testkit::sql::{self as cases, open};
use elect_testkit::wait::WAIT;
use elect_testkit::{Server, Store};

#[test]
fn a_second_candidacy_with_the_same_id_neither_takes_over_nor_releases_the_lease() {
    let pg = Server::start(Store::Postgres, "pg-same-id");
    pgkit::log_statements(&pg);
    let acquires = || {
        std::fs::read_to_string(pg.var("ELECT_POSTGRES_LOG"))
            .unwrap_or_default()
            .matches("INSERT INTO elect_leases AS t")
            .count() as u64
    };
    let live = "SELECT term FROM elect_leases WHERE election = 'job' AND expires_at > now()";
    cases::same_id_leaves_the_lease_alone(&pg.uri(), acquires, || pgkit::psql(&pg, live));
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
    let (a, _ra) = open(&pg.uri(), "ttl=3s&retry=100ms", "job", "a");
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
    let (a, _ra) = open(&pg.uri(), "ttl=3s&retry=100ms", "job", "a");
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
