//! A ZooKeeper leader cut off from the ensemble together with the follower it talks to must stop
//! believing it leads before the ensemble lets the next candidate lead.
//!
//! A follower cut off from the ensemble leader keeps answering reads from its own copy for up to
//! `syncLimit x tickTime` (2 s here: tick 200 ms, syncLimit 10), while the ensemble leader
//! expires the session after the session timeout (1 s). A leader whose renewals are reads would
//! believe for that whole time, past its successor's election: heartbeats are writes.
//!
//! Candidate A and ensemble member 3 run in a network namespace this test creates, joined to the
//! host's by a veth pair; members 1 and 2 and candidate B stay outside. A talks to member 3
//! only, B to members 1 and 2. Member 3 is a follower in the first test (the case a read
//! heartbeat gets wrong) and the ensemble's leader in the second (the test restarts members until
//! it is).
//! Once A leads and B waits in line, blackhole routes cut the namespace off both ways. A (a child
//! process in the namespace) samples `is_leader()` every millisecond, B (here) too, both stamped
//! with `CLOCK_MONOTONIC`: A's last `true` must come before B's first.
//!
//! Needs root (for the namespace). Without it the test says so on stderr and does nothing.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use elect_core::Election;
use elect_testkit::server::signal;
use elect_testkit::zookeeper as zkkit;
use elect_testkit::Server;

const WAIT: Duration = Duration::from_secs(30);
const SAMPLE_EVERY: Duration = Duration::from_millis(1);

/// `CLOCK_MONOTONIC` in nanoseconds: the same clock in every process of the machine.
fn mono_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// Runs a command line (words separated by spaces); panics if it fails.
fn must(line: &str) {
    let args: Vec<&str> = line.split_whitespace().collect();
    let ok = Command::new(args[0])
        .args(&args[1..])
        .status()
        .unwrap_or_else(|e| panic!("{}: {e}", args[0]))
        .success();
    assert!(ok, "`{line}` failed");
}

/// A network namespace with a veth link to the host's: `host_addr` outside, `ns_addr` inside.
struct Netns {
    name: String,
    host_if: String,
    host_addr: String,
    ns_addr: String,
}

impl Netns {
    /// `None` (after saying why on stderr) when this process may not create namespaces.
    fn create() -> Option<Netns> {
        let uid = Command::new("id").arg("-u").output().expect("run `id -u`");
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            eprintln!(
                "SKIPPED zookeeper_partition: creating a network namespace needs root \
                 (run as root to test the partition)"
            );
            return None;
        }
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let (pid, k) = (std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed) % 2);
        // A /30 of its own per namespace, so that parallel runs do not collide.
        let (a, b) = (200 + pid % 50, ((pid / 50) % 32 * 8 + k * 4) % 256);
        let net = Netns {
            name: format!("ezk{pid}{k}"),
            host_if: format!("ezk{pid}{k}h"),
            host_addr: format!("10.{a}.{b}.1"),
            ns_addr: format!("10.{a}.{b}.2"),
        };
        let inside = format!("ezk{pid}{k}n");
        let (ns, host_if) = (&net.name, &net.host_if);
        must(&format!("ip netns add {ns}"));
        must(&format!(
            "ip link add {host_if} type veth peer name {inside}"
        ));
        must(&format!("ip link set {inside} netns {ns}"));
        must(&format!("ip addr add {}/30 dev {host_if}", net.host_addr));
        must(&format!("ip link set {host_if} up"));
        net.exec(&format!("ip addr add {}/30 dev {inside}", net.ns_addr));
        net.exec(&format!("ip link set {inside} up"));
        net.exec("ip link set lo up");
        Some(net)
    }

    /// Runs a command line inside the namespace.
    fn exec(&self, line: &str) {
        must(&format!("ip netns exec {} {line}", self.name));
    }

    /// Drops every packet between the namespace and the host, both ways. Open connections are
    /// not reset: they go silent, as behind a failed switch.
    fn partition(&self) {
        must(&format!("ip route add blackhole {}/32", self.ns_addr));
        self.exec(&format!("ip route add blackhole {}/32", self.host_addr));
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let quiet = |args: &[&str]| {
            let _ = Command::new(args[0])
                .args(&args[1..])
                .stderr(Stdio::null())
                .status();
        };
        quiet(&[
            "ip",
            "route",
            "del",
            "blackhole",
            &format!("{}/32", self.ns_addr),
        ]);
        quiet(&["ip", "link", "del", &self.host_if]);
        quiet(&["ip", "netns", "del", &self.name]);
    }
}

/// Not a test on its own: candidate A, started by the test inside the namespace (with
/// `ELECT_ZKP_CHILD_URI`). Samples `is_leader()` every millisecond and prints each change:
/// `belief true <first true ns>` and `belief false <last true ns> <first false ns>`.
#[test]
fn zk_partition_child() {
    let Ok(uri) = std::env::var("ELECT_ZKP_CHILD_URI") else {
        return;
    };
    let e = Election::open(&format!("{uri}?id=a&ttl=1s"), "job", None).unwrap();
    e.start().unwrap();
    let (mut believed, mut last_true) = (false, 0);
    loop {
        let now = mono_ns();
        let leads = e.is_leader();
        if leads != believed {
            if leads {
                println!("child: belief true {now}");
            } else {
                println!("child: belief false {last_true} {now}");
            }
            believed = leads;
        }
        if leads {
            last_true = now;
        }
        std::thread::sleep(SAMPLE_EVERY);
    }
}

