//! What the ZooKeeper tests and benchmarks read from the server directly, and the members of a
//! three-server ensemble (`Server::cluster(Store::Zk, ...)`) they kill, restart or place.

use std::io::{Read, Write};

use crate::server::{Server, Store};

/// `zk_packets_received` from the `mntr` four-letter word of the server at `host:port` (or a
/// `zk://host:port[/chroot]` connection string: its first host).
pub fn packets_received(server: &str) -> u64 {
    let host = server
        .trim_start_matches("zk://")
        .split(['/', ',', '?'])
        .next()
        .unwrap_or_default();
    let mut s = std::net::TcpStream::connect(host).expect("connect to ZooKeeper");
    s.write_all(b"mntr").expect("send mntr");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read mntr");
    out.lines()
        .find_map(|l| l.strip_prefix("zk_packets_received\t"))
        .and_then(|v| v.trim().parse().ok())
        .expect("mntr answers zk_packets_received")
}

/// Three servers in one ensemble, member n bound to `addrs[n - 1]` and started inside the
/// network namespace `netns[n - 1]` (`-` for none): see the header of `scripts/servers/zk`.
pub fn ensemble_placed(tag: &str, addrs: [&str; 3], netns: [&str; 3]) -> Server {
    let (addrs, netns) = (addrs.join(" "), netns.join(" "));
    Server::launch_with_env(
        Store::Zk,
        tag,
        "start-ensemble",
        &[],
        &[
            ("ELECT_ZK_MEMBER_ADDRS", &addrs),
            ("ELECT_ZK_MEMBER_NETNS", &netns),
        ],
    )
}

/// The pid of the ensemble member that leads now.
pub fn leader_pid(ensemble: &Server) -> u32 {
    member_script(ensemble, "leader", None)
        .trim()
        .parse()
        .unwrap()
}

/// The pid of ensemble member `n` (1..3).
pub fn member_pid(ensemble: &Server, n: u32) -> u32 {
    member_script(ensemble, "pid", Some(n))
        .trim()
        .parse()
        .unwrap()
}

/// Which member (1..3) has this pid.
pub fn member_of(ensemble: &Server, pid: u32) -> u32 {
    (1..=3)
        .find(|&n| member_pid(ensemble, n) == pid)
        .expect("pid is a member")
}

/// Starts member `n` (1..3) again, after it was killed.
pub fn restart_member(ensemble: &Server, n: u32) {
    member_script(ensemble, "restart", Some(n));
}

/// `scripts/servers/zk <cmd> <name> [<member>]`.
fn member_script(ensemble: &Server, cmd: &str, member: Option<u32>) -> String {
    assert_eq!(ensemble.store, Store::Zk);
    let member = member.map(|n| n.to_string());
    let mut args = vec![cmd, ensemble.name.as_str()];
    args.extend(member.as_deref());
    ensemble.script(&args)
}
