//! What the ZooKeeper tests and benchmarks read from the server directly.

use std::io::{Read, Write};

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
