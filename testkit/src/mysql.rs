//! What the MySQL/MariaDB tests and benchmarks do to their server directly: SQL as root, and
//! the server's status counters (its own sessions skip TLS, so they add no `Ssl_accepts`).

use std::process::Command;

use crate::server::{Server, Store};

/// Runs SQL as root over the server's private socket, in database `elect`; returns the rows,
/// tab-separated, without headers.
pub fn sql(server: &Server, sql: &str) -> String {
    assert_eq!(server.store, Store::Mysql);
    let out = Command::new("mariadb")
        .args(["--no-defaults", "--skip-ssl", "-N", "-B", "-u", "root"])
        .args(["-S", &server.var("ELECT_MYSQL_SOCKET")])
        .args(["elect", "-e", sql])
        .output()
        .expect("cannot run mariadb");
    assert!(
        out.status.success(),
        "mariadb {sql:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A global status counter (`Com_update`, `Ssl_accepts`, ...).
pub fn status(server: &Server, name: &str) -> u64 {
    let out = sql(server, &format!("SHOW GLOBAL STATUS LIKE '{name}'"));
    let value = out.split_whitespace().nth(1);
    value
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no status counter {name}: {out:?}"))
}
