//! What elect takes from a store is bounded (`backend::limits`): a leader or member whose id or
//! value is longer than elect ever writes, or a member list longer than the cap, is an error
//! naming the store. Written here into a real server of every store behind elect's back, as
//! another program or a hostile server would; the leader's own lease is unaffected.

use std::time::Duration;

use elect_core::Election;
use elect_testkit::postgres::psql;
use elect_testkit::wait::first_outcome;
use elect_testkit::{Server, Store};
use zookeeper_client as zk;

const WAIT: Duration = Duration::from_secs(20);
/// One more than elect's bound of 65536 bytes per id or value.
const HUGE: usize = 70_000;
/// One more member than elect accepts.
const CROWD: usize = 10_001;

/// Elected as `job` on `uri`, the leader reading itself back.
fn leading(uri: &str) -> Election {
    let e = first_outcome(&format!("{uri}ttl=6s"), "job", WAIT).expect("elected");
    assert_eq!(e.leader().unwrap().unwrap().id, e.id());
    e
}

/// `e.leader()` fails, naming `store` and the leader's oversized value.
fn leader_refused(e: &Election, store: &str) {
    let err = e.leader().expect_err("an oversized leader was taken");
    let m = err.message();
    assert!(
        m.starts_with(&format!("{store}: the value of a leader")),
        "{err}"
    );
    assert!(m.contains("longer than 65536 bytes"), "{err}");
}

/// `e.members()` fails, naming `store` and what is too large (`the value of a member` or
/// `more than 10000 members`).
fn members_refused(e: &Election, store: &str, what: &str) {
    let err = e.members().expect_err("oversized members were taken");
    assert!(err.message().starts_with(&format!("{store}: ")), "{err}");
    assert!(err.message().contains(what), "{err}");
}

#[test]
fn postgres_oversized_rows_are_refused_naming_the_store() {
    let pg = Server::start(Store::Postgres, "pg-caps");
    let e = leading(&format!("{}?", pg.uri()));
    psql(
        &pg,
        "UPDATE elect_leases SET value = repeat('x', 70000) WHERE election = 'job'",
    );
    leader_refused(&e, "postgres");
    psql(
        &pg,
        "INSERT INTO elect_leases_members (election, id, value, expires_at)
         VALUES ('job', 'huge', repeat('y', 70000), now() + interval '1 hour')",
    );
    members_refused(&e, "postgres", "the value of a member");
    psql(
        &pg,
        "UPDATE elect_leases_members SET value = '' WHERE id = 'huge';
         INSERT INTO elect_leases_members (election, id, value, expires_at)
         SELECT 'job', 'm' || i, '', now() + interval '1 hour' FROM generate_series(1, 10001) i",
    );
    members_refused(&e, "postgres", "more than 10000 members");
    assert!(e.is_leader());
}

#[test]
fn mysql_oversized_rows_are_refused_naming_the_store() {
    use elect_testkit::mysql::sql;
    let my = Server::start(Store::Mysql, "my-caps");
    let e = leading(&format!("{}?", my.uri()));
    // elect's BLOB columns hold at most 65535 bytes: another program widened them.
    sql(
        &my,
        "ALTER TABLE elect_leases MODIFY value MEDIUMBLOB NOT NULL;
         ALTER TABLE elect_leases_members MODIFY value MEDIUMBLOB NOT NULL;
         UPDATE elect_leases SET value = REPEAT('x', 70000) WHERE election = 'job'",
    );
    leader_refused(&e, "mysql");
    sql(
        &my,
        "INSERT INTO elect_leases_members (election, id, value, expires_at)
         VALUES ('job', 'huge', REPEAT('y', 70000), UTC_TIMESTAMP(6) + INTERVAL 1 HOUR)",
    );
    members_refused(&e, "mysql", "the value of a member");
    sql(
        &my,
        "UPDATE elect_leases_members SET value = '' WHERE id = 'huge';
         INSERT INTO elect_leases_members (election, id, value, expires_at)
         SELECT 'job', CONCAT('m', seq), '', UTC_TIMESTAMP(6) + INTERVAL 1 HOUR
         FROM seq_1_to_10001",
    );
    members_refused(&e, "mysql", "more than 10000 members");
    assert!(e.is_leader());
}

