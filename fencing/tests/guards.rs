//! Each guard against its real server: a stale token is rejected and writes nothing; the newer
//! token and the same token again pass.

use elect_fencing::Error;
use elect_testkit::server::{unique, Server, Store};

/// The writes of the three guards in the same order: (token, value, expect stale).
const WRITES: [(u64, &str, bool); 5] = [
    (5, "a", false),
    (7, "b", false),
    (5, "stale", true),
    (7, "c", false),
    (6, "stale", true),
];

fn check(token: u64, stale: bool, r: Result<(), Error>) {
    match r {
        Err(Error::Stale(s)) if stale => {
            assert_eq!((s.token, s.highest), (token, Some(7)), "{s}");
        }
        Ok(()) if !stale => {}
        other => panic!("write under {token}: {other:?}, want stale={stale}"),
    }
}

#[tokio::test]
async fn postgres_rejects_a_stale_token() {
    use elect_fencing::postgres;
    let server = Server::shared(Store::Postgres);
    let (mut client, conn) = tokio_postgres::connect(&server.uri(), tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    let table = format!("rows_{}", unique().replace('-', "_"));
    client.batch_execute(postgres::CREATE_TABLE).await.unwrap();
    client
        .batch_execute(&format!(
            "CREATE TABLE {table} (token bigint NOT NULL, value text NOT NULL)"
        ))
        .await
        .unwrap();
    let insert = format!("INSERT INTO {table} VALUES ($1, $2)");
    for (token, value, stale) in WRITES {
        let t = token as i64;
        let r = postgres::execute(&mut client, &table, token, &insert, &[&t, &value]).await;
        check(token, stale, r.map(|n| assert_eq!(n, 1)));
    }
    let rows: Vec<(i64, String)> = client
        .query(
            &format!("SELECT token, value FROM {table} ORDER BY value"),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(rows, [(5, "a".into()), (7, "b".into()), (7, "c".into())]);
    let zero = postgres::execute(&mut client, &table, 0, &insert, &[]).await;
    assert!(
        matches!(zero, Err(Error::InvalidToken(ref m)) if m.contains("not leading")),
        "{zero:?}"
    );
    client
        .batch_execute(&format!("DROP TABLE {table}"))
        .await
        .unwrap();
}

#[tokio::test]
async fn etcd_rejects_a_stale_token() {
    use elect_fencing::etcd;
    let server = Server::start(Store::Etcd, "fence");
    let mut client = etcd_client::Client::connect([server.var("ELECT_ETCD_ENDPOINTS")], None)
        .await
        .expect("connect");
    for (token, value, stale) in WRITES {
        check(
            token,
            stale,
            etcd::put(&mut client, "jobs/fence", token, "jobs/data", value).await,
        );
        let got = client.get("jobs/data", None).await.unwrap();
        let now = got.kvs()[0].value_str().unwrap().to_string();
        assert_ne!(now, "stale", "a stale write landed");
    }
    let got = client.get("jobs/data", None).await.unwrap();
    assert_eq!(got.kvs()[0].value_str().unwrap(), "c");
    // Tokens of different lengths still compare as numbers (9 < 10).
    check(
        10,
        false,
        etcd::put(&mut client, "n/fence", 10, "n/data", "x").await,
    );
    assert!(etcd::put(&mut client, "n/fence", 9, "n/data", "y")
        .await
        .unwrap_err()
        .is_stale());
}

#[tokio::test]
async fn redis_rejects_a_stale_token() {
    use elect_fencing::redis as fenced;
    let server = Server::start(Store::Redis, "fence");
    let client = redis::Client::open(server.uri()).unwrap();
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    for (token, value, stale) in WRITES {
        let r = fenced::set(
            &mut con,
            "{jobs}:fence",
            token,
            "{jobs}:data",
            value.as_bytes(),
        )
        .await;
        check(token, stale, r);
    }
    let got: String = redis::cmd("GET")
        .arg("{jobs}:data")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(got, "c");
}

#[tokio::test]
async fn mysql_rejects_a_stale_token() {
    use elect_fencing::mysql;
    use mysql_async::prelude::Queryable;
    let server = Server::shared(Store::Mysql);
    let uri = server.uri();
    let opts = mysql_async::Opts::from_url(uri.split('?').next().unwrap()).expect("URI");
    let mut conn = mysql_async::Conn::new(opts).await.expect("connect");
    let table = format!("rows_{}", unique());
    conn.query_drop(mysql::CREATE_TABLE).await.unwrap();
    conn.query_drop(format!(
        "CREATE TABLE {table} (token bigint NOT NULL, value text NOT NULL) ENGINE=InnoDB"
    ))
    .await
    .unwrap();
    let insert = format!("INSERT INTO {table} VALUES (?, ?)");
    for (token, value, stale) in WRITES {
        let t = token as i64;
        let r = mysql::execute(&mut conn, &table, token, &insert, &[&t, &value]).await;
        check(token, stale, r.map(|n| assert_eq!(n, 1)));
    }
    let rows: Vec<(i64, String)> = conn
        .query(format!("SELECT token, value FROM {table} ORDER BY value"))
        .await
        .unwrap();
    assert_eq!(rows, [(5, "a".into()), (7, "b".into()), (7, "c".into())]);
    conn.query_drop(format!("DROP TABLE {table}"))
        .await
        .unwrap();
}

#[cfg(feature = "http")]
#[path = "guards/http.rs"]
mod http;