/// Candidate A's process (inside the namespace) and its report lines.
struct ChildA {
    child: Child,
    lines: Receiver<String>,
}

impl ChildA {
    fn spawn(net: &Netns, uri: &str) -> ChildA {
        let exe = std::env::current_exe().unwrap();
        let mut child = Command::new("ip")
            .args(["netns", "exec", &net.name])
            .arg(exe)
            .args([
                "zk_partition_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("ELECT_ZKP_CHILD_URI", uri)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(|l| l.ok()) {
                // The test harness may print `test zk_partition_child ... ` on the same line.
                if let Some(i) = l.find("child: ") {
                    let _ = tx.send(l[i + "child: ".len()..].to_string());
                }
            }
        });
        ChildA { child, lines }
    }

    /// The numbers of the next line starting with `prefix`.
    fn expect(&self, prefix: &str) -> Vec<u64> {
        let line = self
            .lines
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("candidate A printed no `{prefix}` within {WAIT:?}"));
        let rest = line
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("candidate A said `{line}`, expected `{prefix} ...`"));
        rest.split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect()
    }
}

impl Drop for ChildA {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Kills and restarts members until member 3 leads the ensemble (`leads`) or follows it.
fn place_member3(zk: &Server, leads: bool) {
    for _ in 0..12 {
        let (leader, m3) = (zkkit::leader_pid(zk), zkkit::member_pid(zk, 3));
        if (leader == m3) == leads {
            return;
        }
        // Member 3 leads and must not: restart it. It follows and must lead: restart the leader,
        // until member 3 wins the election that follows.
        let member = zkkit::member_of(zk, leader);
        signal(leader, "KILL");
        while Command::new("kill")
            .args(["-0", &leader.to_string()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        zkkit::restart_member(zk, member);
    }
    panic!(
        "could not make member 3 {}",
        if leads { "lead" } else { "follow" }
    );
}

/// `host:port` of each member, in member order, from `zk://h1:p1,h2:p2,h3:p3`.
fn members(zk: &Server) -> Vec<String> {
    let uri = zk.uri();
    let hosts = uri.strip_prefix("zk://").unwrap();
    hosts.split(',').map(str::to_string).collect()
}

#[test]
fn a_leader_cut_off_with_its_follower_stops_believing_before_the_next_is_elected() {
    cut_off_with_member3(false);
}

/// The ensemble leader cut off with its client: it keeps answering its clients' reads (and
/// syncs) until it notices, after about `syncLimit` ticks, that it lost its quorum.
#[test]
fn a_leader_cut_off_with_the_ensemble_leader_stops_believing_before_the_next_is_elected() {
    cut_off_with_member3(true);
}

/// Candidate A and member 3 (the ensemble's leader when `member3_leads`, else a follower) are cut
/// off from members 1 and 2 and candidate B.
fn cut_off_with_member3(member3_leads: bool) {
    // One at a time: two ensembles and their timing on a loaded 2-core machine are enough.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(net) = Netns::create() else {
        return;
    };
    let (out, inside) = (net.host_addr.as_str(), net.ns_addr.as_str());
    let zk = zkkit::ensemble_placed("part", [out, out, inside], ["-", "-", &net.name]);
    place_member3(&zk, member3_leads);
    let m = members(&zk);
    let a = ChildA::spawn(&net, &format!("zk://{}", m[2]));
    a.expect("belief true");

    let b = Arc::new(
        Election::open(&format!("zk://{},{}?id=b&ttl=1s", m[0], m[1]), "job", None).unwrap(),
    );
    b.start().unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while b.members().map(|l| l.len()).unwrap_or(0) < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "B did not join the line"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (b_first_true, b_sampler) = {
        let (b, stop) = (b.clone(), stop.clone());
        let (tx, rx) = channel();
        let t = std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let now = mono_ns();
                if b.is_leader() {
                    let _ = tx.send(now);
                    return;
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
        });
        (rx, t)
    };

    let cut = mono_ns();
    net.partition();
    let a_false = a.expect("belief false");
    let (a_last_true, a_first_false) = (a_false[0], a_false[1]);
    let b_first = b_first_true
        .recv_timeout(WAIT)
        .expect("B was not elected after A's session expired");
    stop.store(true, Ordering::Relaxed);
    b_sampler.join().unwrap();
    let ms = |t: u64| (t as i64 - cut as i64) as f64 / 1e6;
    eprintln!(
        "partition at 0: A's last `is_leader() == true` at {:+.1} ms (first false {:+.1} ms), \
         B's first true at {:+.1} ms",
        ms(a_last_true),
        ms(a_first_false),
        ms(b_first)
    );
    assert!(
        a_last_true < b_first,
        "two leaders: A still believed at {:+.1} ms, B was elected at {:+.1} ms",
        ms(a_last_true),
        ms(b_first)
    );
    // A cannot have come back: it is still cut off, and its session is gone.
    assert!(
        a.lines.try_recv().is_err(),
        "A believed again while cut off"
    );
    b.close();
}
