//! One fixture for the real servers of every store, over `scripts/servers/<store>`: start (one
//! server, a cluster or ensemble, or a variant such as TLS), stop and start again with the same
//! port and data, restart, pause and resume, and removal on drop (also when a test fails).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// A store with a server of its own (the file store has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Store {
    Etcd,
    Zk,
    Redis,
    Postgres,
    Mysql,
}

impl Store {
    pub const ALL: [Store; 5] = [
        Store::Etcd,
        Store::Zk,
        Store::Redis,
        Store::Postgres,
        Store::Mysql,
    ];

    /// The script's name under `scripts/servers/`.
    pub fn script_name(self) -> &'static str {
        match self {
            Store::Etcd => "etcd",
            Store::Zk => "zk",
            Store::Redis => "redis",
            Store::Postgres => "postgres",
            Store::Mysql => "mysql",
        }
    }

    /// The variable the script exports the connection string in (and `scripts/test` exports
    /// for the run's shared server).
    pub fn uri_var(self) -> &'static str {
        match self {
            Store::Etcd => "ELECT_ETCD_URI",
            Store::Zk => "ELECT_ZK_URI",
            Store::Redis => "ELECT_REDIS_URI",
            Store::Postgres => "ELECT_POSTGRES_URI",
            Store::Mysql => "ELECT_MYSQL_URI",
        }
    }

    fn script(self) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../scripts/servers")
            .join(self.script_name())
    }
}

/// A server (or cluster) of one store. Stopped, its data removed, when dropped, unless it is
/// the run's shared server.
pub struct Server {
    pub store: Store,
    /// The script's instance name.
    pub name: String,
    vars: Mutex<HashMap<String, String>>,
    /// Added to the environment of every script call, hence of the server processes (for
    /// example an `LD_PRELOAD` that shifts their clock).
    launch_env: Vec<(String, String)>,
    /// Started here (so removed here), or the run's shared server from `ELECT_<STORE>_URI`.
    owned: bool,
}

impl Server {
    /// One server of `store`, of this test alone.
    pub fn start(store: Store, tag: &str) -> Server {
        Server::launch(store, tag, "start", &[])
    }

    /// Three members: an etcd cluster or a ZooKeeper ensemble.
    pub fn cluster(store: Store, tag: &str) -> Server {
        let how = match store {
            Store::Etcd => "start-cluster",
            Store::Zk => "start-ensemble",
            _ => panic!("{store:?} has no cluster"),
        };
        Server::launch(store, tag, how, &[])
    }

    /// The script's `how` command (`start`, `start-tls`, ...) with `extra` arguments (such as
    /// redis-server's).
    pub fn launch(store: Store, tag: &str, how: &str, extra: &[&str]) -> Server {
        Server::launch_with_env(store, tag, how, extra, &[])
    }

    /// [`Server::launch`] with `env` added to the environment of the server processes.
    pub fn launch_with_env(
        store: Store,
        tag: &str,
        how: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t{}-{tag}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let server = Server {
            store,
            name,
            vars: Mutex::new(HashMap::new()),
            launch_env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            owned: true,
        };
        let mut args = vec![how, server.name.as_str()];
        args.extend_from_slice(extra);
        let out = server.script(&args);
        server.read_exports(&out);
        server
    }

    /// A server for the tests that leave it alone (no stop, pause or kill): the run's shared
    /// one when `scripts/test` exported `ELECT_<STORE>_URI`, else one per test process, started
    /// by the first test that asks. Tests keep apart through election names or prefixes.
    pub fn shared(store: Store) -> Arc<Server> {
        static SHARED: Mutex<Vec<(Store, Weak<Server>)>> = Mutex::new(Vec::new());
        let mut slots = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = slots
            .iter()
            .find(|(s, _)| *s == store)
            .and_then(|(_, w)| w.upgrade())
        {
            return s;
        }
        let server = Arc::new(match std::env::var(store.uri_var()) {
            Ok(uri) => Server {
                store,
                name: "shared".into(),
                vars: Mutex::new(HashMap::from([(store.uri_var().to_string(), uri)])),
                launch_env: Vec::new(),
                owned: false,
            },
            Err(_) => Server::start(store, "shared"),
        });
        slots.retain(|(s, _)| *s != store);
        slots.push((store, Arc::downgrade(&server)));
        server
    }

    /// The connection string the script printed (with the options it needs, such as a CA).
    pub fn uri(&self) -> String {
        self.var(self.store.uri_var())
    }

