//! etcd benchmark: failover after a graceful resign and after SIGKILL of the leader process,
//! and the idle cost of 1,000 elections in one process.
//!
//! ```text
//! cargo bench -p elect-core --bench etcd_failover                # everything
//! cargo bench -p elect-core --bench etcd_failover -- graceful    # graceful|crash|expiry|idle
//! ELECT_BENCH_ROUNDS=100 ELECT_BENCH_ELECTIONS=1000 ELECT_BENCH_TTL=3 ... # sizes, crash ttl (s)
//! ```
//!
//! Starts its own etcd through `scripts/servers/etcd` (one member on loopback) and stops it at
//! the end. Crash rounds run the leader in a child process (this binary again, see
//! [`child`]) and SIGKILL it.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use elect_core::{Election, Event};

const CHILD_ENV: &str = "ELECT_BENCH_CHILD_URI";

fn main() {
    if let Ok(uri) = std::env::var(CHILD_ENV) {
        return child(&uri);
    }
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |part: &str| only.is_empty() || only.iter().any(|o| o == part);
    let rounds = env_num("ELECT_BENCH_ROUNDS", 50);
    let server = Server::start();
    println!("etcd {} on {}", etcd_version(), server.endpoint);
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

/// Two candidates on separate connections (`127.0.0.1` and `localhost` are different store
/// keys, so each has its own lease, as two processes would). The leader resigns; the time
/// until the other one's `Elected` event is the handover. They alternate.
fn graceful(server: &Server, rounds: usize) {
    let opts = "ttl=10s&silence=0s";
    let a = Candidate::open(&server.uri("127.0.0.1", opts), "graceful", "a");
    let b = Candidate::open(&server.uri("localhost", opts), "graceful", "b");
    a.e.start().unwrap();
    assert!(a.e.wait_leader(Some(Duration::from_secs(10))).unwrap());
    b.e.start().unwrap();
    wait_members(&a.e, 2);
    let (mut leader, mut next) = (&a, &b);
    let mut handover = Vec::new();
    let mut resign_call = Vec::new();
    for _ in 0..rounds {
        next.drain();
        let t0 = Instant::now();
        leader.e.resign().unwrap();
        resign_call.push(t0.elapsed());
        let elected = next.elected(Duration::from_secs(10));
        handover.push(elected - t0);
        // The old leader stands in line again before the next round.
        wait_members(&leader.e, 2);
        std::mem::swap(&mut leader, &mut next);
    }
    if std::env::var_os("ELECT_BENCH_VERBOSE").is_some() {
        println!(
            "graceful samples (ms): {:?}",
            handover
                .iter()
                .map(|d| d.as_micros() as f64 / 1000.0)
                .collect::<Vec<_>>()
        );
    }
    report(
        "graceful handover (resign -> successor Elected)",
        &mut handover,
    );
    report("  resign() call", &mut resign_call);
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
    let survivor = Candidate::open(&server.uri("127.0.0.1", opts), "crash", "survivor");
    survivor.e.start().unwrap();
    let (mut took, mut by_etcd, mut by_elect) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        assert!(survivor
            .e
            .wait_leader(Some(Duration::from_secs(10)))
            .unwrap());
        let mut child = ChildCandidate::spawn(&server.uri("127.0.0.1", opts), round);
        wait_members(&survivor.e, 2);
        // Hand over to the child, then kill it.
        survivor.e.resign().unwrap();
        child.elected(Duration::from_secs(10));
        // Crash at a random moment, at least one keep-alive of the child after its election.
        let jitter = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
            % 1000;
        std::thread::sleep(Duration::from_millis(600 + u64::from(jitter)));
        survivor.drain();
        let deleted = server.first_delete("bench/crash/");
        let t0 = Instant::now();
        child.kill();
        let elected = survivor.elected(Duration::from_secs(15));
        took.push(elected - t0);
        let deleted = deleted.recv_timeout(Duration::from_secs(5)).unwrap();
        by_etcd.push(deleted - t0);
        by_elect.push(elected.saturating_duration_since(deleted));
    }
    report(
        &format!("crash handover (SIGKILL -> successor Elected), ttl {ttl:?}"),
        &mut took,
    );
    report("  of which etcd (SIGKILL -> key deleted)", &mut by_etcd);
    report("  of which elect (key deleted -> Elected)", &mut by_elect);
}

