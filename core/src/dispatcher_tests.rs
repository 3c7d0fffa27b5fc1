//! The dispatcher's promises: per-election order without overlap on a bounded pool, a blocked
//! callback delaying only its own election, close from inside and outside a callback.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;

const WAIT: Duration = Duration::from_secs(20);

/// A pool of the test's own, so that counting its workers is not disturbed by other tests.
fn pool() -> &'static Pool {
    Box::leak(Box::default())
}

fn dispatcher(pool: &'static Pool, handler: Handler) -> Dispatcher {
    let log = EventLog {
        election: "test".into(),
        id: "a".into(),
        store: "file:///unused".into(),
        lease: Arc::default(),
    };
    Dispatcher {
        log,
        metrics: Metrics::default(),
        queue: Some(Arc::new(Queue::new(handler, pool))),
    }
}

fn elected(term: u64) -> Event {
    Event::Elected { term }
}

/// A handler that forwards `(election, term)` and blocks on `gate` while it holds `true`.
fn forwarding(
    election: usize,
    to: Sender<(usize, u64)>,
    gate: Arc<(Mutex<bool>, std::sync::Condvar)>,
) -> Handler {
    Box::new(move |event| {
        let (closed, opened) = &*gate;
        let mut shut = closed.lock().unwrap();
        while *shut {
            shut = opened.wait(shut).unwrap();
        }
        if let Event::Elected { term } = event {
            let _ = to.send((election, *term));
        }
    })
}

fn open_gate() -> Arc<(Mutex<bool>, std::sync::Condvar)> {
    Arc::new((Mutex::new(false), std::sync::Condvar::new()))
}

fn set_gate(gate: &(Mutex<bool>, std::sync::Condvar), shut: bool) {
    *gate.0.lock().unwrap() = shut;
    gate.1.notify_all();
}

fn recv(rx: &Receiver<(usize, u64)>) -> (usize, u64) {
    rx.recv_timeout(WAIT).expect("an event was not delivered")
}

#[test]
fn each_election_gets_its_events_in_order_without_overlap_on_few_threads() {
    let pool = pool();
    let (elections, per) = (300, 50);
    let overlaps = Arc::new(AtomicUsize::new(0));
    let threads = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let seen: Vec<Arc<Mutex<Vec<u64>>>> = (0..elections).map(|_| Arc::default()).collect();
    let dispatchers: Vec<Dispatcher> = (0..elections)
        .map(|i| {
            let (inside, overlaps, threads, seen) = (
                Arc::new(AtomicBool::new(false)),
                overlaps.clone(),
                threads.clone(),
                seen[i].clone(),
            );
            dispatcher(
                pool,
                Box::new(move |event| {
                    if inside.swap(true, SeqCst) {
                        overlaps.fetch_add(1, SeqCst);
                    }
                    threads.lock().unwrap().insert(std::thread::current().id());
                    if let Event::Elected { term } = event {
                        seen.lock().unwrap().push(*term);
                    }
                    std::thread::yield_now();
                    inside.store(false, SeqCst);
                }),
            )
        })
        .collect();
    // Sent from several threads at once, as the runtime's workers do.
    std::thread::scope(|s| {
        for part in dispatchers.chunks(elections / 3) {
            s.spawn(move || {
                for term in 1..=per {
                    for d in part {
                        d.send(elected(term));
                    }
                }
            });
        }
    });
    for d in &dispatchers {
        d.shutdown(); // waits until every queued event is delivered
    }
    for (i, s) in seen.iter().enumerate() {
        let got = s.lock().unwrap().clone();
        assert_eq!(got, (1..=per).collect::<Vec<_>>(), "election {i}");
    }
    assert_eq!(
        overlaps.load(SeqCst),
        0,
        "one election's callbacks overlapped"
    );
    let used = threads.lock().unwrap().len();
    assert!(
        used <= MAX_WORKERS,
        "{used} callback threads for {elections} elections"
    );
    assert!(pool.lock().workers <= MAX_WORKERS);
}

#[test]
fn a_blocked_callback_delays_only_its_own_election() {
    let pool = pool();
    let (tx, rx) = channel();
    let slow_gate = open_gate();
    let slow = dispatcher(pool, forwarding(0, tx.clone(), slow_gate.clone()));
    let others: Vec<Dispatcher> = (1..=5)
        .map(|i| dispatcher(pool, forwarding(i, tx.clone(), open_gate())))
        .collect();
    slow.send(elected(1));
    assert_eq!(recv(&rx), (0, 1));
    set_gate(&slow_gate, true);
    slow.send(elected(2)); // blocks its worker in the callback
    slow.send(elected(3));
    for round in 1..=3 {
        for d in &others {
            d.send(elected(round));
        }
        let mut got: Vec<(usize, u64)> = (0..others.len()).map(|_| recv(&rx)).collect();
        got.sort();
        assert_eq!(
            got,
            (1..=others.len()).map(|i| (i, round)).collect::<Vec<_>>(),
            "other elections' events while election 0's callback is blocked"
        );
    }
    assert!(rx.try_recv().is_err(), "election 0 went on while blocked");
    set_gate(&slow_gate, false);
    assert_eq!(recv(&rx), (0, 2));
    assert_eq!(recv(&rx), (0, 3));
}

