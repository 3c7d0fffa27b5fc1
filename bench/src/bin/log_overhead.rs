//! The cost of the log path (`elect_core::log_bridge`) to an election: `is_leader()` and lease
//! renewals with nobody listening, with a sink at WARN (a host that logs warnings), and with a
//! sink at TRACE (everything delivered). With nobody listening they must match a build without
//! the log path: every call site is then off (one atomic load) and nothing is formatted.
//!
//! ```text
//! cargo run --release -p elect-bench --bin log_overhead [-- --rounds 300 --dir DIR]
//! ```
//!
//! - `is_leader()`: per round, the mean of 10,000 calls on a leading election (ns per call);
//! - renewal: the round trip of each confirmed renewal as the engine measures it (from the
//!   request to the processed answer, `Stats::store_rtt`), on the file store renewing every
//!   5 ms; one sample per renewal.
//!
//! Median and p99 over the rounds, as `src/stats.rs` defines them.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use elect_bench::runner::{positive, run};
use elect_bench::stats::Summary;
use elect_core::log_bridge::{self, Level, Record};
use elect_core::Election;

const CALLS: u32 = 10_000;

struct Options {
    rounds: usize,
    dir: PathBuf,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            rounds: 300,
            dir: std::env::temp_dir().join(format!("elect-log-overhead-{}", std::process::id())),
        }
    }
}

/// What listens to the log path in one run.
#[derive(Clone, Copy)]
enum Mode {
    Nobody,
    Sink(Level),
}

impl Mode {
    fn name(self) -> String {
        match self {
            Mode::Nobody => "nobody listens".into(),
            Mode::Sink(l) => format!("sink at {}", l.as_str().to_uppercase()),
        }
    }

    fn apply(self) {
        match self {
            Mode::Nobody => log_bridge::set_sink(None, Level::Error),
            // A sink that does the least a host's logger does: look at the record.
            Mode::Sink(l) => log_bridge::set_sink(
                Some(Box::new(|r: &Record| {
                    std::hint::black_box(r.message.len());
                })),
                l,
            ),
        }
    }
}

fn main() {
    run(
        "log_overhead",
        "[--rounds N] [--dir DIR]",
        |o: &mut Options, flag, value| {
            match flag {
                "--rounds" => o.rounds = positive(flag, value)?,
                "--dir" => o.dir = PathBuf::from(value),
                _ => return Err(format!("unknown flag {flag}")),
            }
            Ok(())
        },
        bench,
    )
}

fn bench(o: &Options) -> Result<(), String> {
    std::fs::create_dir_all(&o.dir).map_err(|e| format!("{}: {e}", o.dir.display()))?;
    let uri = format!("file://{}?ttl=1s&renew=5ms", o.dir.display());
    let e = Election::open(&uri, "log-overhead", None).map_err(|e| e.to_string())?;
    e.start().map_err(|e| e.to_string())?;
    if !e
        .wait_leader(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?
    {
        return Err("not elected within 10 s".into());
    }
    println!(
        "{} rounds; {CALLS} is_leader() calls per round; one renewal per sample",
        o.rounds
    );
    println!("| case                 | is_leader() p50 | p99        | renewal p50 | p99       |");
    println!("|----------------------|-----------------|------------|-------------|-----------|");
    for mode in [
        Mode::Nobody,
        Mode::Sink(Level::Warn),
        Mode::Sink(Level::Trace),
        Mode::Nobody,
    ] {
        mode.apply();
        let calls = Summary::of_ns(&is_leader_rounds(&e, o.rounds));
        let renewals = Summary::of(&renewals(&e, o.rounds)?);
        println!(
            "| {:<20} | {:>12.1} ns | {:>7.1} ns | {:>8.1} us | {:>6.1} us |",
            mode.name(),
            calls.p50.as_nanos() as f64,
            calls.p99.as_nanos() as f64,
            renewals.p50.as_nanos() as f64 / 1e3,
            renewals.p99.as_nanos() as f64 / 1e3,
        );
    }
    e.close();
    let _ = std::fs::remove_dir_all(&o.dir);
    Ok(())
}

/// Nanoseconds per `is_leader()` call, one sample per round of `CALLS` calls.
fn is_leader_rounds(e: &Election, rounds: usize) -> Vec<u64> {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..CALLS {
                std::hint::black_box(e.is_leader());
            }
            (start.elapsed().as_nanos() / CALLS as u128) as u64
        })
        .collect()
}

/// The round trips of the next `n` renewals, read from the snapshot as each one lands (two
/// renewals rarely take the same number of nanoseconds, so a change is a new renewal).
fn renewals(e: &Election, n: usize) -> Result<Vec<Duration>, String> {
    let mut out = Vec::with_capacity(n);
    let mut last = e.stats().store_rtt;
    let deadline = Instant::now() + Duration::from_secs(60) + Duration::from_millis(20) * n as u32;
    while out.len() < n {
        if Instant::now() > deadline {
            return Err(format!("only {} renewals within the time limit", out.len()));
        }
        std::thread::sleep(Duration::from_micros(500));
        let rtt = e.stats().store_rtt;
        if rtt != last {
            if let Some(rtt) = rtt {
                out.push(rtt);
            }
            last = rtt;
        }
    }
    Ok(out)
}
