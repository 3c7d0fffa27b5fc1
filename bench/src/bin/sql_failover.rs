//! Failover time on the two SQL stores side by side, in one run: PostgreSQL (NOTIFY) and
//! MySQL/MariaDB (the `GET_LOCK` line, and polling through the renewal rounds for comparison),
//! after a graceful resign and after SIGKILL of the leader process, against throwaway servers
//! (`scripts/servers/postgres`, `scripts/servers/mysql`).
//!
//! ```text
//! cargo run -p elect-bench --bin sql_failover [-- --rounds 50 --ttl 1s]
//! ```
//!
//! Three candidates run as separate processes, as in `pg_failover` (`src/failover.rs`).
//! Graceful handover runs with ttl=30s, so expiry cannot explain a fast one; the polling row
//! runs with ttl=3s (rounds every 1 s), the period a poller would pick, and a silence longer
//! than that (else the resigned leader, which need not poll, wins again). Crash handover waits for
//! the dead leader's lease to run out on both stores.

use std::time::Duration;

use elect_bench::failover::{header, measure, row, Case, RoundsAndTtl};
use elect_bench::runner;
use elect_testkit::{Server, Store};

/// Time for a candidate that just started or resigned to be waiting in line again before the
/// next round (its `silence` is 10 ms).
const SETTLE: Duration = Duration::from_millis(60);

fn main() {
    elect_bench::failover::run_agent_if_asked();
    runner::run(
        "sql_failover",
        "[--rounds N] [--ttl DURATION]",
        RoundsAndTtl::set,
        bench,
    )
}

fn bench(opts: &RoundsAndTtl) -> Result<(), String> {
    let pg = Server::start(Store::Postgres, "bench-sql");
    let my = Server::start(Store::Mysql, "bench-sql");
    println!(
        "SQL stores failover: {} rounds per case, 3 candidate processes, PostgreSQL 15 and \
         MariaDB 10.11 on loopback",
        opts.rounds
    );
    println!("measured from the resign request / SIGKILL to the new leader's Elected event (CLOCK_MONOTONIC)\n");
    header("store, options");
    let ttl = elect_core::uri::parse_duration(&opts.ttl).map_err(|e| e.to_string())?;
    let crash = format!("ttl={}&retry=100ms&silence=10ms", opts.ttl);
    let crash_target = format!("< {} ms", (ttl + Duration::from_millis(100)).as_millis());
    let cases: [(&str, &Server, String, Case, &str); 5] = [
        (
            "graceful resign",
            &pg,
            "ttl=30s&retry=30s&silence=10ms".into(),
            Case::Resign,
            "< 10 ms",
        ),
        (
            "graceful resign",
            &my,
            "ttl=30s&retry=30s&silence=10ms".into(),
            Case::Resign,
            "< 10 ms",
        ),
        (
            "graceful resign",
            &my,
            "ttl=3s&retry=30s&silence=1500ms&handover=poll".into(),
            Case::Resign,
            "< 1000 ms",
        ),
        (
            "SIGKILL of leader",
            &pg,
            crash.clone(),
            Case::Kill,
            &crash_target,
        ),
        (
            "SIGKILL of leader",
            &my,
            crash.clone(),
            Case::Kill,
            &crash_target,
        ),
    ];
    for (case, server, options, kind, target) in cases {
        let uri = format!("{}?{options}", server.uri());
        let name = format!("bench-{}", elect_testkit::clock::monotonic_ns());
        let samples = measure(&uri, &name, kind, opts.rounds, SETTLE)?;
        let store = server.store.script_name();
        let label = match options.split('&').find(|o| o.starts_with("handover=")) {
            Some(h) => format!("{store} {h}"),
            None => format!("{store} {}", options.split('&').next().unwrap_or("")),
        };
        row(case, &label, &samples, target);
    }
    Ok(())
}
