//! TLS on every server store, against real servers that `scripts/servers/*` start serving TLS
//! only, with certificates made by openssl for `IP:127.0.0.1` alone (`ELECT_TLS_SAN`):
//!
//! | case | connection string | outcome |
//! |---|---|---|
//! | verified | as the script exported it (CA; etcd and PostgreSQL with a client certificate) | elected |
//! | wrong CA | the CA option naming a CA the test made | refused: an unknown issuer |
//! | wrong host | `localhost` for `127.0.0.1`: the same server, a name its certificate lacks | refused: not valid for the name |
//! | plain text | the TLS options left out | refused |
//!
//! "Refused" is an error at `open` or the first event after `start`, never `Elected`, with a
//! message that says what is wrong.

use std::process::Command;
use std::time::Duration;

use elect_testkit::wait::first_outcome;
use elect_testkit::{Server, Store};

/// How long a refused connection may take to be reported (a timeout of 3 s, and retries).
const WAIT: Duration = Duration::from_secs(30);
const OPTIONS: &str = "connect_timeout=3s&ttl=6s&id=a";

/// What opening, starting and waiting for the first `Elected` or `Error` event came to.
fn outcome(uri: &str) -> Result<(), String> {
    first_outcome(uri, "tls-matrix", WAIT).map(drop)
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

/// One store's row: its TLS server, its verified connection string, the option that names the
/// CA, the options that switch TLS on, and what its errors say in each refused case.
struct Row {
    store: Store,
    server: Server,
    uri: String,
    ca_option: &'static str,
    tls_options: &'static [&'static str],
    /// The connection string of a plain-text client (default: `uri` without `tls_options`).
    plain: Option<String>,
}

fn tls_server(store: Store, how: &str, extra: &[&str]) -> Server {
    Server::launch_with_env(
        store,
        "tls",
        how,
        extra,
        &[("ELECT_TLS_SAN", "IP:127.0.0.1")],
    )
}

fn check(row: Row) {
    let name = row.store.script_name();
    let uri = with_option(&row.uri, "connect_timeout", "3s");
    let uri = format!("{uri}&{OPTIONS}");

    outcome(&uri).unwrap_or_else(|e| panic!("{name}: verified connection failed: {e}"));

    let ca = foreign_ca(name);
    let e = outcome(&with_option(&uri, row.ca_option, &ca))
        .expect_err(&format!("{name}: elected with a CA that signed nothing"));
    eprintln!("{name}, wrong CA: {e}");
    assert!(e.contains("UnknownIssuer"), "{name}, wrong CA: {e}");

    let e = outcome(&uri.replacen("127.0.0.1", "localhost", 1)).expect_err(&format!(
        "{name}: elected with a name the certificate lacks"
    ));
    eprintln!("{name}, wrong host: {e}");
    assert!(e.contains("not valid for name"), "{name}, wrong host: {e}");

    let plain = row
        .plain
        .clone()
        .unwrap_or_else(|| without_options(&uri, row.tls_options));
    let e = outcome(&plain).expect_err(&format!("{name}: elected over plain text"));
    eprintln!("{name}, plain text: {e}");
    assert!(!e.is_empty(), "{name}, plain text: an empty message");
    drop(row.server);
    let _ = std::fs::remove_dir_all(std::path::Path::new(&ca).parent().unwrap());
}

/// etcd and ZooKeeper take TLS from options `ca`, `cert` and `key`; `path` goes before the query.
fn ca_cert_key(store: Store, how: &str, extra: &[&str], path: &str) {
    let server = tls_server(store, how, extra);
    let uri = server.uri().replacen('?', &format!("{path}?"), 1);
    check(Row {
        store,
        server,
        uri,
        ca_option: "ca",
        tls_options: &["ca", "cert", "key"],
        plain: None,
    });
}

#[test]
fn etcd() {
    // start-tls: the server requires a client certificate, which the URI carries.
    ca_cert_key(Store::Etcd, "start-tls", &[], "");
}

#[test]
fn zookeeper() {
    ca_cert_key(Store::Zk, "start", &["--tls"], "/tls-matrix");
}

#[test]
fn redis() {
    let server = tls_server(Store::Redis, "start", &["--tls"]);
    let uri = server.uri();
    let plain = without_options(&uri.replacen("rediss://", "redis://", 1), &["tls_ca"]);
    check(Row {
        store: Store::Redis,
        server,
        uri,
        ca_option: "tls_ca",
        tls_options: &["tls_ca"],
        plain: Some(plain),
    });
}

#[test]
fn postgres() {
    // Role `elect_cert` logs in with its client certificate, over TLS only (pg_hba.conf).
    let server = tls_server(Store::Postgres, "start", &[]);
    let uri = format!(
        "postgres://elect_cert@127.0.0.1:{}/elect?sslmode=verify-full&sslrootcert={}&sslcert={}&sslkey={}",
        server.var("ELECT_POSTGRES_PORT"),
        server.var("ELECT_POSTGRES_CA"),
        server.var("ELECT_POSTGRES_CLIENT_CERT"),
        server.var("ELECT_POSTGRES_CLIENT_KEY"),
    );
    let plain = with_option(&uri, "sslmode", "disable");
    check(Row {
        store: Store::Postgres,
        server,
        uri,
        ca_option: "sslrootcert",
        tls_options: &[],
        plain: Some(plain),
    });
}
