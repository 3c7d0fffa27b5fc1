//! What elect takes from a store is bounded (`backend::limits`): a leader or member whose id or
//! value is longer than elect ever writes, or a member list longer than the cap, is an error
//! naming the store. Written here into a real server behind elect's back, as another program or
//! a hostile server would.

use std::time::Duration;

use elect_testkit::postgres::psql;
use elect_testkit::wait::first_outcome;
use elect_testkit::{Server, Store};

#[test]
fn postgres_oversized_rows_are_refused_naming_the_store() {
    let pg = Server::start(Store::Postgres, "pg-caps");
    let uri = format!("{}?ttl=6s", pg.uri());
    let e = first_outcome(&uri, "job", Duration::from_secs(20)).expect("elected");
    assert_eq!(e.leader().unwrap().unwrap().id, e.id());

    psql(
        &pg,
        "UPDATE elect_leases SET value = repeat('x', 70000) WHERE election = 'job'",
    );
    let err = e.leader().expect_err("an oversized value was taken");
    assert!(
        err.message().starts_with("postgres: the value of a leader"),
        "{err}"
    );
    assert!(err.message().contains("longer than 65536 bytes"), "{err}");

    psql(
        &pg,
        "INSERT INTO elect_leases_members (election, id, value, expires_at)
         VALUES ('job', 'huge', repeat('y', 70000), now() + interval '1 hour')",
    );
    let err = e.members().expect_err("an oversized member was taken");
    assert!(
        err.message().starts_with("postgres: the value of a member"),
        "{err}"
    );

    psql(
        &pg,
        "UPDATE elect_leases_members SET value = '' WHERE id = 'huge';
         INSERT INTO elect_leases_members (election, id, value, expires_at)
         SELECT 'job', 'm' || i, '', now() + interval '1 hour' FROM generate_series(1, 10001) i",
    );
    let err = e.members().expect_err("more than 10000 members were taken");
    assert!(err.message().contains("more than 10000 members"), "{err}");
    // The leader's own lease is unaffected: renewals go on.
    assert!(e.is_leader());
}
