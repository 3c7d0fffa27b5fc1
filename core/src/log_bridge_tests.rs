//! The bridge is process-wide state, so its behaviours are checked in one test, in order.

use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use super::*;

const WAIT: Duration = Duration::from_secs(10);

/// A sink that sends this module's records (other tests of the crate log too) to a channel.
fn collect() -> (Sink, Receiver<Record>) {
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    let sink: Sink = Box::new(move |r: &Record| {
        if r.target == module_path!() || r.target == "elect_core::log_bridge" {
            let _ = tx.lock().unwrap().send(r.clone());
        }
    });
    (sink, rx)
}

/// Counts how often the message field of an event is formatted.
struct Counted(Arc<AtomicU64>);

impl fmt::Display for Counted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fetch_add(1, Relaxed);
        f.write_str("counted")
    }
}

#[test]
fn records_reach_the_sink_filtered_in_core_and_dropped_when_it_is_slow() {
    // Nobody listens: the arguments are not even formatted.
    let formatted = Arc::new(AtomicU64::new(0));
    set_sink(None, Level::Trace);
    tracing::warn!("{}", Counted(formatted.clone()));
    assert_eq!(
        formatted.load(Relaxed),
        0,
        "formatted with no sink registered"
    );
    assert_eq!(level(), None);

    // INFO and above arrive, with their fields; DEBUG is filtered out before formatting.
    let (sink, rx) = collect();
    set_sink(Some(sink), Level::Info);
    tracing::debug!("{}", Counted(formatted.clone()));
    tracing::info!(election = "e1", id = "a0", term = 7u64, store = %"redis://h:1/", extra = 3, "hello {}", "there");
    let r = rx.recv_timeout(WAIT).expect("the INFO record arrives");
    assert_eq!(
        formatted.load(Relaxed),
        0,
        "a DEBUG record was formatted at INFO"
    );
    assert_eq!(r.level, Level::Info);
    assert_eq!(r.message, "hello there");
    assert_eq!(r.election.as_deref(), Some("e1"));
    assert_eq!(r.id.as_deref(), Some("a0"));
    assert_eq!(r.term, Some(7));
    assert_eq!(r.store.as_deref(), Some("redis://h:1/"));
    assert_eq!(r.fields, vec![("extra".to_string(), "3".to_string())]);
    assert_eq!(
        r.to_string(),
        format!(
            "INFO {}: hello there election=e1 store=redis://h:1/ id=a0 term=7 extra=3",
            module_path!()
        )
    );

    // A sink that blocks: the caller does not, the overflow is counted and then reported.
    let gate = Arc::new(Barrier::new(2));
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    let blocked = gate.clone();
    set_sink(
        Some(Box::new(move |r: &Record| {
            if r.message == "first" {
                blocked.wait();
            }
            if r.target.starts_with("elect_core::log_bridge") {
                let _ = tx.lock().unwrap().send(r.clone());
            }
        })),
        Level::Info,
    );
    let before = dropped();
    tracing::info!("first");
    for i in 0..QUEUE + 10 {
        tracing::info!("flood {i}");
    }
    assert!(dropped() > before, "a full queue dropped nothing");
    gate.wait();
    let report = rx
        .iter()
        .find(|r| r.message.contains("were dropped"))
        .expect("the drop count is reported");
    assert_eq!(report.level, Level::Warn);

    // Removed: nothing is delivered, nothing formatted.
    let (sink, rx) = collect();
    set_sink(Some(sink), Level::Trace);
    set_sink(None, Level::Trace);
    tracing::error!("{}", Counted(formatted.clone()));
    assert_eq!(
        formatted.load(Relaxed),
        0,
        "formatted after the sink was removed"
    );
    assert_eq!(level(), None);
    drop(rx);
}

#[test]
fn level_names_parse() {
    assert_eq!(Level::parse("WARNING"), Some(Level::Warn));
    assert_eq!(Level::parse(" debug "), Some(Level::Debug));
    assert_eq!(Level::parse("loud"), None);
    assert_eq!(Level::from_i32(3), Some(Level::Info));
    assert_eq!(Level::from_i32(0), None);
}
