//! Many elections with callbacks in one process: the threads, resident memory and CPU they cost,
//! and the store requests they make per renew interval once every one of them leads. The
//! revocations seen before the window are listed by reason (each is followed by another
//! `Elected`).
//!
//! ```text
//! cargo run -p elect-bench --bin many_elections -- --store etcd --elections 10000 \
//!     [--ttl 10s] [--window 30s]
//! ```
//!
//! `--store` is `file`, `etcd`, `zk`, `redis`, `postgres` or `mysql`; a server of the store is
//! started for the run (`scripts/servers/*`). Every election has a handler (as Java and Python
//! always register one) that counts its events; each leads an election of its own. Requests are
//! the server's own count over `--window`, after a settling pause: etcd's gRPC messages received
//! (`grpc_server_msg_received_total`, keep-alive stream messages included), ZooKeeper's
//! `zk_packets_received`, the commands Redis received from clients (`INFO commandstats` of the
//! commands elect sends: scripts, `INFO`, subscriptions), the statements PostgreSQL logs
//! (`log_statement = all`), MySQL's `Questions`; the probe's own request is subtracted.
//! Besides the report, one result line (`src/result.rs`, goal `requests`) goes to stdout for
//! `scripts/bench`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use elect_bench::procfs::{cpu_ticks, rss_kib, threads, TICKS_PER_SEC};
use elect_bench::{result, runner};
use elect_core::{Election, Event, RevokeReason};
use elect_testkit::contract::with_options;
use elect_testkit::{Server, Store};

fn main() {
    runner::run(
        "many_elections",
        "--store file|etcd|zk|redis|postgres|mysql [--elections N] [--ttl D] [--window D]",
        Options::set,
        bench,
    )
}

struct Options {
    store: String,
    elections: usize,
    ttl: Duration,
    window: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            store: String::new(),
            elections: 1000,
            ttl: Duration::from_secs(10),
            window: Duration::from_secs(30),
        }
    }
}

impl Options {
    fn set(&mut self, flag: &str, value: &str) -> Result<(), String> {
        let duration =
            || elect_core::uri::parse_duration(value).map_err(|e| format!("{flag}: {e}"));
        match flag {
            "--store" => match value {
                "file" | "etcd" | "zk" | "redis" | "postgres" | "mysql" => {
                    self.store = value.to_string()
                }
                _ => return Err(format!("--store: unknown store `{value}`")),
            },
            "--elections" => self.elections = runner::positive(flag, value)?,
            "--ttl" => self.ttl = duration()?,
            "--window" => self.window = duration()?,
            _ => return Err(format!("unknown flag `{flag}`")),
        }
        Ok(())
    }
}

fn store(name: &str) -> Option<Store> {
    Store::ALL.into_iter().find(|s| s.script_name() == name)
}

