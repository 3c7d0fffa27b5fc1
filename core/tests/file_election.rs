//! The engine on the embedded file backend: handover, tokens, event order, observers, members.

use elect_testkit::wait::{expect_within, open_recording};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use elect_core::{Election, Event, RevokeReason};

const WAIT: Duration = Duration::from_secs(10);

fn dir() -> String {
    let d = std::env::temp_dir().join(format!(
        "elect-test-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    format!("file://{}", d.display())
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

fn open(uri: &str, id: &str) -> (Election, Receiver<Event>) {
    open_recording(&format!("{uri}?id={id}&ttl=3s&renew=500ms"), "job")
}

/// Waits for the next event matching `pred`, skipping others.
fn expect(rx: &Receiver<Event>, pred: impl Fn(&Event) -> bool) -> Event {
    expect_within(rx, WAIT, pred)
}

fn leader_of<'a>(es: &[&'a Election]) -> Option<&'a Election> {
    es.iter().copied().find(|e| e.is_leader())
}

#[test]
fn three_candidates_hand_over_on_resign_and_close() {
    let uri = dir();
    let (a, ra) = open(&uri, "a");
    let (b, rb) = open(&uri, "b");
    let (c, rc) = open(&uri, "c");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let t1 = a.fencing_token().unwrap();
    b.start().unwrap();
    c.start().unwrap();
    // Candidates join in the background after start(); membership has no event, so poll it.
    let end = std::time::Instant::now() + WAIT;
    while a.members().unwrap().len() < 3 {
        assert!(std::time::Instant::now() < end, "b and c never joined");
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(b.leader().unwrap().unwrap().id, "a");
    assert!(!b.is_leader() && !c.is_leader());

    a.resign().unwrap();
    assert!(
        !a.is_leader(),
        "resign returns only after leadership is given up"
    );
    expect(
        &ra,
        |e| matches!(e, Event::Revoked { reason: RevokeReason::Resigned, term } if *term == t1),
    );
    let next = loop {
        if let Some(l) = leader_of(&[&b, &c]) {
            break l;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let t2 = next.fencing_token().unwrap();
    assert!(t2 > t1, "tokens grow: {t1} then {t2}");
    let (next_rx, other) = if next.id() == "b" {
        (&rb, &c)
    } else {
        (&rc, &b)
    };
    expect(
        next_rx,
        |e| matches!(e, Event::Elected { term } if *term == t2),
    );

    next.close();
    assert!(other.wait_leader(Some(WAIT)).unwrap() || a.wait_leader(Some(WAIT)).unwrap());
    let t3 = leader_of(&[&a, other]).unwrap().fencing_token().unwrap();
    assert!(t3 > t2);
    assert_eq!(a.members().unwrap().len(), 2);
}

#[test]
fn revoked_comes_before_the_next_elected_and_callbacks_never_overlap() {
    let uri = dir();
    let (a, ra) = open(&uri, "solo");
    a.start().unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        assert!(a.wait_leader(Some(WAIT)).unwrap());
        a.resign().unwrap();
    }
    a.close();
    while let Ok(ev) = ra.recv_timeout(Duration::from_millis(200)) {
        if matches!(ev, Event::Elected { .. } | Event::Revoked { .. }) {
            seen.push(ev);
        }
    }
    assert!(seen.len() >= 6, "{seen:?}");
    let mut leading: Option<u64> = None;
    for ev in &seen {
        match ev {
            Event::Elected { term } => {
                assert!(leading.is_none(), "Elected while still leading: {seen:?}");
                leading = Some(*term);
            }
            Event::Revoked { term, .. } => {
                assert_eq!(leading, Some(*term), "Revoked of another term: {seen:?}");
                leading = None;
            }
            _ => {}
        }
    }
}

#[test]
fn observer_follows_the_leader() {
    let uri = dir();
    let (obs, ro) = open(&uri, "watcher");
    obs.observe().unwrap();
    expect(&ro, |e| matches!(e, Event::LeaderChanged { leader: None }));
    let (a, _ra) = open(&uri, "a");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let token = a.fencing_token().unwrap();
    expect(
        &ro,
        |e| matches!(e, Event::LeaderChanged { leader: Some(l) } if l.id == "a" && l.term == token),
    );
    a.close();
    expect(&ro, |e| matches!(e, Event::LeaderChanged { leader: None }));
    assert!(!obs.is_leader());
    assert!(
        obs.wait_leader(Some(Duration::from_millis(1))).is_err(),
        "observers cannot wait to lead"
    );
}

#[test]
fn close_from_inside_a_callback_does_not_deadlock() {
    let uri = dir();
    let slot: std::sync::Arc<std::sync::Mutex<Option<std::sync::Arc<Election>>>> =
        Default::default();
    let (done_tx, done_rx) = channel();
    let slot2 = slot.clone();
    let e = std::sync::Arc::new(
        Election::open(
            &format!("{uri}?id=x"),
            "job",
            Some(Box::new(move |ev: &Event| {
                if let Event::Elected { .. } = ev {
                    if let Some(e) = slot2.lock().unwrap().take() {
                        e.close();
                        let _ = done_tx.send(());
                    }
                }
            })),
        )
        .unwrap(),
    );
    *slot.lock().unwrap() = Some(e.clone());
    e.start().unwrap();
    done_rx
        .recv_timeout(WAIT)
        .expect("close inside the callback returned");
    assert!(!e.is_leader());
    assert_eq!(e.start().unwrap_err().code(), elect_core::ErrorCode::Closed);
}

#[test]
fn a_panicking_callback_is_reported_as_error() {
    let uri = dir();
    let (tx, rx) = channel();
    let e = Election::open(
        &format!("{uri}?id=p"),
        "job",
        Some(Box::new(move |ev: &Event| {
            let _ = tx.send(ev.clone());
            if let Event::Elected { .. } = ev {
                panic!("user bug");
            }
        })),
    )
    .unwrap();
    e.start().unwrap();
    expect(
        &rx,
        |ev| matches!(ev, Event::Error { message } if message.contains("panicked")),
    );
    assert!(e.is_leader(), "the election carries on");
}

#[test]
fn a_resigning_leader_lets_the_waiting_candidate_take_over_even_without_silence() {
    // flock lets woken waiters race; without the file store's yield after a release, the
    // resigner (campaigning again at once, silence=0) won its own lock back in some rounds.
    let uri = dir();
    let (a, _ra) = open(&uri, "a");
    let (b, _rb) = open(&uri, "b");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    b.start().unwrap();
    let end = std::time::Instant::now() + WAIT;
    while a.members().unwrap().len() < 2 {
        assert!(std::time::Instant::now() < end, "b never joined");
        std::thread::sleep(Duration::from_millis(2));
    }
    let (mut leader, mut waiter) = (&a, &b);
    let mut last = a.fencing_token().unwrap();
    for round in 0..20 {
        leader.resign().unwrap();
        assert!(
            waiter.wait_leader(Some(WAIT)).unwrap(),
            "round {round}: the waiting candidate was not elected"
        );
        let t = waiter.fencing_token().unwrap();
        assert!(t > last, "round {round}: token {t} after {last}");
        last = t;
        std::mem::swap(&mut leader, &mut waiter);
    }
}

/// Linux allows each user `fs.inotify.max_user_instances` inotify instances (128 by default):
/// more observers than that in one process all follow the leader, through the process's one
/// instance, without an error.
#[test]
fn more_observers_than_the_inotify_instance_limit_follow_the_leader() {
    let limit: usize = std::fs::read_to_string("/proc/sys/fs/inotify/max_user_instances")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let n = limit.min(1000) + 8;
    let uri = dir();
    let (a, _ra) = open(&uri, "a");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let observers: Vec<_> = (0..n)
        .map(|i| {
            let (o, rx) = open(&uri, &format!("o{i}"));
            o.observe().unwrap();
            (o, rx)
        })
        .collect();
    let next_leader = |rx: &Receiver<Event>, i: usize| loop {
        match rx.recv_timeout(WAIT) {
            Ok(Event::LeaderChanged { leader }) => break leader.map(|l| l.id),
            Ok(Event::Error { message }) => panic!("observer {i}: {message}"),
            Ok(_) => continue,
            Err(_) => panic!("observer {i}: no leader within {WAIT:?}"),
        }
    };
    for (i, (_, rx)) in observers.iter().enumerate() {
        assert_eq!(next_leader(rx, i).as_deref(), Some("a"), "observer {i}");
    }
    let inotify_fds = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter(|f| {
            std::fs::read_link(f.path()).is_ok_and(|l| l.as_os_str() == "anon_inode:inotify")
        })
        .count();
    assert_eq!(inotify_fds, 1, "one inotify instance per process");
    a.close();
    for (i, (_, rx)) in observers.iter().enumerate() {
        assert_eq!(next_leader(rx, i), None, "observer {i} saw the leader go");
    }
}
