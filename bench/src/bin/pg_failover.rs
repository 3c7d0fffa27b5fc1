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

#[path = "../../../core/tests/pg_server/mod.rs"]
mod pg_server;

use std::time::Duration;

use elect_cli::fleet::Fleet;
use pg_server::PgServer;

/// Time for a candidate that just started or resigned to be waiting in line again before the
/// next round (its `silence` is 10 ms).
const SETTLE: Duration = Duration::from_millis(60);
const PATIENCE: Duration = Duration::from_secs(60);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("agent") {
        std::process::exit(elect_cli::agent::main(true));
    }
    let opts = match Options::parse(&args[1..]) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("pg_failover: {e}\nusage: pg_failover [--rounds N] [--ttl DURATION]");
            std::process::exit(64);
        }
    };
    if let Err(e) = bench(&opts) {
        eprintln!("pg_failover: {e}");
        std::process::exit(1);
    }
}

struct Options {
    rounds: usize,
    /// Lease ttl of the crash case.
    ttl: String,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options {
            rounds: 50,
            ttl: "1s".into(),
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it.next().ok_or_else(|| format!("{flag}: missing value"))?;
            match flag.as_str() {
                "--rounds" => {
                    o.rounds =
                        value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                            format!("--rounds: `{value}` is not a positive number")
                        })?
                }
                "--ttl" => o.ttl = value.clone(),
                _ => return Err(format!("unknown flag `{flag}`")),
            }
        }
        elect_core::uri::parse_duration(&o.ttl).map_err(|e| format!("--ttl: {e}"))?;
        Ok(o)
    }
}

#[derive(Clone, Copy)]
enum Case {
    Resign,
    Kill,
}

fn bench(opts: &Options) -> Result<(), String> {
    let pg = PgServer::start("bench-failover");
    println!(
        "postgres failover: {} rounds per case, 3 candidate processes, PostgreSQL 15 on loopback",
        opts.rounds
    );
    println!("measured from the resign request / SIGKILL to the new leader's Elected event (CLOCK_MONOTONIC)\n");
    println!(
        "{:<20} {:<22} {:>10} {:>10} {:>10} {:>14}",
        "case", "options", "p50", "p99", "max", "target p99"
    );
    let graceful = "ttl=30s&retry=30s&silence=10ms";
    let samples = measure(&pg, graceful, Case::Resign, opts.rounds)?;
    row("graceful resign", "ttl=30s", &samples, "< 10 ms".into());
    let ttl = elect_core::uri::parse_duration(&opts.ttl).map_err(|e| e.to_string())?;
    let crash = format!("ttl={}&retry=100ms&silence=10ms", opts.ttl);
    let samples = measure(&pg, &crash, Case::Kill, opts.rounds)?;
    let target = format!("< {} ms", (ttl + Duration::from_millis(100)).as_millis());
    row(
        "SIGKILL of leader",
        &format!("ttl={}", opts.ttl),
        &samples,
        target,
    );
    Ok(())
}

/// Failover times in nanoseconds, one per round.
fn measure(pg: &PgServer, options: &str, case: Case, rounds: usize) -> Result<Vec<u64>, String> {
    let uri = format!("{}?{options}", pg.uri());
    let exe = std::env::current_exe().map_err(|e| format!("cannot find my executable: {e}"))?;
    let mut fleet = Fleet::new(exe, vec!["agent".into()]);
    let name = format!("bench-{}", elect_cli::clock::monotonic_ns());
    let mut next_id = 0;
    let mut join = |fleet: &mut Fleet| {
        next_id += 1;
        fleet.join(&uri, &name, &format!("c{next_id}"))
    };
    for _ in 0..3 {
        join(&mut fleet)?;
    }
    let (mut leader, _, _) = fleet.wait_elected(None, PATIENCE, |_, _| {})?;
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        std::thread::sleep(SETTLE);
        let from = match case {
            Case::Resign => fleet.resign(leader)?,
            Case::Kill => fleet.kill(leader),
        };
        let (next, _, at) = fleet.wait_elected(Some(leader), PATIENCE, |_, _| {})?;
        samples.push(at.saturating_sub(from));
        if let Case::Kill = case {
            join(&mut fleet)?;
        }
        leader = next;
    }
    fleet.shutdown();
    Ok(samples)
}

fn row(case: &str, options: &str, samples: &[u64], target: String) {
    let mut v = samples.to_vec();
    v.sort_unstable();
    let pct = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    let ms = |ns: u64| format!("{:.2} ms", ns as f64 / 1e6);
    println!(
        "{case:<20} {options:<22} {:>10} {:>10} {:>10} {target:>14}",
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(v[v.len() - 1])
    );
}
