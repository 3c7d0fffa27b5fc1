//! A real PostgreSQL cluster for one test: `elect_testkit::Server` under the names the
//! PostgreSQL test files use, with `psql` as the superuser, the statement log, and PgBouncer.

#![allow(dead_code)] // each user needs a different part

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use elect_testkit::postgres::{self, is_root};
use elect_testkit::{Server, Store};

pub struct PgServer {
    pub instance: String,
    server: Server,
    env: HashMap<String, String>,
}

impl PgServer {
    pub fn start(tag: &str) -> PgServer {
        Self::start_with_env(tag, &[])
    }

    /// Starts a cluster whose server processes run with `env` added to their environment (for
    /// example an `LD_PRELOAD` that shifts their clock).
    pub fn start_with_env(tag: &str, env: &[(&str, &str)]) -> PgServer {
        let server = Server::launch_with_env(Store::Postgres, tag, "start", &[], env);
        PgServer {
            instance: server.name.clone(),
            env: server.vars(),
            server,
        }
    }

    /// Starts the cluster again after [`PgServer::halt`]: same data, same port.
    pub fn start_again(&mut self) {
        self.server.start_again();
        self.env = self.server.vars();
    }

    /// Stops the server, keeping its data.
    pub fn halt(&self) {
        self.server.stop();
    }

    /// SIGSTOPs (SIGCONTs) the postmaster and its backends: a frozen server.
    pub fn pause(&self) {
        self.server.pause();
    }

    pub fn resume(&self) {
        self.server.resume();
    }

    pub fn pid(&self) -> u32 {
        self.server.pid()
    }

    pub fn var(&self, name: &str) -> &str {
        &self.env[name]
    }

    /// `postgres://elect:...@127.0.0.1:port/elect`, a role that may create tables.
    pub fn uri(&self) -> &str {
        self.var("ELECT_POSTGRES_URI")
    }

    pub fn password(&self) -> &str {
        self.var("ELECT_POSTGRES_PASSWORD")
    }

    /// Runs SQL as the superuser over the cluster's private socket; returns psql's output.
    pub fn psql(&self, sql: &str) -> String {
        postgres::psql(&self.server, sql)
    }

    /// Makes the server log every statement, for [`PgServer::statements`].
    pub fn log_statements(&self) {
        postgres::log_statements(&self.server)
    }

    /// Statements the server logged so far (after [`PgServer::log_statements`]).
    pub fn statements(&self) -> usize {
        postgres::statements(&self.server)
    }
}

/// A PgBouncer in front of a [`PgServer`], on a random loopback port, stopped when dropped.
pub struct PgBouncer {
    dir: PathBuf,
    process: std::process::Child,
    pub uri: String,
}

impl PgBouncer {
    /// `mode` is PgBouncer's `pool_mode`: session, transaction or statement.
    pub fn start(pg: &PgServer, mode: &str) -> PgBouncer {
        let dir =
            elect_testkit::server::run_dir().join(format!("pgbouncer-{}-{mode}", pg.instance));
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let pw = pg.password();
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
