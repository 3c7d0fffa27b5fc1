//! What the PostgreSQL tests and benchmarks do to their server directly: SQL as the superuser,
//! counting the statements it executed, and a PgBouncer in front of it.

use std::path::PathBuf;
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

/// A PgBouncer in front of a PostgreSQL [`Server`], on a random loopback port, stopped when dropped.
pub struct PgBouncer {
    dir: PathBuf,
    process: std::process::Child,
    pub uri: String,
}

impl PgBouncer {
    /// `mode` is PgBouncer's `pool_mode`: session, transaction or statement.
    pub fn start(pg: &Server, mode: &str) -> PgBouncer {
        let dir = crate::server::run_dir().join(format!("pgbouncer-{}-{mode}", pg.name));
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let pw = pg.var("ELECT_POSTGRES_PASSWORD");
        std::fs::write(dir.join("userlist.txt"), format!("\"elect\" \"{pw}\"\n")).unwrap();
        std::fs::write(
            dir.join("pgbouncer.ini"),
            format!(
                "[databases]\nelect = host=127.0.0.1 port={} dbname=elect\n\
                 [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
                 auth_type = scram-sha-256\nauth_file = {}\npool_mode = {mode}\n\
                 logfile = {}\npidfile =\nserver_tls_sslmode = disable\n",
                pg.var("ELECT_POSTGRES_PORT"),
                dir.join("userlist.txt").display(),
                dir.join("pgbouncer.log").display(),
            ),
        )
        .unwrap();
        // PgBouncer refuses to run as root.
        let mut cmd = if is_root() {
            let _ = Command::new("chown")
                .args(["-R", "postgres:", dir.to_str().unwrap()])
                .status();
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "pgbouncer"]);
            c
        } else {
            Command::new("pgbouncer")
        };
        let process = cmd
            .arg("--quiet") // it logs to its logfile
            .arg(dir.join("pgbouncer.ini"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("cannot start pgbouncer (run scripts/setup)");
        let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < end, "pgbouncer did not start");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        PgBouncer {
            uri: format!("postgres://elect:{pw}@127.0.0.1:{port}/elect"),
            dir,
            process,
        }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        // `runuser` forwards the signal to pgbouncer.
        let _ = Command::new("kill")
            .args(["-TERM", &self.process.id().to_string()])
            .status();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
