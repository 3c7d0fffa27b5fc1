//! ZooKeeper failover and overhead benchmark for elect (run by `bench/zookeeper/run`, which
//! starts a private server and runs kazoo's recipe side by side).
//!
//! ```text
//! zk_failover graceful <zk-uri> <rounds>   resign -> successor's Elected
//! zk_failover crash <zk-uri> <rounds>      SIGKILL of a leader process -> successor's Elected
//! zk_failover idle <zk-uri> <n> <secs>     n elections leading in one process: CPU, packets
//! ```
//!
//! Failover rounds run among three candidate processes on the shared runner
//! (`bench/src/failover.rs`): measured from just before the resign request or the SIGKILL to the
//! successor's `Elected` event, on `CLOCK_MONOTONIC`.

use std::time::{Duration, Instant};

use elect_bench::failover::{self, header, measure, row, Case};
use elect_bench::procfs::{cpu_ticks, rss_kib, threads, TICKS_PER_SEC};
use elect_core::Election;
use elect_testkit::contract::with_options;
use elect_testkit::zookeeper::packets_received;

const WAIT: Duration = Duration::from_secs(30);
/// Time for a candidate that just started or resigned to be waiting in line again.
const SETTLE: Duration = Duration::from_millis(60);

fn main() {
    failover::run_agent_if_asked();
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_else(|| usage());
    match arg(1).as_str() {
        "graceful" => failovers(&arg(2), Case::Resign, arg(3).parse().unwrap()),
        "crash" => failovers(&arg(2), Case::Kill, arg(3).parse().unwrap()),
        "idle" => idle(&arg(2), arg(3).parse().unwrap(), arg(4).parse().unwrap()),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: zk_failover graceful|crash <zk-uri> <rounds> | idle <zk-uri> <n> <secs>");
    std::process::exit(2)
}

fn failovers(uri: &str, case: Case, rounds: usize) {
    let uri = with_options(uri, "silence=10ms");
    let samples = measure(&uri, "failover", case, rounds, SETTLE).unwrap();
    let what = match case {
        Case::Resign => "graceful resign",
        Case::Kill => "SIGKILL of leader",
    };
    header("store");
    row(what, "zookeeper (elect)", &samples, "-");
}

/// `n` elections, each led by this process, sitting idle for `secs`: CPU used by the process
/// and packets received by the server (which serves only this benchmark).
fn idle(uri: &str, n: usize, secs: u64) {
    let started = Instant::now();
    let es: Vec<Election> = (0..n)
        .map(|i| {
            Election::open(&with_options(uri, "id=solo"), &format!("idle-{i}"), None)
                .unwrap_or_else(|e| panic!("open: {e}"))
        })
        .collect();
    for e in &es {
        e.start().unwrap();
    }
    for e in &es {
        assert!(e.wait_leader(Some(WAIT)).unwrap());
    }
    println!(
        "zk idle: {n} elections leading after {:.0}ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let host = uri
        .trim_start_matches("zk://")
        .split(['/', ',', '?'])
        .next()
        .unwrap()
        .to_string();
    let me = std::process::id();
    let cpu_seconds = || cpu_ticks(me) as f64 / TICKS_PER_SEC;
    let (cpu0, pk0, t0) = (cpu_seconds(), packets_received(&host), Instant::now());
    std::thread::sleep(Duration::from_secs(secs));
    let (cpu1, pk1, dt) = (
        cpu_seconds(),
        packets_received(&host),
        t0.elapsed().as_secs_f64(),
    );
    println!(
        "zk idle cost (elect): elections={n} cpu={:.2}% of one core, server packets={:.1}/s, rss={} MiB, threads={}",
        (cpu1 - cpu0) / dt * 100.0,
        (pk1 - pk0) as f64 / dt,
        rss_kib(me) / 1024,
        threads(me)
    );
    assert!(es.iter().all(|e| e.is_leader()), "every election still led");
}
