//! ZooKeeper servers for the tests: `elect_testkit::Server` under the names the ZooKeeper test
//! files use.

#![allow(dead_code)]

use std::sync::Arc;

use elect_testkit::{Server, Store};

#[allow(unused_imports)] // not every test file that includes this module uses it
pub use elect_testkit::server::unique;

pub struct Zk {
    pub name: String,
    /// `zk://127.0.0.1:port[,...]`
    pub uri: String,
    server: Arc<Server>,
}

impl Zk {
    fn of(server: Arc<Server>) -> Zk {
        Zk {
            name: server.name.clone(),
            uri: server.uri(),
            server,
        }
    }

    /// A standalone server of the caller's own (for tests that stop or pause it).
    pub fn start(tag: &str) -> Zk {
        Zk::of(Arc::new(Server::start(Store::Zk, tag)))
    }

    /// Three servers in one ensemble.
    pub fn ensemble(tag: &str) -> Zk {
        Zk::of(Arc::new(Server::cluster(Store::Zk, tag)))
    }

    /// Three servers in one ensemble, member n bound to `addrs[n - 1]` and started inside the
    /// network namespace `netns[n - 1]` (`-` for none): see the header of `scripts/servers/zk`.
    pub fn ensemble_placed(tag: &str, addrs: [&str; 3], netns: [&str; 3]) -> Zk {
        let addrs = addrs.join(" ");
        let netns = netns.join(" ");
        Zk::of(Arc::new(Server::launch_with_env(
            Store::Zk,
            tag,
            "start-ensemble",
            &[],
            &[
                ("ELECT_ZK_MEMBER_ADDRS", &addrs),
                ("ELECT_ZK_MEMBER_NETNS", &netns),
            ],
        )))
    }

    /// The server shared by tests that leave it alone (see `Server::shared`); each test uses
    /// its own chroot ([`unique`]).
    pub fn shared() -> Arc<Zk> {
        Arc::new(Zk::of(Server::shared(Store::Zk)))
    }

    pub fn stop(&self) {
        self.server.stop();
    }

    /// Starts the stopped server again, same port, same data.
    pub fn restart(&self) {
        self.server.start_again();
    }

    pub fn pid(&self) -> i32 {
        self.server.pid() as i32
    }

    /// The pid of the ensemble member that leads now.
    pub fn leader_pid(&self) -> i32 {
        self.script(&["leader"]).trim().parse().unwrap()
    }

    pub fn restart_member(&self, n: u32) {
        self.script(&["restart", &n.to_string()]);
    }

    /// The pid of ensemble member `n` (1..3).
    pub fn member_pid(&self, n: u32) -> i32 {
        self.script(&["pid", &n.to_string()])
            .trim()
            .parse()
            .unwrap()
    }

    /// Which member (1..3) has this pid.
    pub fn member_of(&self, pid: i32) -> u32 {
        (1..=3)
            .find(|n| self.script(&["pid", &n.to_string()]).trim() == pid.to_string())
            .expect("pid is a member")
    }

    /// `scripts/servers/zk <cmd> <name> <args...>`.
    fn script(&self, args: &[&str]) -> String {
        let mut all = vec![args[0], self.name.as_str()];
        all.extend_from_slice(&args[1..]);
        self.server.script(&all)
    }
}

pub fn signal(pid: i32, sig: &str) {
    elect_testkit::server::signal(pid as u32, sig)
}
