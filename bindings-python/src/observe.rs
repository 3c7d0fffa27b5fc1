//! Core's log records and metrics for the package: `set_log_sink` (records as tuples to one
//! Python function, which `elect._logging` feeds into `logging`) and the stats and health
//! snapshots of an election as tuples.

use std::time::{Duration, UNIX_EPOCH};

use elect_core::log_bridge::{self, Level, Record};
use elect_core::{Error, Health, RevokeReason, Stats};
use pyo3::prelude::*;

use crate::errors::to_py;

/// `(level, target, message, election, store, id, term, fields)` as the sink receives it:
/// `level` 1 (error) to 5 (trace), `fields` the other fields as `(key, value)` pairs.
type RecordTuple = (
    u8,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<u64>,
    Vec<(String, String)>,
);

/// Sends core's records at `min_level` (1-5) and more severe to `sink` (on the library's log
/// thread, with the GIL); `None` removes it. An exception `sink` raises goes to
/// `sys.unraisablehook`.
#[pyfunction]
#[pyo3(signature = (sink, min_level))]
pub fn set_log_sink(py: Python<'_>, sink: Option<Py<PyAny>>, min_level: i32) -> PyResult<()> {
    let Some(level) = Level::from_i32(min_level) else {
        let msg = format!("min_level: {min_level} is not a level (1 error .. 5 trace)");
        return Err(to_py(py, Error::invalid(msg)));
    };
    let sink = sink.map(|f| -> log_bridge::Sink {
        Box::new(move |r: &Record| {
            // At interpreter shutdown there is no GIL to take: the record is dropped.
            Python::try_attach(|py| {
                if let Err(e) = f.call1(py, (record_tuple(r),)) {
                    e.write_unraisable(py, Some(f.bind(py)));
                }
            });
        })
    });
    // Without the GIL: replacing a sink waits for a call in progress, which may need the GIL.
    py.detach(|| log_bridge::set_sink(sink, level));
    Ok(())
}

/// How many log records were dropped because the sink did not keep up.
#[pyfunction]
pub fn log_records_dropped() -> u64 {
    log_bridge::dropped()
}

fn record_tuple(r: &Record) -> RecordTuple {
    (
        r.level as u8,
        r.target.clone(),
        r.message.clone(),
        r.election.clone(),
        r.store.clone(),
        r.id.clone(),
        r.term,
        r.fields.clone(),
    )
}

/// `(terms_won, {reason: count}, store_errors, reconnects, last_failover (Unix seconds) |
/// None, lease_remaining (s) | None, store_rtt (s) | None, store_connected, failovers)`.
pub type StatsTuple = (
    u64,
    Vec<(&'static str, u64)>,
    u64,
    u64,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    bool,
    u64,
);

pub fn stats_tuple(s: &Stats) -> StatsTuple {
    let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
    (
        s.terms_won,
        RevokeReason::ALL
            .map(|r| (r.name(), s.revocations(r)))
            .to_vec(),
        s.store_errors,
        s.reconnects,
        secs(
            s.last_failover
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok()),
        ),
        secs(s.lease_remaining),
        secs(s.store_rtt),
        s.store_connected,
        s.failovers,
    )
}

/// `(ok, leading, store_connected, lease_remaining (s) | None)`; the state is read separately.
pub fn health_tuple(h: &Health) -> (bool, bool, bool, Option<f64>) {
    (
        h.ok,
        h.leading,
        h.store_connected,
        h.lease_remaining.map(|d| d.as_secs_f64()),
    )
}
