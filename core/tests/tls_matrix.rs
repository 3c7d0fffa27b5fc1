//! TLS on every server store, against real servers that `scripts/servers/*` start serving TLS
//! only and requiring a client certificate, with certificates made by openssl for
//! `IP:127.0.0.1` alone (`ELECT_TLS_SAN`):
//!
//! | case | connection string | outcome |
//! |---|---|---|
//! | verified | CA and client certificate | elected |
//! | wrong CA | the CA option naming a CA the test made | refused: an unknown issuer |
//! | wrong host | `localhost` for `127.0.0.1`: the same server, a name its certificate lacks | refused: not valid for the name |
//! | no client certificate | the client certificate options left out | refused, saying why |
//! | plain text | the TLS options left out | refused |
//! | TLS to a plain server | the TLS options, to a server of the store without TLS | refused, saying why |
//!
//! "Refused" is an error at `open` or the first event after `start`, never `Elected` and never
//! silence: a refusal that does not arrive within [`WAIT`] fails the case.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use elect_testkit::wait::first_outcome;
use elect_testkit::{Server, Store};

/// How long a refused connection may take to be reported (a timeout of 3 s, and retries on a
/// loaded machine).
const WAIT: Duration = Duration::from_secs(20);
const OPTIONS: &str = "connect_timeout=3s&ttl=6s&id=a";

/// What opening, starting and waiting for the first `Elected` or `Error` event came to.
fn outcome(uri: &str) -> Result<(), String> {
    first_outcome(uri, "tls-matrix", WAIT).map(drop)
}

/// The error `uri` is refused with; fails the test if it elects or nothing comes (a hang).
fn refused(name: &str, case: &str, uri: &str) -> String {
    let started = Instant::now();
    let e = outcome(uri).expect_err(&format!("{name}, {case}: elected"));
    eprintln!("{name}, {case} ({:.1?}): {e}", started.elapsed());
    assert!(
        !e.starts_with("neither elected nor an error"),
        "{name}, {case}: no error reported: {e}"
    );
    e
}

/// Asserts that `e` contains one of `words` (a clear reason, not just any failure).
fn says(name: &str, case: &str, e: &str, words: &[impl AsRef<str> + std::fmt::Debug]) {
    assert!(
        words.iter().any(|w| e.contains(w.as_ref())),
        "{name}, {case}: expected one of {words:?} in: {e}"
    );
}

/// `uri` with option `key` set to `value` (replaced if present).
fn with_option(uri: &str, key: &str, value: &str) -> String {
    let (base, query) = uri.split_once('?').unwrap_or((uri, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with(&format!("{key}=")))
        .map(str::to_string)
        .collect();
    pairs.push(format!("{key}={value}"));
    format!("{base}?{}", pairs.join("&"))
}

/// `uri` without the options named.
fn without_options(uri: &str, keys: &[&str]) -> String {
    let (base, query) = uri.split_once('?').unwrap_or((uri, ""));
    let pairs: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !keys.iter().any(|k| p.starts_with(&format!("{k}="))))
        .collect();
    format!("{base}?{}", pairs.join("&"))
}

/// A CA of the test's own, which signed none of the servers.
fn foreign_ca(tag: &str) -> String {
    let dir =
        elect_testkit::server::run_dir().join(format!("tls-matrix-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.crt");
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=not the servers' CA", "-keyout"])
        .arg(dir.join("ca.key"))
        .arg("-out")
        .arg(&ca)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "openssl failed");
    ca.display().to_string()
}

/// One store's row: its TLS server (requiring a client certificate), its verified connection
/// string, and the variants of it for the refused cases with the words their errors must hold.
struct Row {
    store: Store,
    _server: Server,
    uri: String,
    /// The option that names the CA.
    ca_option: String,
    /// The options of the client certificate.
    cert_options: [String; 2],
    /// What the error says when the client certificate is left out.
    no_cert_says: Vec<String>,
    /// A plain-text client of the TLS server, and what its error says.
    plain: String,
    plain_says: &'static [&'static str],
    /// A TLS client of a plain server of the store, and what its error says (PostgreSQL's is in
    /// `postgres_tls.rs`, against a listener that declines TLS).
    to_plain: Option<(String, &'static [&'static str])>,
}

