//! Cases both SQL stores (PostgreSQL, MySQL) run from their own test files, each with its own
//! sign of what the server did: what wakes a waiting candidate, what counts an acquire attempt
//! or a renewal statement, whether a lease row is live.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use elect_core::{Election, ErrorCode, Event, RevokeReason};

use crate::wait::{
    expect_within, members, open_recording, renewed_after, timed_leader, until, WAIT,
};

/// A ttl and retry so long that only the store's wake-up can explain a handover within
/// seconds. The silence keeps a candidate that resigned from winning straight back (it
/// campaigns again at once otherwise, and may be first to try).
pub const SLOW: &str = "ttl=30s&retry=30s&silence=3s";

/// Opens `uri` with `opts` as candidate `id` of election `name`, recording its events.
pub fn open(uri: &str, opts: &str, name: &str, id: &str) -> (Election, Receiver<Event>) {
    open_recording(&format!("{uri}?id={id}&{opts}"), name)
}

/// How a store wakes the line when its leader leaves.
pub struct Wakeup<'a> {
    /// What wakes it, for messages: `NOTIFY`, `the named lock`.
    pub by: &'a str,
    /// The store's count of waiters it woke.
    pub count: &'a AtomicU64,
    /// Returns once the two followers wait for that wake-up (the store's own sign of it).
    pub waiting: &'a dyn Fn(),
    /// How soon the next leader must lead: far below ttl and retry.
    pub within: Duration,
}

/// Three candidates on [`SLOW`] options: when the leader resigns, and then when its successor
/// closes, another takes over within `wakeup.within`, with a higher term each time; the
/// resignation is seen to go through `wakeup`, and a closed candidate leaves the members.
pub fn three_candidates_hand_over(uri: &str, wakeup: Wakeup) {
    let (a, ra) = open(uri, SLOW, "job", "a");
    let (b, _rb) = open(uri, SLOW, "job", "b");
    let (c, _rc) = open(uri, SLOW, "job", "c");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let t1 = a.fencing_token().unwrap();
    b.start().unwrap();
    c.start().unwrap();
    members(&a, 3);
    assert_eq!(b.leader().unwrap().unwrap().id, "a");
    (wakeup.waiting)();

    let patience = wakeup.within * 5;
    let woken = wakeup.count.load(Ordering::Relaxed);
    a.resign().unwrap();
    assert!(!a.is_leader());
    expect_within(
        &ra,
        WAIT,
        |e| matches!(e, Event::Revoked { reason: RevokeReason::Resigned, term } if *term == t1),
    );
    let (next, took) = timed_leader(&[&b, &c], patience);
    assert!(
        took < wakeup.within,
        "resign handover took {took:?}: ttl and retry are 30 s, so {} did not wake the line",
        wakeup.by
    );
    assert!(
        wakeup.count.load(Ordering::Relaxed) > woken,
        "no waiter was woken by {}",
        wakeup.by
    );
    let t2 = next.fencing_token().unwrap();
    assert!(t2 > t1, "tokens grow: {t1} then {t2}");
    assert_eq!(a.leader().unwrap().unwrap().term, t2);

    // No wake-up count here: which wake-up takes over is not determined. The loser of the
    // handover above may still have its attempt in flight when `next` closes, and that attempt
    // wins without waiting for a wake-up; a renewal round that reads the free row first wakes
    // a waiter too. Within `within` is still far below ttl and retry.
    let other = if next.id() == "b" { &c } else { &b };
    next.close();
    let (third, took) = timed_leader(&[&a, other], patience);
    assert!(
        took < wakeup.within,
        "close handover took {took:?}: ttl and retry are 30 s"
    );
    let t3 = third.fencing_token().unwrap();
    assert!(t3 > t2, "tokens grow: {t2} then {t3}");
    let ids: Vec<String> = a.members().unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), 2, "closed candidate left the members: {ids:?}");
    assert!(!ids.contains(&next.id().to_string()));
}

