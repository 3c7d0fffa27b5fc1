//! etcd benchmark: failover after a graceful resign and after SIGKILL of the leader process,
//! and the idle cost of 1,000 elections in one process.
//!
//! ```text
//! cargo run --release -p elect-bench --bin etcd_failover                # everything
//! cargo run --release -p elect-bench --bin etcd_failover -- graceful    # graceful|crash|expiry|idle
//! ELECT_BENCH_ROUNDS=100 ELECT_BENCH_ELECTIONS=1000 ELECT_BENCH_TTL=3 ... # sizes, crash ttl (s)
//! ```
//!
//! Starts its own etcd through `scripts/servers/etcd` (one member on loopback) and stops it at
//! the end. Candidates in other processes are this binary re-executed as the scenario agent
//! (`bench/src/failover.rs`).

use std::io::{Read, Write};
use std::process::Command;
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use elect_bench::failover::{self, Case};
use elect_bench::procfs::{cpu_ticks, rss_kib, TICKS_PER_SEC};
use elect_bench::stats::{ms, Summary};
use elect_core::{Election, Event};
use elect_testkit::fleet::Fleet;
use elect_testkit::{wait, Server, Store};

fn main() {
    failover::run_agent_if_asked();
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |part: &str| only.is_empty() || only.iter().any(|o| o == part);
    let rounds = env_num("ELECT_BENCH_ROUNDS", 50);
    let server = Server::start(Store::Etcd, "bench");
    println!("etcd {} on {}", etcd_version(), endpoint(&server));
    if wanted("graceful") {
        graceful(&server, rounds);
    }
    if wanted("crash") {
        crash(&server, rounds);
    }
    if wanted("expiry") {
        expiry(&server, 10);
    }
    if wanted("idle") {
        idle(&server, env_num("ELECT_BENCH_ELECTIONS", 1000));
    }
}

fn env_num(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Three candidate processes on the shared runner; the leader resigns; measured from just
/// before the request to the successor's `Elected` event, on `CLOCK_MONOTONIC`.
fn graceful(server: &Server, rounds: usize) {
    let uri = uri(server, "127.0.0.1", "ttl=10s&silence=10ms");
    let settle = Duration::from_millis(60);
    let samples = failover::measure(&uri, "graceful", Case::Resign, rounds, settle).unwrap();
    report(
        "graceful handover (resign -> successor Elected)",
        &Summary::of_ns(&samples),
    );
}

/// The leader runs in a child process and is SIGKILLed; the time until the in-process
/// candidate's `Elected` event is the crash handover. Bounded by etcd itself: the lease
/// expires its TTL after the last keep-alive it received, and etcd looks for expired leases
/// every 500 ms (elect asks for `floor(ttl - 500 ms)` to stay within `ttl`). `ttl` is
/// `ELECT_BENCH_TTL` seconds (default 3: etcd's minimum lease is 2 s with the test servers'
/// 1 s election timeout); `renew` is the default, `ttl / 3`.
fn crash(server: &Server, rounds: usize) {
    let ttl = Duration::from_secs(env_num("ELECT_BENCH_TTL", 3) as u64);
    let opts = format!("ttl={}s&retry=200ms", ttl.as_secs());
    let opts = opts.as_str();
    let survivor = Candidate::open(&uri(server, "127.0.0.1", opts), "crash", "survivor");
    survivor.e.start().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut fleet = Fleet::new(exe, vec!["agent".into()]);
    let (mut took, mut by_etcd, mut by_elect) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        assert!(survivor
            .e
            .wait_leader(Some(Duration::from_secs(10)))
            .unwrap());
        let child = fleet
            .join(
                &uri(server, "127.0.0.1", opts),
                "crash",
                &format!("child-{round}"),
            )
            .unwrap();
        wait::members(&survivor.e, 2);
        // Hand over to the child, then kill it.
        survivor.e.resign().unwrap();
        fleet
            .wait_elected(None, Duration::from_secs(10), |_, _| {})
            .unwrap();
        // Crash at a random moment, at least one keep-alive of the child after its election.
        let jitter = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
            % 1000;
        std::thread::sleep(Duration::from_millis(600 + u64::from(jitter)));
        survivor.drain();
        let deleted = first_delete(server, "bench/crash/");
        let t0 = Instant::now();
        fleet.kill(child);
        let elected = survivor.elected(Duration::from_secs(15));
        took.push(elected - t0);
        let deleted = deleted.recv_timeout(Duration::from_secs(5)).unwrap();
        by_etcd.push(deleted - t0);
        by_elect.push(elected.saturating_duration_since(deleted));
    }
    report(
        &format!("crash handover (SIGKILL -> successor Elected), ttl {ttl:?}"),
        &Summary::of(&took),
    );
    report(
        "  of which etcd (SIGKILL -> key deleted)",
        &Summary::of(&by_etcd),
    );
    report(
        "  of which elect (key deleted -> Elected)",
        &Summary::of(&by_elect),
    );
}

