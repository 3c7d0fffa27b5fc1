//! Lease-aware work against a real Redis server: the remaining lease, the per-term handle that
//! is cancelled at Revoked, and `drain`, which hands over only after the term's work stopped
//! (the predecessor's last write to a fenced resource comes before the successor's first).

mod common;

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use elect_core::{Election, Event, RevokeReason};
use elect_testkit::fenced::Fenced;
use elect_testkit::server::{unique, Server, Store};
use elect_testkit::wait::{expect_within, sole_leader, WAIT};

const OPTS: &str = "ttl=2s&retry=200ms";

fn open(
    uri: &str,
    name: &str,
    id: &str,
    opts: &str,
) -> (Election, std::sync::mpsc::Receiver<Event>) {
    common::open_recording(&format!("{uri}?id={id}&{OPTS}{opts}"), name)
}

#[test]
fn the_remaining_lease_is_bounded_by_ttl_and_none_when_not_leading() {
    let server = Server::shared(Store::Redis);
    let name = format!("remaining-{}", unique());
    let (e, rx) = open(&server.uri(), &name, "a", "");
    assert_eq!(e.lease_remaining(), None, "idle");
    assert!(e.term().is_none(), "no term before leading");
    e.start().unwrap();
    expect_within(&rx, WAIT, |ev| matches!(ev, Event::Elected { .. }));
    let left = e.lease_remaining().expect("leading: some lease left");
    assert!(
        left > Duration::ZERO && left <= Duration::from_secs(2),
        "{left:?}"
    );
    let term = e.term().expect("a term while leading");
    assert_eq!(Some(term.token()), e.fencing_token());
    assert!(term.remaining().unwrap() <= Duration::from_secs(2));
    assert!(!term.is_cancelled());
    e.resign().unwrap();
    assert_eq!(e.lease_remaining(), None, "resigned");
    assert!(term.is_cancelled(), "resign ends the term");
    assert_eq!(term.remaining(), None);
}

#[test]
fn a_term_is_cancelled_when_the_server_stops_answering() {
    let server = Server::start(Store::Redis, "term-pause");
    let (e, rx) = open(&server.uri(), "paused", "a", "");
    e.start().unwrap();
    expect_within(&rx, WAIT, |ev| matches!(ev, Event::Elected { .. }));
    let term = e.term().expect("leading");
    let worker = {
        let term = term.clone();
        thread::spawn(move || term.wait_cancelled(Some(WAIT)))
    };
    server.pause();
    let cancelled = worker.join().unwrap();
    server.resume();
    assert!(cancelled, "the worker saw the cancellation");
    assert!(term.is_cancelled());
    expect_within(&rx, WAIT, |ev| matches!(ev, Event::Revoked { .. }));
}

#[test]
fn async_work_sees_the_cancellation() {
    let server = Server::shared(Store::Redis);
    let name = format!("async-{}", unique());
    let (e, rx) = open(&server.uri(), &name, "a", "");
    e.start().unwrap();
    expect_within(&rx, WAIT, |ev| matches!(ev, Event::Elected { .. }));
    let term = e.term().expect("leading");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let e = Arc::new(e);
    let resigner = {
        let e = e.clone();
        thread::spawn(move || e.resign())
    };
    let outcome = rt.block_on(async { tokio::time::timeout(WAIT, term.cancelled()).await });
    resigner.join().unwrap().unwrap();
    assert!(outcome.is_ok(), "the async wait ended with the term");
}

/// Who wrote to the fenced resource, in order, and whether it accepted each write.
#[derive(Default)]
struct Log {
    fenced: Fenced,
    writes: Vec<(&'static str, u64, bool)>,
}

/// The term's work: writes with its token until cancelled, then one last write after a short
/// wind-down (flushing a batch), then lets go of the term.
fn work(who: &'static str, term: elect_core::Term, log: Arc<Mutex<Log>>) {
    let write = |log: &Mutex<Log>| {
        let mut l = log.lock().unwrap();
        let ok = l.fenced.write(term.token());
        l.writes.push((who, term.token(), ok));
    };
    while !term.wait_cancelled(Some(Duration::from_millis(20))) {
        write(&log);
    }
    thread::sleep(Duration::from_millis(300)); // the wind-down the drain must wait for
    write(&log);
}

/// Runs a handover from `a` to `b` on `uri` with `opts`, and returns the log of writes.
fn handover(uri: &str, opts: &str) -> Log {
    let name = format!("drain-{}", unique());
    let log = Arc::new(Mutex::new(Log::default()));
    let (a, arx) = open(uri, &name, "a", opts);
    a.start().unwrap();
    expect_within(&arx, WAIT, |ev| matches!(ev, Event::Elected { .. }));
    let (b, brx) = open(uri, &name, "b", opts);
    b.start().unwrap();
    elect_testkit::wait::members(&a, 2);
    let a_work = {
        let (term, log) = (a.term().unwrap(), log.clone());
        thread::spawn(move || work("a", term, log))
    };
    a.resign().unwrap();
    let revoked = expect_within(&arx, WAIT, |ev| matches!(ev, Event::Revoked { .. }));
    assert!(matches!(
        revoked,
        Event::Revoked {
            reason: RevokeReason::Resigned,
            ..
        }
    ));
    expect_within(&brx, WAIT, |ev| matches!(ev, Event::Elected { .. }));
    assert!(std::ptr::eq(sole_leader(&[&a, &b], WAIT), &b));
    let b_work = {
        let (term, log) = (b.term().unwrap(), log.clone());
        thread::spawn(move || work("b", term, log))
    };
    a_work.join().unwrap();
    b.close();
    b_work.join().unwrap();
    Arc::try_unwrap(log).ok().unwrap().into_inner().unwrap()
}

#[test]
fn with_drain_the_successor_writes_only_after_the_predecessors_last_write() {
    let server = Server::shared(Store::Redis);
    let log = handover(&server.uri(), "&drain=5s");
    let first_b = log.writes.iter().position(|w| w.0 == "b").expect("b wrote");
    assert!(
        log.writes[first_b..].iter().all(|w| w.0 == "b"),
        "a wrote after b's first write: {:?}",
        log.writes
    );
    assert!(
        log.writes.iter().all(|w| w.2),
        "a write was rejected: {:?}",
        log.writes
    );
}

#[test]
fn without_drain_the_predecessors_last_write_is_fenced_off() {
    let server = Server::shared(Store::Redis);
    let log = handover(&server.uri(), "");
    let rejected: Vec<_> = log.writes.iter().filter(|w| !w.2).collect();
    assert!(
        rejected.iter().any(|w| w.0 == "a"),
        "without drain, a's late write should overlap b's term: {:?}",
        log.writes
    );
}
