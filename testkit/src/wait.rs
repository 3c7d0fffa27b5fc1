//! Waiting on elections in this process: for events, for a sole leader, for members.

use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use elect_core::{Election, ErrorCode, Event};

/// How long a test waits for anything that should happen.
pub const WAIT: Duration = Duration::from_secs(20);

/// Opens `uri` (options included) as election `name`, with a handler that forwards every event
/// to the returned receiver.
pub fn open_recording(uri: &str, name: &str) -> (Election, Receiver<Event>) {
    try_open_recording(uri, name).unwrap_or_else(|e| panic!("open {uri}: {e:?}"))
}

/// [`open_recording`], returning the error of `open` instead of panicking.
pub fn try_open_recording(
    uri: &str,
    name: &str,
) -> elect_core::Result<(Election, Receiver<Event>)> {
    let (tx, rx) = channel();
    let e = Election::open(
        uri,
        name,
        Some(Box::new(move |ev: &Event| {
            let _ = tx.send(ev.clone());
        })),
    )?;
    Ok((e, rx))
}

/// Waits up to `within` for the next event matching `pred`, skipping others.
pub fn expect_within(
    rx: &Receiver<Event>,
    within: Duration,
    pred: impl Fn(&Event) -> bool,
) -> Event {
    let end = Instant::now() + within;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let ev = rx.recv_timeout(left).expect("event did not arrive in time");
        if pred(&ev) {
            return ev;
        }
    }
}

/// Polls `f` (a store read or an atomic load) until it holds; membership and most counters
/// have no event to await.
pub fn until(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + within;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits until `e` sees `n` members (candidates join in the background after `start`).
pub fn members(e: &Election, n: usize) {
    until(&format!("{n} members"), WAIT, || {
        e.members().map(|m| m.len()).unwrap_or(0) >= n
    });
}

/// Polls until exactly one of `es` leads, checking on every round that never two do.
pub fn sole_leader<'a>(es: &[&'a Election], within: Duration) -> &'a Election {
    let mut found = None;
    until("a leader", within, || {
        let leaders: Vec<_> = es.iter().copied().filter(|e| e.is_leader()).collect();
        assert!(leaders.len() <= 1, "two leaders at once");
        found = leaders.first().copied();
        found.is_some()
    });
    found.unwrap()
}

/// The one of `es` that leads and how long it took to find, polling `is_leader` (an atomic
/// load) every 200 us: for timing a handover from a test.
pub fn timed_leader<'a>(es: &[&'a Election], within: Duration) -> (&'a Election, Duration) {
    let start = Instant::now();
    loop {
        if let Some(l) = es.iter().copied().find(|e| e.is_leader()) {
            return (l, start.elapsed());
        }
        assert!(
            start.elapsed() < within,
            "no leader within {within:?}; the store says {:?}",
            es[0].leader()
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Waits until a renewal of `leader` sent after `after` was confirmed (its deadline is then
/// later than `after + ttl - margin`, the margin being ttl/10). Panics if it steps down instead.
pub fn renewed_after(leader: &Election, after: Instant, ttl: Duration) {
    until("a renewal", WAIT, || {
        let deadline = leader
            .lease_deadline()
            .expect("the first candidacy still leads");
        deadline > after + ttl * 9 / 10
    });
}

/// Opening `uri` fails with `code`, naming every one of `mentions`, and never shows `pw`.
pub fn open_fails(uri: &str, pw: &str, code: ErrorCode, mentions: &[&str]) {
    let e = Election::open(uri, "job", None).unwrap_err();
    assert_eq!(e.code(), code, "{e:?}");
    for m in mentions {
        assert!(e.message().contains(m), "`{m}` not in: {e}");
    }
    assert!(!e.message().contains(pw), "password leaked: {e}");
}

/// Opens `uri` as election `name`, starts it and waits up to `within` for the first `Elected`
/// (`Ok`) or `Error` event (`Err` with its message); an error at `open` or `start` is `Err`
/// too. What a test of "this identity / connection works, that one is refused" needs. The
/// election stays open (and leading) until the returned guard is dropped.
pub fn first_outcome(uri: &str, name: &str, within: Duration) -> Result<Election, String> {
    let (e, rx) = try_open_recording(uri, name).map_err(|e| e.to_string())?;
    e.start().map_err(|e| e.to_string())?;
    loop {
        match rx.recv_timeout(within) {
            Ok(Event::Elected { .. }) => return Ok(e),
            Ok(Event::Error { message }) => return Err(message),
            Ok(_) => {}
            Err(_) => return Err(format!("neither elected nor an error within {within:?}")),
        }
    }
}