fn tls_server(store: Store, how: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let mut env = env.to_vec();
    env.push(("ELECT_TLS_SAN", "IP:127.0.0.1"));
    Server::launch_with_env(store, "tls", how, extra, &env)
}

impl Row {
    /// The row of a store whose TLS options are `ca`, `cert` and `key` behind `prefix` (etcd and
    /// ZooKeeper: none; Redis: `tls_`). `plain` is `uri` for a plain-text client, before those
    /// options are left out.
    fn pem(
        store: Store,
        server: Server,
        uri: String,
        prefix: &str,
        (plain, plain_says): (&str, &'static [&'static str]),
        to_plain: (String, &'static [&'static str]),
    ) -> Row {
        let [ca, cert, key] = ["ca", "cert", "key"].map(|o| format!("{prefix}{o}"));
        Row {
            store,
            plain: without_options(plain, &[ca.as_str(), cert.as_str(), key.as_str()]),
            plain_says,
            to_plain: Some(to_plain),
            _server: server,
            uri,
            no_cert_says: vec![
                "BadCertificate".into(),
                "CertificateRequired".into(),
                format!("give `{cert}` and `{key}`"),
            ],
            ca_option: ca,
            cert_options: [cert, key],
        }
    }

    /// The row of a SQL store: libpq's options, its plain-text client `sslmode=disable`.
    fn sql(store: Store, server: Server, uri: String, plain_says: &'static [&'static str]) -> Row {
        let no_cert_says = match store {
            Store::Postgres => "requires a valid client certificate",
            _ => "REQUIRE X509",
        };
        Row {
            store,
            plain: with_option(&uri, "sslmode", "disable"),
            plain_says,
            to_plain: None,
            _server: server,
            uri,
            ca_option: "sslrootcert".into(),
            cert_options: ["sslcert".into(), "sslkey".into()],
            no_cert_says: vec![no_cert_says.into()],
        }
    }
}

/// `uri` with the test's timing options and id.
fn timed(uri: &str) -> String {
    format!("{}&{OPTIONS}", with_option(uri, "connect_timeout", "3s"))
}

fn check(row: &Row) {
    let name = row.store.script_name();
    let uri = timed(&row.uri);

    outcome(&uri).unwrap_or_else(|e| panic!("{name}: verified connection failed: {e}"));

    let ca = foreign_ca(name);
    let e = refused(name, "wrong CA", &with_option(&uri, &row.ca_option, &ca));
    says(name, "wrong CA", &e, &["UnknownIssuer"]);

    let localhost = uri.replacen("127.0.0.1", "localhost", 1);
    let e = refused(name, "wrong host", &localhost);
    says(name, "wrong host", &e, &["not valid for name"]);

    let cert_options = row.cert_options.each_ref().map(String::as_str);
    let e = refused(
        name,
        "no client certificate",
        &without_options(&uri, &cert_options),
    );
    says(name, "no client certificate", &e, &row.no_cert_says);

    let e = refused(name, "plain text", &timed(&row.plain));
    says(name, "plain text", &e, row.plain_says);

    if let Some((to_plain, words)) = &row.to_plain {
        let e = refused(name, "TLS to a plain server", &timed(to_plain));
        says(name, "TLS to a plain server", &e, *words);
    }
    let _ = std::fs::remove_dir_all(std::path::Path::new(&ca).parent().unwrap());
}

/// The TLS options of `uri` (everything after `?`).
fn query(uri: &str) -> &str {
    uri.split_once('?').map_or("", |(_, q)| q)
}

/// The shared plain server of `store` (etcd, ZooKeeper), kept running while the handle lives,
/// and its connection string with `uri`'s TLS options.
fn to_shared_plain(store: Store, uri: &str) -> (Arc<Server>, String) {
    let server = Server::shared(store);
    let uri = format!("{}/tls-matrix?{}", server.uri(), query(uri));
    (server, uri)
}

#[test]
fn etcd() {
    // start-tls: the server requires a client certificate (`--client-cert-auth`).
    let server = tls_server(Store::Etcd, "start-tls", &[], &[]);
    let uri = server.uri();
    let (_plain_server, to_plain) = to_shared_plain(Store::Etcd, &uri);
    let plain = (uri.as_str(), &["if they serve TLS"][..]);
    check(&Row::pem(
        Store::Etcd,
        server,
        uri.clone(),
        "",
        plain,
        // A plain etcd answers a ClientHello by closing the connection; whether the client
        // reads that as an end of stream or a reset depends on timing.
        (to_plain, &["tls handshake eof", "Connection reset by peer"]),
    ));
}