#[test]
fn with_every_worker_blocked_other_events_wait_and_arrive_once_one_is_free() {
    let pool = pool();
    let (tx, rx) = channel();
    let gate = open_gate();
    set_gate(&gate, true);
    let blocked: Vec<Dispatcher> = (0..MAX_WORKERS)
        .map(|i| dispatcher(pool, forwarding(i, tx.clone(), gate.clone())))
        .collect();
    for d in &blocked {
        d.send(elected(1));
    }
    // Workers start one per STALL while work waits: all of them block once the last started.
    let end = std::time::Instant::now() + WAIT;
    while pool.lock().workers < MAX_WORKERS {
        assert!(
            std::time::Instant::now() < end,
            "the pool did not reach its bound"
        );
        std::thread::sleep(STALL);
    }
    let late = dispatcher(pool, forwarding(MAX_WORKERS, tx.clone(), open_gate()));
    late.send(elected(7));
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "delivered although every worker is blocked"
    );
    assert_eq!(
        pool.lock().workers,
        MAX_WORKERS,
        "the pool grew past its bound"
    );
    set_gate(&gate, false);
    let mut got: Vec<(usize, u64)> = (0..=MAX_WORKERS).map(|_| recv(&rx)).collect();
    got.sort();
    assert_eq!(got.last(), Some(&(MAX_WORKERS, 7)));
}

/// A queue that becomes ready while every worker is busy waits [`STALL`] before a worker starts
/// for it: a burst of quick callbacks is served by the running workers.
#[test]
fn another_worker_starts_only_once_work_waited_the_stall_time() {
    let pool = pool();
    let (tx, rx) = channel();
    let gate = open_gate();
    let blocking = gate.clone();
    let entered = tx.clone();
    let slow = dispatcher(
        pool,
        Box::new(move |event| {
            if let Event::Elected { term } = event {
                let _ = entered.send((0, *term));
            }
            let mut shut = blocking.0.lock().unwrap();
            while *shut {
                shut = blocking.1.wait(shut).unwrap();
            }
        }),
    );
    set_gate(&gate, true);
    slow.send(elected(1));
    assert_eq!(recv(&rx), (0, 1), "the first worker serves election 0");
    assert_eq!(
        pool.lock().workers,
        1,
        "the first event starts one worker at once"
    );

    let other = dispatcher(pool, forwarding(1, tx.clone(), open_gate()));
    let sent = std::time::Instant::now();
    other.send(elected(1));
    let workers_at_once = pool.lock().workers;
    let promptly = sent.elapsed() < STALL;
    assert_eq!(
        recv(&rx),
        (1, 1),
        "election 1 is served while election 0 blocks"
    );
    let waited = sent.elapsed();
    assert!(
        waited >= STALL,
        "a worker started after {waited:?}, before the work waited {STALL:?}"
    );
    if promptly {
        assert_eq!(workers_at_once, 1, "a worker started at once");
    }
    assert_eq!(
        pool.lock().workers,
        2,
        "one more worker for the waiting election"
    );
    set_gate(&gate, false);
}

#[test]
fn shutdown_delivers_what_is_queued_then_drops_the_handler_and_later_events() {
    let pool = pool();
    let (tx, rx) = channel();
    let gate = open_gate();
    set_gate(&gate, true);
    let dropped = Arc::new(AtomicBool::new(false));
    struct OnDrop(Arc<AtomicBool>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            self.0.store(true, SeqCst);
        }
    }
    let marker = OnDrop(dropped.clone());
    let mut inner = forwarding(0, tx, gate.clone());
    let d = dispatcher(
        pool,
        Box::new(move |e| {
            let _keep = &marker;
            inner(e)
        }),
    );
    d.send(elected(1));
    d.send(elected(2));
    let opener = {
        let gate = gate.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            set_gate(&gate, false);
        })
    };
    d.shutdown();
    assert!(dropped.load(SeqCst), "the handler outlived shutdown");
    assert_eq!(rx.try_recv().ok(), Some((0, 1)));
    assert_eq!(rx.try_recv().ok(), Some((0, 2)));
    d.send(elected(3));
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    opener.join().unwrap();
}

#[test]
fn shutdown_from_inside_a_callback_does_not_wait_and_the_queue_still_drains() {
    let pool = pool();
    let (tx, rx) = channel();
    let slot: Arc<Mutex<Option<Arc<Dispatcher>>>> = Arc::default();
    let inner_slot = slot.clone();
    let (go, wait_go) = channel::<()>();
    let d = Arc::new(dispatcher(
        pool,
        Box::new(move |event| {
            if let Event::Elected { term } = event {
                if *term == 1 {
                    wait_go.recv_timeout(WAIT).unwrap(); // until event 2 is queued too
                    let me = inner_slot.lock().unwrap().clone().unwrap();
                    assert!(me.is_current_thread());
                    me.shutdown(); // must return although this callback is running
                }
                let _ = tx.send((0, *term));
            }
        }),
    ));
    *slot.lock().unwrap() = Some(d.clone());
    assert!(!d.is_current_thread());
    d.send(elected(1));
    d.send(elected(2));
    go.send(()).unwrap();
    assert_eq!(recv(&rx), (0, 1));
    assert_eq!(
        recv(&rx),
        (0, 2),
        "queued before the close: still delivered"
    );
    d.shutdown();
    slot.lock().unwrap().take();
}

#[test]
fn a_panicking_callback_becomes_an_error_event() {
    let pool = pool();
    let (tx, rx) = channel::<String>();
    let d = dispatcher(
        pool,
        Box::new(move |event| match event {
            Event::Elected { .. } => panic!("boom"),
            Event::Error { message } => {
                let _ = tx.send(message.clone());
            }
            _ => {}
        }),
    );
    d.send(elected(1));
    let message = rx.recv_timeout(WAIT).unwrap();
    assert!(
        message.contains("panicked") && message.contains("Elected"),
        "{message}"
    );
    d.shutdown();
}
