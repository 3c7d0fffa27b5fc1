//! The cost of many idle elections in one process, on one store: this process's resident memory,
//! threads and CPU while all of them lead and nothing happens. Prints one result line (JSON,
//! `src/result.rs`) for `scripts/bench`.
//!
//! ```text
//! ELECT_X_URI=... idle_cost --uri-env ELECT_X_URI [--elections 1000] [--seconds 10] [--callbacks true]
//! ```
//!
//! The URI is read from the environment variable `--uri-env` names, never from the command line,
//! which every user of the machine can read (`ps`) and which would show a store's password.
//! Every election is opened by this process under its own name, so each one leads; the store's
//! default ttl (10 s) applies unless the URI sets one. With `--callbacks true` every election
//! gets an event handler, as the Java and Python bindings always register one.

use std::time::{Duration, Instant};

use elect_bench::procfs::{cpu_ticks, rss_kib, threads, TICKS_PER_SEC};
use elect_bench::{result, runner};
use elect_core::{Election, Event};

const PATIENCE: Duration = Duration::from_secs(120);

struct Options {
    /// The URI, read from the variable `--uri-env` names.
    uri: String,
    elections: usize,
    seconds: u64,
    callbacks: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            uri: String::new(),
            elections: 1000,
            seconds: 10,
            callbacks: false,
        }
    }
}

fn set(o: &mut Options, flag: &str, value: &str) -> Result<(), String> {
    match flag {
        "--uri" => {
            return Err(format!(
                "{flag}: pass the URI in an environment variable and name it with --uri-env \
                 (a command line is visible to every user)"
            ))
        }
        "--uri-env" => {
            o.uri = std::env::var(value)
                .map_err(|_| format!("{flag}: the environment variable `{value}` is not set"))?
        }
        "--elections" => o.elections = runner::positive(flag, value)?,
        "--seconds" => o.seconds = runner::positive(flag, value)? as u64,
        "--callbacks" => {
            o.callbacks = value
                .parse()
                .map_err(|_| format!("{flag}: `{value}` is neither true nor false"))?
        }
        _ => return Err(format!("unknown flag `{flag}`")),
    }
    Ok(())
}

fn main() {
    runner::run(
        "idle_cost",
        "--uri-env VAR [--elections N] [--seconds S] [--callbacks true|false]",
        set,
        bench,
    )
}

fn bench(o: &Options) -> Result<(), String> {
    if o.uri.is_empty() {
        return Err("--uri-env is required".into());
    }
    let store = elect_core::uri::Config::parse(&o.uri)
        .map_err(|e| format!("--uri-env: {e}"))?
        .scheme
        .as_str();
    let me = std::process::id();
    let rss_before = rss_kib(me);
    let started = Instant::now();
    let mut elections = Vec::with_capacity(o.elections);
    for i in 0..o.elections {
        let handler: Option<elect_core::Handler> = if o.callbacks {
            Some(Box::new(|_: &Event| {}))
        } else {
            None
        };
        let e = Election::open(&o.uri, &format!("idle-{me}-{i}"), handler)
            .map_err(|e| format!("open: {e}"))?;
        e.start().map_err(|e| format!("start: {e}"))?;
        elections.push(e);
    }
    for e in &elections {
        if !e.wait_leader(Some(PATIENCE)).map_err(|e| e.to_string())? {
            return Err(format!("not every election led within {PATIENCE:?}"));
        }
    }
    let ready = started.elapsed();
    // One-off reads of the new leaders settle before the window.
    std::thread::sleep(Duration::from_secs(2));
    let (cpu0, t0) = (cpu_ticks(me), Instant::now());
    std::thread::sleep(Duration::from_secs(o.seconds));
    let (cpu1, window) = (cpu_ticks(me), t0.elapsed().as_secs_f64());
    let leading = elections.iter().filter(|e| e.is_leader()).count();
    let mib = |kib: u64| (kib as f64 / 1024.0 * 10.0).round() / 10.0;
    result::print(
        "idle",
        vec![
            ("lang", "rust".into()),
            ("lib", "elect".into()),
            ("store", store.into()),
            ("elections", o.elections.into()),
            ("callbacks", o.callbacks.into()),
            ("leading", leading.into()),
            ("rss_mib", mib(rss_kib(me)).into()),
            ("rss_before_mib", mib(rss_before).into()),
            ("threads", threads(me).into()),
            (
                "cpu_pct",
                (((cpu1 - cpu0) as f64 / TICKS_PER_SEC / window * 1e4).round() / 100.0).into(),
            ),
            (
                "ready_s",
                ((ready.as_secs_f64() * 10.0).round() / 10.0).into(),
            ),
            ("window_s", window.round().into()),
        ],
    );
    drop(elections);
    Ok(())
}
