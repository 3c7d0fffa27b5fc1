//! `elect observe`: follow who leads an election without campaigning, one JSON line per change.
//!
//! ```text
//! {"time":"2026-11-22T02:24:16.123Z","leader":{"id":"web-1","value":"","term":7}}
//! {"time":"2026-11-22T02:24:19.004Z","leader":null}
//! ```
//!
//! Errors the election recovers from go to stderr as `{"time":..,"error":".."}`. Runs until
//! SIGINT, SIGTERM or SIGHUP (exit 0) or until stdout is closed (exit 74).
//!
//! With `--metrics` it prints instead, once, the metrics of the election as this observer sees
//! them, in the Prometheus text format, as soon as the store told who leads (exit 0), or after
//! `connect_timeout` without an answer (exit 75, the metrics then show the store errors).

use std::io::Write;
use std::sync::mpsc::channel;
use std::time::Duration;

use elect_core::{Election, Error, Event, LeaderInfo};
use serde_json::{json, Value};

use crate::{clock, exit, metrics, options, signals};

enum Msg {
    Signal,
    StdoutClosed,
}

pub fn main(uri: &str, name: &str) -> i32 {
    let stop_signals = match signals::block() {
        Ok(s) => s,
        Err(e) => return exit::fail(&Error::internal(format!("cannot block signals: {e}"))),
    };
    let (tx, rx) = channel();
    let broken = tx.clone();
    let handler = Box::new(move |ev: &Event| match ev {
        Event::LeaderChanged { leader } => {
            let line =
                json!({"time": clock::utc_now(), "leader": leader.as_ref().map(leader_json)});
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                let _ = broken.send(Msg::StdoutClosed);
            }
        }
        Event::Error { message } => {
            eprintln!("{}", json!({"time": clock::utc_now(), "error": message}));
        }
        _ => {}
    });
    let election = match options::config(uri, name)
        .and_then(|config| Election::open_with(config, name, Some(handler)))
    {
        Ok(e) => e,
        Err(e) => return exit::fail(&e),
    };
    signals::forward(stop_signals, move |_| {
        let _ = tx.send(Msg::Signal);
    });
    if let Err(e) = election.observe() {
        return exit::fail(&e);
    }
    let code = match rx.recv() {
        Ok(Msg::StdoutClosed) => exit::IOERR,
        Ok(Msg::Signal) | Err(_) => exit::OK,
    };
    election.close();
    code
}

fn leader_json(l: &LeaderInfo) -> Value {
    json!({"id": l.id, "value": l.value, "term": l.term})
}

/// `elect observe --metrics`: one Prometheus text snapshot, once the leader is known.
pub fn print_metrics(uri: &str, name: &str) -> i32 {
    let (tx, rx) = channel();
    let handler = Box::new(move |ev: &Event| {
        if let Event::LeaderChanged { leader } = ev {
            let _ = tx.send(leader.clone());
        }
    });
    let election = match options::config(uri, name)
        .and_then(|config| Election::open_with(config, name, Some(handler)))
    {
        Ok(e) => e,
        Err(e) => return exit::fail(&e),
    };
    if let Err(e) = election.observe() {
        return exit::fail(&e);
    }
    let wait = election
        .config()
        .connect_timeout
        .max(Duration::from_secs(1));
    let leader = rx.recv_timeout(wait).ok();
    let text = metrics::prometheus(name, &election.stats(), leader.as_ref());
    election.close();
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return exit::IOERR;
    }
    if leader.is_some() {
        exit::OK
    } else {
        exit::TEMPFAIL
    }
}