/// A second candidacy with the leader's id, on a connection of its own, neither takes over the
/// live lease nor releases it when it leaves. `attempts` counts the server's acquire
/// statements; `live_term` reads the term of election `job`'s lease row if it has not expired
/// (empty otherwise).
pub fn same_id_leaves_the_lease_alone(
    uri: &str,
    attempts: impl Fn() -> u64,
    live_term: impl Fn() -> String,
) {
    let ttl = Duration::from_secs(3);
    let opts = "ttl=3s&retry=100ms";
    let (a, ra) = open(uri, opts, "job", "same");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let term = a.fencing_token().unwrap();

    // The same id on a connection of its own (a different option string), as a second process
    // with the same configuration would have.
    let (b, rb) = open(uri, &format!("{opts}&table=elect_leases"), "job", "same");
    let before = attempts();
    b.start().unwrap();
    until("an attempt of the second candidacy", WAIT, || {
        attempts() > before
    });
    // A renewal sent after B's attempt began waits for B's statement (row lock) and so sees
    // its outcome: had B taken the lease (a new term), A's renewal would fail.
    renewed_after(&a, Instant::now(), ttl);
    assert!(
        !b.is_leader(),
        "the second candidacy took over a live lease"
    );
    assert_eq!(a.fencing_token(), Some(term));
    assert!(!rb.try_iter().any(|e| matches!(e, Event::Elected { .. })));

    // B leaves (its leave gives up whatever lease it holds): A's lease stays live.
    b.close();
    assert_eq!(
        live_term().trim(),
        term.to_string(),
        "the second candidacy's leave released the first one's lease"
    );
    renewed_after(&a, Instant::now(), ttl);
    assert!(!ra.try_iter().any(|e| matches!(e, Event::Revoked { .. })));
}

/// Forty elections led from one connection renew in rounds: about one statement per renewal
/// period in all (`statements` counts them on the server), not one per election.
pub fn renewals_share_one_statement_per_period(uri: &str, statements: impl Fn() -> u64) {
    let opts = "ttl=3s&renew=250ms";
    let elections: Vec<(Election, Receiver<Event>)> = (0..40)
        .map(|i| open(uri, opts, &format!("job-{i}"), "solo"))
        .collect();
    for (e, _) in &elections {
        e.start().unwrap();
    }
    for (e, _) in &elections {
        assert!(e.wait_leader(Some(WAIT)).unwrap());
    }
    std::thread::sleep(Duration::from_secs(1)); // settle: first renewals ride the rounds
    let before = statements();
    let window = Duration::from_secs(4);
    std::thread::sleep(window);
    let rounds = statements() - before;
    // One round per 250 ms is 16 in 4 s; renewing each of the 40 elections separately would
    // be 640.
    assert!(
        (12..=20).contains(&rounds),
        "{rounds} renewal statements in {window:?} for 40 leaders"
    );
    for (e, _) in &elections {
        assert!(e.is_leader(), "still leading on batched renewals");
    }
}

/// `sslmode=verify-full` checks the server's certificate against `sslrootcert` (`ca`, the test
/// CA): elections work over TLS then; against the built-in roots, which do not know the test
/// CA, `open` fails naming the certificate, without `password`. A missing `sslrootcert` file is
/// named too.
pub fn verify_full_checks_the_ca(uri: &str, ca: &str, password: &str) {
    let open = |q: &str| Election::open(&format!("{uri}?{q}"), "job", None);
    let e = open(&format!("sslmode=verify-full&sslrootcert={ca}")).unwrap();
    e.start().unwrap();
    assert!(
        e.wait_leader(Some(WAIT)).unwrap(),
        "elections work over TLS"
    );
    drop(e);

    let err = open("sslmode=verify-full").unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unreachable, "{err:?}");
    assert!(err.message().contains("certificate"), "{err}");
    assert!(!err.message().contains(password), "password leaked: {err}");

    let err = open("sslrootcert=/nonexistent/ca.pem").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(err.message().contains("option `sslrootcert`"), "{err}");
}
