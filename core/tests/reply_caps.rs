//! What elect takes from a store is bounded (`backend::limits`): a leader or member whose id or
//! value is longer than elect ever writes, or a member list longer than the cap, is an error
//! naming the store. Written here into a real server behind elect's back, as another program or
//! a hostile server would.

use std::time::Duration;

use elect_testkit::wait::first_outcome;
use elect_testkit::{mysql, postgres, Server, Store};

/// The statements that write oversized rows into one SQL store, and how to run them.
struct Writes {
    run: fn(&Server, &str) -> String,
    long_value: &'static str,
    long_member: &'static str,
    shorten_member: &'static str,
    many_members: &'static str,
}

const POSTGRES: Writes = Writes {
    run: postgres::psql,
    long_value: "UPDATE elect_leases SET value = repeat('x', 70000) WHERE election = 'job'",
    long_member: "INSERT INTO elect_leases_members (election, id, value, expires_at)
        VALUES ('job', 'huge', repeat('y', 70000), now() + interval '1 hour')",
    shorten_member: "UPDATE elect_leases_members SET value = '' WHERE id = 'huge'",
    many_members: "INSERT INTO elect_leases_members (election, id, value, expires_at)
        SELECT 'job', 'm' || i, '', now() + interval '1 hour' FROM generate_series(1, 10001) i",
};

/// MariaDB's. elect's BLOB columns hold at most 65,535 bytes, within the cap: a table altered
/// by someone else can hold more. `seq_1_to_10001` is the Sequence engine's table of numbers.
const MYSQL: Writes = Writes {
    run: mysql::sql,
    long_value: "ALTER TABLE elect_leases MODIFY value MEDIUMBLOB NOT NULL;
        UPDATE elect_leases SET value = REPEAT('x', 70000) WHERE election = 'job'",
    long_member: "ALTER TABLE elect_leases_members MODIFY value MEDIUMBLOB NOT NULL;
        INSERT INTO elect_leases_members (election, id, value, expires_at)
        VALUES ('job', 'huge', REPEAT('y', 70000), UTC_TIMESTAMP(6) + INTERVAL 1 HOUR)",
    shorten_member: "UPDATE elect_leases_members SET value = '' WHERE id = 'huge'",
    many_members: "INSERT INTO elect_leases_members (election, id, value, expires_at)
        SELECT 'job', CONCAT('m', seq), '', UTC_TIMESTAMP(6) + INTERVAL 1 HOUR FROM seq_1_to_10001",
};

fn oversized_rows_are_refused_naming_the_store(store: Store, name: &str, writes: Writes) {
    let server = Server::start(store, &format!("{name}-caps"));
    let uri = format!("{}?ttl=6s", server.uri());
    let e = first_outcome(&uri, "job", Duration::from_secs(20)).expect("elected");
    assert_eq!(e.leader().unwrap().unwrap().id, e.id());

    (writes.run)(&server, writes.long_value);
    let err = e.leader().expect_err("an oversized value was taken");
    assert!(
        err.message().starts_with(&format!("{name}: the value of a leader")),
        "{err}"
    );
    assert!(err.message().contains("longer than 65536 bytes"), "{err}");

    (writes.run)(&server, writes.long_member);
    let err = e.members().expect_err("an oversized member was taken");
    assert!(
        err.message().starts_with(&format!("{name}: the value of a member")),
        "{err}"
    );

    (writes.run)(&server, writes.shorten_member);
    (writes.run)(&server, writes.many_members);
    let err = e.members().expect_err("more than 10000 members were taken");
    assert!(err.message().contains("more than 10000 members"), "{err}");
    // The leader's own lease is unaffected: renewals go on.
    assert!(e.is_leader());
}

#[test]
fn postgres_oversized_rows_are_refused_naming_the_store() {
    oversized_rows_are_refused_naming_the_store(Store::Postgres, "postgres", POSTGRES);
}

#[test]
fn mysql_oversized_rows_are_refused_naming_the_store() {
    oversized_rows_are_refused_naming_the_store(Store::Mysql, "mysql", MYSQL);
}