fn bench(opts: &Options) -> Result<(), String> {
    if opts.store.is_empty() {
        return Err("--store is required".into());
    }
    let server = store(&opts.store).map(|s| Server::start(s, "bench-many"));
    let _dir;
    let base = match &server {
        Some(server) => server.uri(),
        None => {
            _dir = std::env::temp_dir().join(format!("elect-many-{}", std::process::id()));
            std::fs::create_dir_all(&_dir).map_err(|e| e.to_string())?;
            format!("file://{}", _dir.display())
        }
    };
    if let Some(s) = server.as_ref().filter(|s| s.store == Store::Postgres) {
        elect_testkit::postgres::log_statements(s);
    }
    let ttl_ms = opts.ttl.as_millis();
    let uri = with_options(&base, &format!("ttl={ttl_ms}ms&id=many"));
    let me = std::process::id();
    let (threads_before, rss_before) = (threads(me), rss_kib(me));

    let events = Arc::new(AtomicU64::new(0));
    // Revocations by reason (RevokeReason's numbers index it): every Elected beyond one per
    // election follows one of them.
    let revoked: Arc<[AtomicU64; RevokeReason::ALL.len() + 1]> = Arc::default();
    let started = Instant::now();
    let elections: Vec<Election> = (0..opts.elections)
        .map(|i| {
            let (events, revoked) = (events.clone(), revoked.clone());
            let handler = Box::new(move |e: &Event| match e {
                Event::Elected { .. } => {
                    events.fetch_add(1, Ordering::Relaxed);
                }
                Event::Revoked { reason, .. } => {
                    revoked[*reason as usize].fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            });
            Election::open(&uri, &format!("many-{i}"), Some(handler)).map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    for e in &elections {
        e.start().map_err(|e| e.to_string())?;
    }
    for e in &elections {
        if !e
            .wait_leader(Some(Duration::from_secs(300)))
            .map_err(|e| e.to_string())?
        {
            return Err(format!("`{}` not led within 300 s", e.name()));
        }
    }
    let led_after = started.elapsed();
    // Every Elected reaches its callback (each election's queue is served).
    let until = Instant::now() + Duration::from_secs(60);
    while events.load(Ordering::Relaxed) < opts.elections as u64 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    let delivered = events.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(3));
    let (threads_led, rss_led) = (threads(me), rss_kib(me));

    let renew = opts.ttl / 3;
    let before = server.as_ref().map(requests);
    let (cpu0, t) = (cpu_ticks(me), Instant::now());
    std::thread::sleep(opts.window);
    let (cpu1, window) = (cpu_ticks(me), t.elapsed().as_secs_f64());
    let cpu_pct = (cpu1 - cpu0) as f64 / TICKS_PER_SEC / window * 100.0;
    let rate = server.as_ref().zip(before).map(|(s, before)| {
        // The first probe counts itself (Redis' INFO, MySQL's SHOW STATUS, ZooKeeper's mntr).
        let probe = u64::from(matches!(s.store, Store::Redis | Store::Mysql | Store::Zk));
        let n = requests(s).saturating_sub(before).saturating_sub(probe);
        n as f64 / (window / renew.as_secs_f64())
    });
    let (threads_idle, rss_idle) = (threads(me), rss_kib(me));
    let still = elections.iter().filter(|e| e.is_leader()).count();

    let n = opts.elections;
    println!(
        "many_elections: {n} elections with callbacks on {} (ttl {ttl_ms} ms, renew {} ms): \
         all led after {:.1} s, {delivered} Elected callbacks, {still} still leading at the end",
        opts.store,
        renew.as_millis(),
        led_after.as_secs_f64()
    );
    let revocations: Vec<String> = RevokeReason::ALL
        .iter()
        .map(|r| (r, revoked[*r as usize].load(Ordering::Relaxed)))
        .filter(|(_, n)| *n > 0)
        .map(|(r, n)| format!("{n} {}", r.name()))
        .collect();
    if !revocations.is_empty() {
        println!("  revoked meanwhile: {}", revocations.join(", "));
    }
    println!("  threads: {threads_before} before opening, {threads_led} once led, {threads_idle} after the window");
    println!(
        "  RSS: {:.1} MiB before opening, {:.1} MiB once led, {:.1} MiB after the window",
        rss_before as f64 / 1024.0,
        rss_led as f64 / 1024.0,
        rss_idle as f64 / 1024.0
    );
    println!(
        "  CPU: {cpu_pct:.1}% of one core over the {:?} window",
        opts.window
    );
    if let Some(rate) = rate {
        println!(
            "  store requests per renew interval: {rate:.1} over {:?} (one per election would be {n})",
            opts.window
        );
    }
    let round1 = |v: f64| (v * 10.0).round() / 10.0;
    let mut fields = vec![
        ("lang", "rust".into()),
        ("lib", "elect".into()),
        ("store", opts.store.clone().into()),
        ("elections", n.into()),
        ("callbacks", true.into()),
        ("threads", threads_idle.into()),
        ("rss_mib", round1(rss_idle as f64 / 1024.0).into()),
        ("cpu_pct", round1(cpu_pct).into()),
        ("ready_s", round1(led_after.as_secs_f64()).into()),
        ("renew_ms", (renew.as_millis() as u64).into()),
    ];
    if let Some(rate) = rate {
        fields.push(("requests_per_renew", round1(rate).into()));
    }
    result::print("requests", fields);
    if delivered < n as u64 || still < n {
        return Err(format!(
            "{delivered} of {n} Elected callbacks delivered, {still} of {n} still leading"
        ));
    }
    Ok(())
}

/// The server's count of requests received so far.
fn requests(server: &Server) -> u64 {
    match server.store {
        Store::Etcd => etcd_messages(server),
        Store::Zk => elect_testkit::zookeeper::packets_received(&server.uri()),
        Store::Redis => redis_requests(server),
        Store::Postgres => elect_testkit::postgres::statements(server) as u64,
        Store::Mysql => elect_testkit::mysql::status(server, "Questions"),
    }
}

/// gRPC messages etcd received, every method and stream summed (from its Prometheus metrics).
fn etcd_messages(server: &Server) -> u64 {
    use std::io::{Read, Write};
    const METRIC: &str = "grpc_server_msg_received_total{";
    let uri = server.uri();
    let endpoint = uri
        .trim_start_matches("etcd://")
        .split(['/', ',', '?'])
        .next()
        .unwrap_or_default()
        .to_string();
    let Ok(mut s) = std::net::TcpStream::connect(&endpoint) else {
        return 0;
    };
    let _ = write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    body.lines()
        .filter(|l| l.starts_with(METRIC))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Commands Redis received from its clients: the calls of the commands elect sends itself.
/// (`total_commands_processed` would also count every command a script runs.)
fn redis_requests(server: &Server) -> u64 {
    const SENT: [&str; 6] = ["eval", "evalsha", "info", "psubscribe", "subscribe", "ping"];
    elect_testkit::redis::command_calls(server, &SENT)
}