/// etcd's own part of a crash handover, without elect: the time from the last keep-alive of a
/// 2 s lease to the deletion of a key on it, seen by a watch.
fn expiry(server: &Server, rounds: usize) {
    let endpoint = server.endpoint.clone();
    let mut took = elect_core::runtime::block_on(async move {
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
        &mut took,
    );
}

/// `n` elections in this process, each the sole candidate (so each leads and renews), on one
/// connection. After they all lead, measure 20 s of idling.
fn idle(server: &Server, n: usize) {
    let rss0 = rss_kib();
    let opts = "ttl=10s";
    let uri = server.uri("127.0.0.1", opts);
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
    let (cpu0, req0, t0) = (cpu_ticks(), server.requests(), Instant::now());
    std::thread::sleep(window);
    let (cpu1, req1, secs) = (cpu_ticks(), server.requests(), t0.elapsed().as_secs_f64());
    let tick = 100.0; // USER_HZ on Linux
    let cpu_pct = (cpu1 - cpu0) as f64 / tick / secs * 100.0;
    let rss = rss_kib();
    println!(
        "idle: {n} elections over {secs:.0}s: RSS {} MiB ({} MiB before opening), CPU {cpu_pct:.2}% of one core, etcd {:.2} requests/s",
        rss / 1024,
        rss0 / 1024,
        (req1 - req0) / secs
    );
    drop(es);
}

/// Times are printed in ms with p50, p99 and max.
fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what}: n={} p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, min {:.1} ms",
        samples.len(),
        ms(pick(0.5)),
        ms(pick(0.99)),
        ms(pick(1.0)),
        ms(pick(0.0)),
    );
}

fn wait_members(e: &Election, n: usize) {
    let end = Instant::now() + Duration::from_secs(10);
    while e.members().unwrap().len() < n {
        assert!(Instant::now() < end, "members did not reach {n}");
        std::thread::sleep(Duration::from_millis(1));
    }
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

/// The leader process of a crash round.
struct ChildCandidate {
    child: Child,
    lines: Receiver<String>,
}

impl ChildCandidate {
    fn spawn(uri: &str, round: usize) -> ChildCandidate {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(CHILD_ENV, format!("{uri}&id=child-{round}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        ChildCandidate { child, lines }
    }

    fn elected(&self, limit: Duration) {
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let l = self.lines.recv_timeout(left).expect("child not elected");
            if l.starts_with("elected") {
                return;
            }
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for ChildCandidate {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The child: campaigns, prints `elected <term>`, exits when stdin closes.
fn child(uri: &str) {
    let e = Election::open(
        uri,
        "crash",
        Some(Box::new(|ev: &Event| {
            if let Event::Elected { term } = ev {
                let mut o = std::io::stdout().lock();
                let _ = writeln!(o, "elected {term}");
                let _ = o.flush();
            }
        })),
    )
    .unwrap();
    e.start().unwrap();
    let _ = std::io::stdin().read(&mut [0u8; 1]);
}

/// The etcd server of this run.
struct Server {
    name: String,
    endpoint: String,
    port: u16,
}

fn script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/servers/etcd")
}

impl Server {
    fn start() -> Server {
        let name = format!("bench-{}", std::process::id());
        let out = Command::new(script())
            .args(["start", &name])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = String::from_utf8_lossy(&out.stdout);
        let endpoint = out
            .lines()
            .find_map(|l| l.strip_prefix("export ELECT_ETCD_ENDPOINTS="))
            .unwrap()
            .to_string();
        let port = endpoint.rsplit(':').next().unwrap().parse().unwrap();
        Server {
            name,
            endpoint,
            port,
        }
    }

    fn uri(&self, host: &str, opts: &str) -> String {
        format!("etcd://{host}:{}/bench?{opts}", self.port)
    }

    /// When the next key under `prefix` is deleted, seen by a watch of its own (open when this
    /// returns).
    fn first_delete(&self, prefix: &str) -> Receiver<Instant> {
        let (tx, rx) = channel();
        let (ready_tx, ready) = channel();
        let (endpoint, prefix) = (self.endpoint.clone(), prefix.to_string());
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
    fn requests(&self) -> f64 {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
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
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .args(["destroy", &self.name])
            .status();
    }
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

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// utime + stime of this process, in clock ticks.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last `)`.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    num(11) + num(12)
}
