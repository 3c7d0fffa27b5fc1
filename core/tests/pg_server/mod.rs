//! A real PostgreSQL cluster for one test (or benchmark), started by `scripts/servers/postgres`
//! and stopped (data removed) when dropped, also when the test fails.

#![allow(dead_code)] // each user needs a different part

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

pub struct PgServer {
    pub instance: String,
    env: HashMap<String, String>,
    /// Environment of the server processes (see [`PgServer::start_with_env`]).
    launch_env: Vec<(String, String)>,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/servers/postgres")
}

fn run(args: &[&str]) -> String {
    run_env(args, &[])
}

fn run_env(args: &[&str], env: &[(String, String)]) -> String {
    let out = Command::new(script())
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("cannot run scripts/servers/postgres");
    assert!(
        out.status.success(),
        "scripts/servers/postgres {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

impl PgServer {
    pub fn start(tag: &str) -> PgServer {
        Self::start_with_env(tag, &[])
    }

    /// Starts a cluster whose server processes run with `env` added to their environment (for
    /// example an `LD_PRELOAD` that shifts their clock).
    pub fn start_with_env(tag: &str, env: &[(&str, &str)]) -> PgServer {
        static N: AtomicU32 = AtomicU32::new(0);
        let instance = format!(
            "{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut server = PgServer {
            instance,
            env: HashMap::new(),
            launch_env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        server.start_again();
        server
    }

    /// Starts the cluster again after [`PgServer::halt`]: same data, same port.
    pub fn start_again(&mut self) {
        let out = run_env(&["start", &self.instance], &self.launch_env);
        self.env = out
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
            .collect();
    }

    /// Stops the server, keeping its data.
    pub fn halt(&self) {
        run(&["halt", &self.instance]);
    }

    pub fn pid(&self) -> u32 {
        run(&["pid", &self.instance]).trim().parse().unwrap()
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
            .args([
                "-h",
                self.var("ELECT_POSTGRES_SOCKET"),
                "-p",
                self.var("ELECT_POSTGRES_PORT"),
            ])
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

    /// Makes the server log every statement, for [`PgServer::statements`].
    pub fn log_statements(&self) {
        self.psql("ALTER SYSTEM SET log_statement = 'all'");
        self.psql("SELECT pg_reload_conf()");
    }

    /// Statements the server logged so far (after [`PgServer::log_statements`]). Exact, unlike
    /// `pg_stat_database` counters, which sessions flush to shared memory only now and then.
    pub fn statements(&self) -> usize {
        let log = std::fs::read_to_string(self.var("ELECT_POSTGRES_LOG")).unwrap_or_default();
        log.lines()
            .filter(|l| l.contains("LOG:  statement: ") || l.contains("LOG:  execute "))
            .count()
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .args(["stop", &self.instance])
            .output();
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
        let dir = PathBuf::from(std::env::var("ELECT_RUN_DIR").unwrap_or("/tmp/elect-run".into()))
            .join(format!("pgbouncer-{}-{mode}", pg.instance));
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
