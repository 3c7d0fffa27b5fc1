//! The Redis store under load: failover time and the idle cost of many elections.
//!
//! ```text
//! cargo run --release -p elect-bench --bin redis_bench -- failover [--rounds 50] [--ttl 1s]
//! cargo run --release -p elect-bench --bin redis_bench -- idle [--elections 1000] [--seconds 20]
//! ```
//!
//! Each run starts its own `redis-server` (`scripts/servers/redis`, random loopback port, no
//! persistence) and stops it at the end.
//!
//! `failover`: three candidate processes (this binary re-executed as the scenario agent, the
//! same code as `elect agent --stamp`); time from just before the resign request is written (or
//! the SIGKILL is sent) to the new leader's `Elected` event, on the shared `CLOCK_MONOTONIC`.
//! A crash handover waits for the dead leader's lock to expire: between ttl minus one keep-alive
//! interval (ttl/6) and ttl after the kill, plus the waiter's wake-up.
//!
//! `idle`: this process opens N elections on one store (one candidate each, so all lead), waits
//! until all lead, then measures for a while: its own RSS and CPU, the redis-server's CPU, and
//! the commands per second Redis processed (INFO stats and commandstats).

use std::process::Command;
use std::time::{Duration, Instant};

use elect_bench::failover::{header, measure, row, Case};
use elect_bench::procfs::{cpu_ticks, rss_kib};
use elect_testkit::contract::with_options;
use elect_testkit::{Server, Store};

const SETTLE: Duration = Duration::from_millis(40);
const PATIENCE: Duration = Duration::from_secs(60);

fn main() {
    elect_bench::failover::run_agent_if_asked();
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("failover") => parse(&args[2..]).and_then(|o| failover(&o)),
        Some("idle") => parse(&args[2..]).and_then(|o| idle(&o)),
        _ => Err(
            "usage: redis_bench failover|idle [--rounds N] [--ttl D] [--elections N] [--seconds S]"
                .into(),
        ),
    };
    if let Err(e) = result {
        eprintln!("redis_bench: {e}");
        std::process::exit(1);
    }
}

struct Options {
    rounds: usize,
    ttl: String,
    elections: usize,
    seconds: u64,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        rounds: 50,
        ttl: "1s".into(),
        elections: 1000,
        seconds: 20,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag}: missing value"))?;
        let number = || {
            value
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{flag}: `{value}` is not a positive number"))
        };
        match flag.as_str() {
            "--rounds" => o.rounds = number()?,
            "--elections" => o.elections = number()?,
            "--seconds" => o.seconds = number()? as u64,
            "--ttl" => o.ttl = value.clone(),
            _ => return Err(format!("unknown flag `{flag}`")),
        }
    }
    Ok(o)
}

/// `redis-cli INFO <section>` of `server`.
fn info(server: &Server, section: &str) -> String {
    Command::new("redis-cli")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &server.var("ELECT_REDIS_PORT"),
            "INFO",
            section,
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn failover(opts: &Options) -> Result<(), String> {
    let server = Server::start(Store::Redis, "bench");
    println!(
        "redis failover: {} rounds per case, 3 candidate processes, ttl={}, redis-server {}",
        opts.rounds,
        opts.ttl,
        redis_version()
    );
    println!("measured from the resign request / SIGKILL to the new leader's Elected event (CLOCK_MONOTONIC)\n");
    header("options");
    let options = format!("ttl={}", opts.ttl);
    let uri = with_options(&server.uri(), &format!("{options}&silence=10ms"));
    for (label, case) in [
        ("graceful resign", Case::Resign),
        ("SIGKILL of leader", Case::Kill),
    ] {
        let samples = measure(&uri, "bench", case, opts.rounds, SETTLE)?;
        row(label, &options, &samples, "-");
    }
    Ok(())
}

fn redis_version() -> String {
    Command::new("redis-server")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .find_map(|w| w.strip_prefix("v=").map(str::to_string))
        })
        .unwrap_or_else(|| "?".into())
}

fn idle(opts: &Options) -> Result<(), String> {
    let server = Server::start(Store::Redis, "bench");
    let uri = format!("{}?id=bench-{}", server.uri(), std::process::id());
    let rss_before = rss_kib(std::process::id());
    let t0 = Instant::now();
    let elections: Vec<elect_core::Election> = (0..opts.elections)
        .map(|i| elect_core::Election::open(&uri, &format!("job-{i}"), None))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    for e in &elections {
        e.start().map_err(|e| e.to_string())?;
    }
    for e in &elections {
        if !e.wait_leader(Some(PATIENCE)).map_err(|e| e.to_string())? {
            return Err("not every election was led in time".into());
        }
    }
    println!(
        "redis idle cost: {} elections in one process, default ttl (10s), all leading after {:.1?} \
         (a fresh server grants its first lock one ttl after it started)",
        opts.elections,
        t0.elapsed()
    );
    // Let the one-off reads of the new leaders pass before measuring.
    std::thread::sleep(Duration::from_secs(2));
    let me = std::process::id();
    let (cpu0, rcpu0) = (cpu_ticks(me), cpu_ticks(server.pid()));
    let (cmds0, scripts0) = counters(&server);
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(opts.seconds));
    let wall = start.elapsed().as_secs_f64();
    let (cmds1, scripts1) = counters(&server);
    let (cpu1, rcpu1) = (cpu_ticks(me), cpu_ticks(server.pid()));
    let hz = 100.0; // USER_HZ on Linux
    let still = elections.iter().filter(|e| e.is_leader()).count();
    let rss = rss_kib(me);
    println!(
        "over {wall:.1} s, {still}/{} still leading:",
        opts.elections
    );
    println!(
        "  elect process RSS        {:.1} MiB ({:.1} MiB before opening; {:.1} KiB per election)",
        rss as f64 / 1024.0,
        rss_before as f64 / 1024.0,
        (rss.saturating_sub(rss_before)) as f64 / opts.elections as f64
    );
    println!(
        "  elect process CPU        {:.2} % of one core",
        (cpu1 - cpu0) as f64 / hz / wall * 100.0
    );
    println!(
        "  redis-server CPU         {:.2} % of one core",
        (rcpu1 - rcpu0) as f64 / hz / wall * 100.0
    );
    // Two INFO calls of our own per sample are not elect's traffic.
    let cmds = (cmds1 - cmds0).saturating_sub(2) as f64 / wall;
    let scripts = (scripts1 - scripts0) as f64 / wall;
    println!(
        "  requests to Redis        {scripts:.2} /s (EVALSHA: the keep-alive of all elections)"
    );
    println!("  commands Redis executed  {cmds:.2} /s (including those inside the scripts)");
    drop(elections);
    Ok(())
}

/// Total commands processed, and EVAL/EVALSHA calls, from INFO.
fn counters(server: &Server) -> (u64, u64) {
    let field = |text: &str, key: &str| -> u64 {
        text.lines()
            .filter(|l| l.starts_with(key))
            .filter_map(|l| {
                let rest = &l[key.len()..];
                let rest = rest.strip_prefix("calls=").unwrap_or(rest);
                rest.split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum()
    };
    let stats = info(server, "stats");
    let cmdstats = info(server, "commandstats");
    (
        field(&stats, "total_commands_processed:"),
        field(&cmdstats, "cmdstat_evalsha:") + field(&cmdstats, "cmdstat_eval:"),
    )
}