#[test]
fn redis_oversized_replies_are_refused_naming_the_store() {
    use elect_testkit::redis::cli;
    let server = Server::start(Store::Redis, "redis-caps");
    let e = leading(&format!("{}?", server.uri()));
    let fill = "redis.call('HSET', KEYS[1], ARGV[1], string.rep('x', 70000))";
    cli(&server, &["EVAL", fill, "1", "elect:{job}:leader", "value"]);
    leader_refused(&e, "redis");
    // A member of another program's making (elect's own value is written at every renewal).
    cli(
        &server,
        &["ZADD", "elect:{job}:members", "99999999999999", "huge"],
    );
    cli(&server, &["EVAL", fill, "1", "elect:{job}:values", "huge"]);
    members_refused(&e, "redis", "the value of a member");
    cli(&server, &["HDEL", "elect:{job}:values", "huge"]);
    let crowd = "for i = 1, tonumber(ARGV[1]) do \
                 redis.call('ZADD', KEYS[1], 99999999999999, 'm' .. i) end";
    cli(
        &server,
        &[
            "EVAL",
            crowd,
            "1",
            "elect:{job}:members",
            &CROWD.to_string(),
        ],
    );
    members_refused(&e, "redis", "more than 10000 members");
    assert!(e.is_leader());
}

#[test]
fn etcd_oversized_keys_are_refused_naming_the_store() {
    let server = Server::start(Store::Etcd, "etcd-caps");
    let endpoint = server.var("ELECT_ETCD_ENDPOINTS");
    let e = leading(&format!("{}/caps?", server.uri()));
    let id = e.id().to_string();
    elect_core::runtime::block_on(async move {
        let client = etcd_client::Client::connect([endpoint], None)
            .await
            .unwrap();
        let mut kv = client.kv_client();
        // The leader's key, its lease kept: its value replaced.
        let opts = etcd_client::GetOptions::new().with_prefix();
        let resp = kv.get("caps/job/", Some(opts)).await.unwrap();
        let key = resp.kvs()[0].key().to_vec();
        let value = format!("{id}\t{}", "x".repeat(HUGE));
        let keep = etcd_client::PutOptions::new().with_ignore_lease();
        kv.put(key, value, Some(keep)).await.unwrap();
    })
    .unwrap();
    leader_refused(&e, "etcd");
    members_refused(&e, "etcd", "the value of a member");

    let endpoint = server.var("ELECT_ETCD_ENDPOINTS");
    elect_core::runtime::block_on(async move {
        let client = etcd_client::Client::connect([endpoint], None)
            .await
            .unwrap();
        let mut puts = tokio::task::JoinSet::new();
        for i in 0..CROWD {
            let mut kv = client.kv_client();
            puts.spawn(async move { kv.put(format!("caps/job/m{i:05}"), "m\t", None).await });
        }
        while let Some(put) = puts.join_next().await {
            put.unwrap().unwrap();
        }
    })
    .unwrap();
    members_refused(&e, "etcd", "more than 10000 members");
}

#[test]
fn zookeeper_oversized_nodes_are_refused_naming_the_store() {
    let server = Server::start(Store::Zk, "zk-caps");
    let hosts = server.uri().trim_start_matches("zk://").to_string();
    let e = leading(&format!("zk://{hosts}/caps?"));
    let id = e.id().to_string();
    elect_core::runtime::block_on(async move {
        let client = zk::Client::connector().connect(&hosts).await.unwrap();
        let children = client.list_children("/caps/job").await.unwrap();
        let leader = children.iter().min_by_key(|c| &c[c.len() - 10..]).unwrap();
        let value = format!("{id}\n{}", "x".repeat(HUGE));
        let path = format!("/caps/job/{leader}");
        client
            .set_data(&path, value.as_bytes(), None)
            .await
            .unwrap();
        // Nodes named as candidates are, by another program.
        let mut creates = tokio::task::JoinSet::new();
        for _ in 0..CROWD {
            let client = client.clone();
            creates.spawn(async move {
                let options =
                    zk::CreateMode::PersistentSequential.with_acls(zk::Acls::anyone_all());
                client
                    .create("/caps/job/_c_other-n_", b"m\n", &options)
                    .await
                    .map(drop)
            });
        }
        while let Some(create) = creates.join_next().await {
            create.unwrap().unwrap();
        }
    })
    .unwrap();
    leader_refused(&e, "zookeeper");
    members_refused(&e, "zookeeper", "more than 10000 members");
}

/// A server that answers every connection with a reply frame announcing 2 GiB is refused at
/// once, naming the announced length (the vendored client's frame cap), instead of buffering
/// whatever it goes on to send. No real server announces such a frame, hence this listener.
#[test]
fn zookeeper_oversized_reply_frame_is_refused() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                let mut request = [0u8; 64];
                let _ = conn.read(&mut request);
                let _ = conn.write_all(&i32::MAX.to_be_bytes());
                let _ = conn.write_all(&[0u8; 1024]);
                // Held open: only the announced length may end the session.
                let _ = conn.read(&mut request);
            });
        }
    });
    let uri = format!("zk://127.0.0.1:{port}/caps?connect_timeout=10s");
    let outcome = first_outcome(&uri, "job", WAIT);
    let err = outcome.err().expect("elected through a hostile server");
    assert!(
        err.contains("announced a reply of 2147483647 bytes"),
        "{err}"
    );
}