    /// One of the variables the script exported (`ELECT_POSTGRES_PORT`, ...).
    pub fn var(&self, key: &str) -> String {
        self.try_var(key)
            .unwrap_or_else(|| panic!("{} exported no {key}", self.store.script_name()))
    }

    /// `etcdctl` (API v3) against this etcd server; panics with its output if it fails.
    pub fn etcdctl(&self, args: &[&str]) -> String {
        let uri = self.uri();
        let endpoints = uri.trim_start_matches("etcd://");
        let out = Command::new("etcdctl")
            .env("ETCDCTL_API", "3")
            .arg("--endpoints")
            .arg(endpoints)
            .args(args)
            .output()
            .expect("etcdctl runs");
        assert!(out.status.success(), "etcdctl {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Every variable the script exported.
    pub fn vars(&self) -> HashMap<String, String> {
        self.vars.lock().unwrap().clone()
    }

    pub fn try_var(&self, key: &str) -> Option<String> {
        self.vars.lock().unwrap().get(key).cloned()
    }

    /// Stops the server (every member), keeping its data and port for [`Server::start_again`].
    pub fn stop(&self) {
        self.own("stop");
        let how = match self.store {
            Store::Postgres | Store::Redis | Store::Mysql => "halt",
            Store::Etcd | Store::Zk => "stop",
        };
        self.script(&[how, &self.name]);
    }

    /// Starts a stopped server again: same port, same data (Redis keeps none).
    pub fn start_again(&self) {
        self.own("start again");
        let how = match self.store {
            Store::Redis | Store::Zk => "restart",
            Store::Etcd | Store::Postgres | Store::Mysql => "start",
        };
        let out = self.script(&[how, &self.name]);
        self.read_exports(&out);
    }

    /// Stops and starts the server.
    pub fn restart(&self) {
        self.stop();
        self.start_again();
    }

    /// The server's pid (of a cluster: the pid the script names first).
    pub fn pid(&self) -> u32 {
        self.script(&["pid", &self.name]).trim().parse().unwrap()
    }

    /// Pauses (SIGSTOP) or resumes (SIGCONT) the server's process and its children (PostgreSQL's
    /// backends), as a frozen machine would look to its clients.
    pub fn pause(&self) {
        self.signal_all("-STOP");
    }

    pub fn resume(&self) {
        self.signal_all("-CONT");
    }

    fn signal_all(&self, sig: &str) {
        self.own("signal");
        let pid = self.pid().to_string();
        let children = Command::new("pgrep").args(["-P", &pid]).output().unwrap();
        let mut pids: Vec<String> = String::from_utf8_lossy(&children.stdout)
            .split_whitespace()
            .map(String::from)
            .collect();
        pids.push(pid);
        let ok = Command::new("kill")
            .arg(sig)
            .args(&pids)
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig} {pids:?}");
    }

    /// Runs the store's script with `args` (the instance name included); returns its stdout.
    pub fn script(&self, args: &[&str]) -> String {
        let out = Command::new(self.store.script())
            .args(args)
            // The ZooKeeper script stops its servers by itself once this process is gone.
            .env("ELECT_WATCH_PID", std::process::id().to_string())
            .envs(self.launch_env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run scripts/servers/{}: {e}",
                    self.store.script_name()
                )
            });
        assert!(
            out.status.success(),
            "scripts/servers/{} {args:?} failed: {}",
            self.store.script_name(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn read_exports(&self, out: &str) {
        let mut vars = self.vars.lock().unwrap();
        for (k, v) in out
            .lines()
            .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
        {
            vars.insert(k.to_string(), v.trim_matches(['"', '\'']).to_string());
        }
    }

    fn own(&self, what: &str) {
        assert!(self.owned, "the shared server is not ours to {what}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        // Not `script`: no panic while a failed test is already unwinding.
        let how = match self.store {
            Store::Etcd => "destroy",
            _ => "stop",
        };
        let _ = Command::new(self.store.script())
            .args([how, &self.name])
            .output();
        if self.store == Store::Zk {
            let _ = std::fs::remove_dir_all(run_dir().join(format!("zk-{}", self.name)));
        }
    }
}

/// `ELECT_RUN_DIR`, where the scripts keep their servers' data.
pub fn run_dir() -> PathBuf {
    PathBuf::from(std::env::var("ELECT_RUN_DIR").unwrap_or_else(|_| "/tmp/elect-run".into()))
}

/// A short random hex string, for names that must not collide across test processes.
pub fn unique() -> String {
    use std::hash::{BuildHasher, Hasher};
    let n = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{:08x}", n as u32)
}

/// Sends `sig` (`KILL`, `STOP`, `CONT`...) to `pid`.
pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig} {pid}");
}