/// etcd's own part of a crash handover, without elect: the time from the last keep-alive of a
/// 2 s lease to the deletion of a key on it, seen by a watch.
fn expiry(server: &Server, rounds: usize) {
    let endpoint = endpoint(server);
    let took = elect_core::runtime::block_on(async move {
        let mut c = etcd_client::Client::connect([endpoint], None)
            .await
            .unwrap();
        let mut took = Vec::new();
        for i in 0..rounds {
            let key = format!("expiry-baseline-{i}");
            let lease = c.lease_grant(2, None).await.unwrap().id();
            let put = etcd_client::PutOptions::new().with_lease(lease);
            c.put(key.as_str(), "x", Some(put)).await.unwrap();
            let mut w = c.watch(key.as_str(), None).await.unwrap();
            w.message().await.unwrap(); // created
            let (mut keeper, mut acks) = c.lease_keep_alive(lease).await.unwrap();
            keeper.keep_alive().await.unwrap();
            acks.message().await.unwrap();
            let t0 = Instant::now();
            drop((keeper, acks));
            loop {
                let resp = w.message().await.unwrap().unwrap();
                if !resp.events().is_empty() {
                    break;
                }
            }
            took.push(t0.elapsed());
        }
        took
    })
    .unwrap();
    report(
        "etcd alone: last keep-alive of a 2 s lease -> its key deleted",
        &Summary::of(&took),
    );
}

/// `n` elections in this process, each the sole candidate (so each leads and renews), on one
/// connection. After they all lead, measure 20 s of idling.
fn idle(server: &Server, n: usize) {
    let me = std::process::id();
    let rss0 = rss_kib(me);
    let uri = uri(server, "127.0.0.1", "ttl=10s");
    let opened = Instant::now();
    let es: Vec<Election> = (0..n)
        .map(|i| Election::open(&uri, &format!("idle-{i}"), None).unwrap())
        .collect();
    for e in &es {
        e.start().unwrap();
    }
    for e in &es {
        assert!(e.wait_leader(Some(Duration::from_secs(60))).unwrap());
    }
    println!(
        "idle: {n} elections opened, started and leading in {:?}",
        opened.elapsed()
    );
    let window = Duration::from_secs(env_num("ELECT_BENCH_IDLE_SECS", 20) as u64);
    std::thread::sleep(Duration::from_secs(2));
    let (cpu0, req0, t0) = (cpu_ticks(me), requests(server), Instant::now());
    std::thread::sleep(window);
    let (cpu1, req1, secs) = (cpu_ticks(me), requests(server), t0.elapsed().as_secs_f64());
    let cpu_pct = (cpu1 - cpu0) as f64 / TICKS_PER_SEC / secs * 100.0;
    let rss = rss_kib(me);
    println!(
        "idle: {n} elections over {secs:.0}s: RSS {} MiB ({} MiB before opening), CPU {cpu_pct:.2}% of one core, etcd {:.2} requests/s",
        rss / 1024,
        rss0 / 1024,
        (req1 - req0) / secs
    );
    drop(es);
}

/// One line: n, p50, p99 and max (see `elect_bench::stats`).
fn report(what: &str, s: &Summary) {
    println!(
        "{what}: n={} p50 {}, p99 {}, max {}",
        s.n,
        ms(s.p50),
        ms(s.p99),
        ms(s.max)
    );
}

/// An election whose `Elected` events are timestamped by the handler itself.
struct Candidate {
    e: Election,
    events: Receiver<Instant>,
}

impl Candidate {
    fn open(uri: &str, name: &str, id: &str) -> Candidate {
        let (tx, events) = channel();
        let e = Election::open(
            &format!("{uri}&id={id}"),
            name,
            Some(Box::new(move |ev: &Event| {
                if let Event::Elected { .. } = ev {
                    let _ = tx.send(Instant::now());
                }
            })),
        )
        .unwrap();
        Candidate { e, events }
    }

    fn drain(&self) {
        while self.events.try_recv().is_ok() {}
    }

    fn elected(&self, limit: Duration) -> Instant {
        self.events.recv_timeout(limit).expect("no Elected in time")
    }
}

/// `host:port` of the server.
fn endpoint(server: &Server) -> String {
    server.uri().trim_start_matches("etcd://").to_string()
}

fn port(server: &Server) -> String {
    endpoint(server).rsplit(':').next().unwrap().to_string()
}

/// The server's connection string through `host` (`127.0.0.1` and `localhost` are different
/// store keys, so each has its own connection and lease, as two processes would).
fn uri(server: &Server, host: &str, opts: &str) -> String {
    format!("etcd://{host}:{}/bench?{opts}", port(server))
}

/// When the next key under `prefix` is deleted, seen by a watch of its own (open when this
/// returns).
fn first_delete(server: &Server, prefix: &str) -> Receiver<Instant> {
    let (tx, rx) = channel();
    let (ready_tx, ready) = channel();
    let (endpoint, prefix) = (endpoint(server), prefix.to_string());
    elect_core::runtime::handle().spawn(async move {
        let mut c = etcd_client::Client::connect([endpoint], None)
            .await
            .unwrap();
        let opts = etcd_client::WatchOptions::new().with_prefix();
        let mut w = c.watch(prefix, Some(opts)).await.unwrap();
        w.message().await.unwrap(); // created
        let _ = ready_tx.send(());
        while let Ok(Some(resp)) = w.message().await {
            let delete = etcd_client::EventType::Delete;
            if resp.events().iter().any(|e| e.event_type() == delete) {
                let _ = tx.send(Instant::now());
                return;
            }
        }
    });
    ready.recv().unwrap();
    rx
}

/// Request messages etcd has received so far (unary calls and stream messages such as
/// keep-alives and watch requests), from its Prometheus metrics.
fn requests(server: &Server) -> f64 {
    let mut s = std::net::TcpStream::connect(endpoint(server)).unwrap();
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body.lines()
        .filter(|l| l.starts_with("grpc_server_msg_received_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn etcd_version() -> String {
    Command::new("etcd")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_default()
}
