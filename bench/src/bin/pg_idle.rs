//! Idle cost of many elections on the postgres store: statements per second on the server while
//! 1,000 elections are led by one process (and, in a second phase, waited on by 1,000 candidates
//! in another process), against a throwaway PostgreSQL cluster (`scripts/servers/postgres`).
//!
//! ```text
//! cargo run --release -p elect-bench --bin pg_idle [-- --elections 1000 --window 30s --ttl 10s]
//! ```
//!
//! Statements are counted in the server's log (`log_statement = all`), over a window that
//! starts after every election is led and settled. Without batching, each leader would renew
//! once per `renew` (ttl/3): 1,000 elections at ttl=10s would be 300 statements per second.

use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use elect_bench::runner;
use elect_core::Election;
use elect_testkit::postgres::{log_statements, statements};
use elect_testkit::{Server, Store};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("followers") {
        followers(&args[2], args[3].parse().unwrap());
        return;
    }
    runner::run(
        "pg_idle",
        "[--elections N] [--window DURATION] [--ttl DURATION]",
        Options::set,
        bench,
    )
}

struct Options {
    elections: usize,
    window: Duration,
    ttl: String,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            elections: 1000,
            window: Duration::from_secs(30),
            ttl: "10s".into(),
        }
    }
}

impl Options {
    fn set(&mut self, flag: &str, value: &str) -> Result<(), String> {
        let duration =
            || elect_core::uri::parse_duration(value).map_err(|e| format!("{flag}: {e}"));
        match flag {
            "--elections" => self.elections = runner::positive(flag, value)?,
            "--window" => self.window = duration()?,
            "--ttl" => {
                duration()?;
                self.ttl = value.to_string()
            }
            _ => return Err(format!("unknown flag `{flag}`")),
        }
        Ok(())
    }
}

fn names(n: usize) -> impl Iterator<Item = String> {
    (0..n).map(|i| format!("idle-{i}"))
}

fn bench(opts: &Options) -> Result<(), String> {
    let pg = Server::start(Store::Postgres, "bench-idle");
    log_statements(&pg);
    let uri = format!("{}?ttl={}", pg.uri(), opts.ttl);
    let ttl = elect_core::uri::parse_duration(&opts.ttl)?;
    println!(
        "postgres idle cost: {} elections, ttl={} (renew {} ms), window {:?}, PostgreSQL 15 on loopback\n",
        opts.elections,
        opts.ttl,
        (ttl / 3).as_millis(),
        opts.window
    );
    let started = Instant::now();
    let leaders: Vec<Election> = names(opts.elections)
        .map(|name| Election::open(&format!("{uri}&id=leader"), &name, None))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    for e in &leaders {
        e.start().map_err(|e| e.to_string())?;
    }
    for e in &leaders {
        if !e
            .wait_leader(Some(Duration::from_secs(60)))
            .map_err(|e| e.to_string())?
        {
            return Err(format!("`{}` not led within 60 s", e.name()));
        }
    }
    println!(
        "{} elections led after {:.2} s",
        opts.elections,
        started.elapsed().as_secs_f64()
    );
    let per_election = opts.elections as f64 * 3.0 / ttl.as_secs_f64();
    let rate = measure(&pg, opts.window);
    println!(
        "{:<44} {:>8.2} statements/s   (one per election and renewal would be {:.0}/s)",
        format!("{} leaders, one process", opts.elections),
        rate,
        per_election
    );

    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args(["followers", &uri, &opts.elections.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut ready = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .map_err(|e| e.to_string())?;
    if ready.trim() != "ready" {
        let _ = child.kill();
        return Err(format!("followers did not start: `{}`", ready.trim()));
    }
    let rate = measure(&pg, opts.window);
    println!(
        "{:<44} {:>8.2} statements/s",
        format!("+ {} waiting candidates, second process", opts.elections),
        rate
    );
    drop(child.stdin.take()); // end of input: the followers close and exit
    let _ = child.wait();
    let still = leaders.iter().filter(|e| e.is_leader()).count();
    println!("{still} of {} still leading at the end", opts.elections);
    Ok(())
}

/// Statements per second the server executed over `window`, after a settling pause.
fn measure(pg: &Server, window: Duration) -> f64 {
    std::thread::sleep(Duration::from_secs(5));
    let before = statements(pg);
    let t = Instant::now();
    std::thread::sleep(window);
    let statements = statements(pg) - before;
    statements as f64 / t.elapsed().as_secs_f64()
}

/// Child mode: `n` candidates that wait in line behind the parent's leaders, until stdin ends.
fn followers(uri: &str, n: usize) {
    let elections: Vec<Election> = names(n)
        .map(|name| Election::open(&format!("{uri}&id=follower"), &name, None).unwrap())
        .collect();
    for e in &elections {
        e.start().unwrap();
    }
    std::thread::sleep(Duration::from_secs(2)); // every candidate reaches its first wait
    println!("ready");
    let _ = std::io::stdout().flush();
    for _ in std::io::stdin().lock().lines() {}
}
