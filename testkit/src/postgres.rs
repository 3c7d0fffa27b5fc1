//! What the PostgreSQL tests and benchmarks do to their server directly: SQL as the superuser,
//! and counting the statements it executed.

use std::process::Command;

use crate::server::{Server, Store};

/// Runs SQL as the superuser over the cluster's private socket; returns psql's output.
pub fn psql(server: &Server, sql: &str) -> String {
    assert_eq!(server.store, Store::Postgres);
    // The cluster belongs to `postgres` when we are root (PostgreSQL refuses to run as root).
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "psql"]);
        c
    } else {
        Command::new("psql")
    };
    let out = cmd
        .args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"])
        .args(["-h", &server.var("ELECT_POSTGRES_SOCKET")])
        .args(["-p", &server.var("ELECT_POSTGRES_PORT")])
        .args(["-U", "postgres", "-d", "elect", "-c", sql])
        .output()
        .expect("cannot run psql");
    assert!(
        out.status.success(),
        "psql {sql:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Makes the server log every statement, for [`statements`].
pub fn log_statements(server: &Server) {
    psql(server, "ALTER SYSTEM SET log_statement = 'all'");
    psql(server, "SELECT pg_reload_conf()");
}

/// Statements the server logged so far (after [`log_statements`]). Exact, unlike
/// `pg_stat_database` counters, which sessions flush to shared memory only now and then.
pub fn statements(server: &Server) -> usize {
    let log = std::fs::read_to_string(server.var("ELECT_POSTGRES_LOG")).unwrap_or_default();
    log.lines()
        .filter(|l| l.contains("LOG:  statement: ") || l.contains("LOG:  execute "))
        .count()
}

/// Whether this process runs as root (servers that refuse root then run as `postgres`).
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}
