//! Real ZooKeeper servers for the tests, started with `scripts/servers/zk` and stopped on drop
//! (and by the script's watchdog if this process dies first).

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, Weak};

pub struct Zk {
    pub name: String,
    /// `zk://127.0.0.1:port[,...]`
    pub uri: String,
    /// Started here (and so stopped here), or the run's shared server from `ELECT_ZK_URI`.
    owned: bool,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/servers/zk")
}

fn run(args: &[&str]) -> String {
    run_env(args, &[])
}

fn run_env(args: &[&str], envs: &[(&str, &str)]) -> String {
    let out = Command::new(script())
        .args(args)
        .envs(envs.iter().copied())
        .env("ELECT_WATCH_PID", std::process::id().to_string())
        .output()
        .expect("run scripts/servers/zk");
    assert!(
        out.status.success(),
        "scripts/servers/zk {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn export(out: &str, key: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("export {key}=")))
        .unwrap_or_else(|| panic!("no {key} in {out}"))
        .trim_matches('"')
        .to_string()
}

impl Zk {
    fn started(tag: &str, cmd: &str) -> Zk {
        Zk::started_env(tag, cmd, &[])
    }

    fn started_env(tag: &str, cmd: &str, envs: &[(&str, &str)]) -> Zk {
        let name = format!("t{}-{tag}-{}", std::process::id(), unique());
        let out = run_env(&[cmd, &name], envs);
        Zk {
            uri: export(&out, "ELECT_ZK_URI"),
            name,
            owned: true,
        }
    }

    /// A standalone server of the caller's own (for tests that stop or pause it).
    pub fn start(tag: &str) -> Zk {
        Zk::started(tag, "start")
    }

    /// Three servers in one ensemble.
    pub fn ensemble(tag: &str) -> Zk {
        Zk::started(tag, "start-ensemble")
    }

    /// Three servers in one ensemble, member n bound to `addrs[n - 1]` and started inside the
    /// network namespace `netns[n - 1]` (`-` for none): see the header of `scripts/servers/zk`.
    pub fn ensemble_placed(tag: &str, addrs: [&str; 3], netns: [&str; 3]) -> Zk {
        Zk::started_env(
            tag,
            "start-ensemble",
            &[
                ("ELECT_ZK_MEMBER_ADDRS", &addrs.join(" ")),
                ("ELECT_ZK_MEMBER_NETNS", &netns.join(" ")),
            ],
        )
    }

    /// A standalone server shared by the tests of this process that run at the same time; each
    /// uses its own chroot ([`unique`]). Saves a JVM start per test. `scripts/test` starts one
    /// for the whole run and exports `ELECT_ZK_URI`: that one is used (and left running) then.
    /// Tests that stop, pause or kill a server never use this one.
    pub fn shared() -> Arc<Zk> {
        static SHARED: Mutex<Weak<Zk>> = Mutex::new(Weak::new());
        if let Ok(uri) = std::env::var("ELECT_ZK_URI") {
            return Arc::new(Zk {
                name: String::new(),
                uri,
                owned: false,
            });
        }
        let mut slot = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(zk) = slot.upgrade() {
            return zk;
        }
        let zk = Arc::new(Zk::start("shared"));
        *slot = Arc::downgrade(&zk);
        zk
    }

    pub fn stop(&self) {
        run(&["stop", &self.name]);
    }

    /// Starts the stopped server again, same port, same data.
    pub fn restart(&self) {
        run(&["start", &self.name]);
    }

    pub fn pid(&self) -> i32 {
        run(&["pid", &self.name]).trim().parse().unwrap()
    }

    /// The pid of the ensemble member that leads now.
    pub fn leader_pid(&self) -> i32 {
        run(&["leader", &self.name]).trim().parse().unwrap()
    }

    pub fn restart_member(&self, n: u32) {
        run(&["restart", &self.name, &n.to_string()]);
    }

    /// The pid of ensemble member `n` (1..3).
    pub fn member_pid(&self, n: u32) -> i32 {
        run(&["pid", &self.name, &n.to_string()]).trim().parse().unwrap()
    }

    /// Which member (1..3) has this pid.
    pub fn member_of(&self, pid: i32) -> u32 {
        (1..=3)
            .find(|n| run(&["pid", &self.name, &n.to_string()]).trim() == pid.to_string())
            .expect("pid is a member")
    }
}

impl Drop for Zk {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        let _ = Command::new(script()).args(["stop", &self.name]).status();
        let run_dir = std::env::var("ELECT_RUN_DIR").unwrap_or_else(|_| "/tmp/elect-run".into());
        let _ = std::fs::remove_dir_all(PathBuf::from(run_dir).join(format!("zk-{}", self.name)));
    }
}

pub fn unique() -> String {
    use std::hash::{BuildHasher, Hasher};
    let n = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{:08x}", n as u32)
}

pub fn signal(pid: i32, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig} {pid}");
}
