//! The hand-off (the mechanism of priority preemption: the leader hands the leadership to one
//! named candidate, enforced by the store) next to the graceful resign, on every store.
//!
//! ```text
//! cargo run -p elect-bench --bin handoff_failover [-- --rounds 50 --store zk]
//! ```
//!
//! Three candidates run as separate processes (`src/failover.rs`). Each round the leader either
//! resigns (the next in line, or the fastest waiter, takes over) or hands over to the candidate
//! last in line (`Election::hand_over_to`), passing over the one ahead of it: on etcd and
//! ZooKeeper that one is moved to the end of the line in the same transaction; on the lock
//! stores a hand-off record lets only the named one be granted. Measured from the request to the
//! new leader's `Elected` event (CLOCK_MONOTONIC, shared by the processes). Servers: the run's
//! (`ELECT_<STORE>_URI`) or throwaway ones (`scripts/servers/*`).

use std::time::Duration;

use elect_bench::failover::{header, measure, row, Case};
use elect_bench::runner;
use elect_testkit::{Server, Store};

/// Time for a candidate that just started, resigned or was moved to be waiting in line again
/// before the next round (its `silence` is 10 ms).
const SETTLE: Duration = Duration::from_millis(60);

struct Opts {
    rounds: usize,
    /// Only this store (`file`, `etcd`, `zk`, `redis`, `postgres`, `mysql`), or all.
    store: Option<String>,
}

impl Default for Opts {
    fn default() -> Opts {
        Opts {
            rounds: 50,
            store: None,
        }
    }
}

fn main() {
    elect_bench::failover::run_agent_if_asked();
    runner::run(
        "handoff_failover",
        "[--rounds N] [--store NAME]",
        |o: &mut Opts, flag, value| match flag {
            "--rounds" => {
                o.rounds = runner::positive(flag, value)?;
                Ok(())
            }
            "--store" => {
                o.store = Some(value.to_string());
                Ok(())
            }
            _ => Err(format!("unknown flag `{flag}`")),
        },
        bench,
    )
}

fn bench(opts: &Opts) -> Result<(), String> {
    println!(
        "hand-off vs graceful resign: {} rounds per case, 3 candidate processes, ttl=10s (an \
         expiry cannot explain a fast one)",
        opts.rounds
    );
    println!("measured from the request to the new leader's Elected event (CLOCK_MONOTONIC)\n");
    header("store");
    let dir = std::env::temp_dir().join(format!("elect-handoff-bench-{}", std::process::id()));
    let mut stores = vec![(
        "file".to_string(),
        format!("file://{}", dir.display()),
        None,
    )];
    for store in [
        Store::Etcd,
        Store::Zk,
        Store::Redis,
        Store::Postgres,
        Store::Mysql,
    ] {
        if opts
            .store
            .as_deref()
            .is_some_and(|s| s != format!("{store:?}").to_lowercase())
        {
            continue;
        }
        let server = Server::shared(store);
        stores.push((
            format!("{store:?}").to_lowercase(),
            server.uri(),
            Some(server),
        ));
    }
    let options = "ttl=10s&retry=1s&silence=10ms";
    let wanted = |label: &str| opts.store.as_deref().is_none_or(|s| s == label);
    stores.retain(|(label, _, _)| wanted(label));
    for (label, base, _server) in &stores {
        let sep = if base.contains('?') { '&' } else { '?' };
        let uri = format!("{base}{sep}{options}");
        for (case, kind) in [
            ("graceful resign", Case::Resign),
            ("hand-off", Case::HandOver),
        ] {
            let name = format!("handoff-bench-{}", elect_testkit::server::unique());
            let samples = measure(&uri, &name, kind, opts.rounds, SETTLE)?;
            row(case, label, &samples, "-");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
