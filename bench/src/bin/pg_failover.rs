//! Failover time on the postgres store, after a graceful resign and after SIGKILL of the leader
//! process, against a throwaway PostgreSQL cluster (`scripts/servers/postgres`).
//!
//! ```text
//! cargo run --release -p elect-bench --bin pg_failover [-- --rounds 50 --ttl 1s]
//! ```
//!
//! Three candidates run as separate processes (this binary re-executed as the scenario agent),
//! exactly as in `file_failover`. Failover time is measured on `CLOCK_MONOTONIC`, shared by all
//! processes: from just before the resign request is written (or the SIGKILL is sent) to the
//! moment the new leader's process delivers its `Elected` event. Graceful handover goes through
//! NOTIFY (the ttl is 30 s there, so expiry cannot explain it); crash handover waits for the
//! dead leader's lease to run out, so it is at most the ttl after its last renewal.

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
        "pg_failover",
        "[--rounds N] [--ttl DURATION]",
        RoundsAndTtl::set,
        bench,
    )
}

fn bench(opts: &RoundsAndTtl) -> Result<(), String> {
    let pg = Server::start(Store::Postgres, "bench-failover");
    println!(
        "postgres failover: {} rounds per case, 3 candidate processes, PostgreSQL 15 on loopback",
        opts.rounds
    );
    println!("measured from the resign request / SIGKILL to the new leader's Elected event (CLOCK_MONOTONIC)\n");
    header("options");
    let graceful = "ttl=30s&retry=30s&silence=10ms";
    let samples = measure_pg(&pg, graceful, Case::Resign, opts.rounds)?;
    row("graceful resign", "ttl=30s", &samples, "< 10 ms");
    let ttl = elect_core::uri::parse_duration(&opts.ttl).map_err(|e| e.to_string())?;
    let crash = format!("ttl={}&retry=100ms&silence=10ms", opts.ttl);
    let samples = measure_pg(&pg, &crash, Case::Kill, opts.rounds)?;
    let target = format!("< {} ms", (ttl + Duration::from_millis(100)).as_millis());
    row(
        "SIGKILL of leader",
        &format!("ttl={}", opts.ttl),
        &samples,
        &target,
    );
    Ok(())
}

/// Failover times in nanoseconds, one per round, in an election of its own.
fn measure_pg(pg: &Server, options: &str, case: Case, rounds: usize) -> Result<Vec<u64>, String> {
    let uri = format!("{}?{options}", pg.uri());
    let name = format!("bench-{}", elect_testkit::clock::monotonic_ns());
    measure(&uri, &name, case, rounds, SETTLE)
}