#[test]
fn zookeeper() {
    let server = tls_server(
        Store::Zk,
        "start",
        &["--tls"],
        &[("ELECT_ZK_CLIENT_AUTH", "need")],
    );
    let uri = format!(
        "{}&cert={}&key={}",
        server.uri().replacen('?', "/tls-matrix?", 1),
        server.var("ELECT_ZK_CLIENT_CERT"),
        server.var("ELECT_ZK_CLIENT_KEY"),
    );
    let (_plain_server, to_plain) = to_shared_plain(Store::Zk, &uri);
    let to_plain = (
        to_plain,
        &["closed the connection during the TLS handshake"][..],
    );
    let plain = (uri.as_str(), &["the first server answers TLS"][..]);
    check(&Row::pem(
        Store::Zk,
        server,
        uri.clone(),
        "",
        plain,
        to_plain,
    ));
}

#[test]
fn redis() {
    let server = tls_server(
        Store::Redis,
        "start",
        &["--tls"],
        &[("ELECT_REDIS_CLIENT_AUTH", "yes")],
    );
    let uri = format!(
        "{}&tls_cert={}&tls_key={}",
        server.uri(),
        server.var("ELECT_REDIS_CLIENT_CERT"),
        server.var("ELECT_REDIS_CLIENT_KEY"),
    );
    let plain_server = Server::shared(Store::Redis);
    let to_plain = format!(
        "{}?{}",
        plain_server.uri().replacen("redis://", "rediss://", 1),
        query(&uri)
    );
    let plain = uri.replacen("rediss://", "redis://", 1);
    check(&Row::pem(
        Store::Redis,
        server,
        uri,
        "tls_",
        (&plain, &["the server answers TLS"]),
        (to_plain, &["does not answer a TLS handshake"]),
    ));
}

#[test]
fn postgres() {
    // Role `elect_cert` logs in with its client certificate only, over TLS only (pg_hba.conf
    // `cert`, which implies `clientcert=verify-full`).
    let server = tls_server(Store::Postgres, "start", &[], &[]);
    let uri = format!(
        "postgres://elect_cert@127.0.0.1:{}/elect?sslmode=verify-full&sslrootcert={}&sslcert={}&sslkey={}",
        server.var("ELECT_POSTGRES_PORT"),
        server.var("ELECT_POSTGRES_CA"),
        server.var("ELECT_POSTGRES_CLIENT_CERT"),
        server.var("ELECT_POSTGRES_CLIENT_KEY"),
    );
    check(&Row::sql(Store::Postgres, server, uri, &["no encryption"]));
}

#[test]
fn mysql() {
    // TLS only (`require_secure_transport`); user `elect_x509` is created `REQUIRE X509`.
    let server = tls_server(Store::Mysql, "start", &[], &[("ELECT_MYSQL_TLS_ONLY", "1")]);
    let uri = format!(
        "{}?sslmode=verify-full&sslrootcert={}&sslcert={}&sslkey={}",
        server.var("ELECT_MYSQL_X509_URI"),
        server.var("ELECT_MYSQL_CA"),
        server.var("ELECT_MYSQL_CLIENT_CERT"),
        server.var("ELECT_MYSQL_CLIENT_KEY"),
    );
    let row = Row::sql(Store::Mysql, server, uri, &["requires TLS"]);
    check(&row);
    // verify-ca checks the chain only: a name the certificate lacks does not matter.
    let verify_ca = with_option(
        &row.uri.replacen("127.0.0.1", "localhost", 1),
        "sslmode",
        "verify-ca",
    );
    outcome(&timed(&verify_ca)).expect("verify-ca elects under a name the certificate lacks");
    let ca = foreign_ca("mysql-verify-ca");
    let e = refused(
        "mysql",
        "verify-ca, wrong CA",
        &timed(&with_option(&verify_ca, "sslrootcert", &ca)),
    );
    says("mysql", "verify-ca, wrong CA", &e, &["UnknownIssuer"]);
    let _ = std::fs::remove_dir_all(std::path::Path::new(&ca).parent().unwrap());
}
