//! The store contract for who leads next: priority preemption, the hand-off primitive
//! (`Election::hand_over_to`), the hold-off and stickiness. Run against each store by
//! `core/tests/contract.rs` (hold-off and stickiness on the stores that keep a lease record).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use elect_core::{Election, ErrorCode, Event, RevokeReason};

use crate::contract::{elected, with_options, Subject, SLACK};
use crate::server::unique;
use crate::wait::{self, expect_within, open_recording, WAIT};

fn name() -> String {
    format!("next-{}", unique())
}

/// Samples `is_leader()` of `es` until `stop`, and returns whether two ever led at once, and
/// the longest time in which none led after the first leader (the gap of a handover).
///
/// One pass reads the elections one after the other, so a leader seen early in a pass may have
/// stepped down before a later one is seen leading: only elections seen leading in two passes
/// in a row count, as they led throughout the second read of the other.
fn sample(es: &[&Election], stop: &AtomicBool) -> (bool, Duration) {
    let (mut overlap, mut gap, mut none_since) = (false, Duration::ZERO, None::<Instant>);
    let mut led = false;
    let pass = || es.iter().map(|e| e.is_leader()).collect::<Vec<_>>();
    let mut last = pass();
    while !stop.load(Ordering::Relaxed) {
        let now = pass();
        overlap |= now.iter().zip(&last).filter(|(a, b)| **a && **b).count() > 1;
        let n = now.iter().filter(|l| **l).count();
        last = now;
        match (n, none_since) {
            (0, None) if led => none_since = Some(Instant::now()),
            (0, _) => {}
            (_, Some(since)) => {
                gap = gap.max(since.elapsed());
                none_since = None;
            }
            _ => {}
        }
        led |= n > 0;
        std::hint::spin_loop();
    }
    // Stopped before a pass saw the new leader: the gap lasted at least until now.
    if let Some(since) = none_since {
        gap = gap.max(since.elapsed());
    }
    (overlap, gap)
}

/// A leader hands over to a settled candidate of higher priority (one ttl after it joined),
/// with no instant of two leaders and a gap far below the ttl, and a greater token. A candidate
/// of equal priority, in line before it and settled longer, is neither preferred nor granted.
pub fn priority_preemption(s: &Subject) {
    let name = name();
    let ranked = |id: &str, priority: i32| {
        open_recording(
            &with_options(&s.candidate(id), &format!("priority={priority}")),
            &name,
        )
    };
    let (a, ra) = ranked("a", 1);
    let (c, rc) = ranked("c", 1);
    let (b, rb) = ranked("b", 5);
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let t1 = a.fencing_token().unwrap();
    c.start().unwrap();
    wait::members(&a, 2);
    let stop = AtomicBool::new(false);
    let (overlap, gap) = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| sample(&[&a, &b, &c], &stop));
        // Stops the sampler also when a check below fails (the scope would wait for it).
        struct Stop<'a>(&'a AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let stopping = Stop(&stop);
        b.start().unwrap();
        let term = elected(&rb);
        drop(stopping);
        assert!(term > t1, "tokens grow: {t1} then {term}");
        sampler.join().unwrap()
    });
    assert!(!overlap, "never two leaders");
    assert!(
        gap < s.ttl / 2,
        "a handover, not an expiry: no leader for {gap:?}"
    );
    expect_within(
        &ra,
        WAIT,
        |e| matches!(e, Event::Revoked { term, reason: RevokeReason::Preempted } if *term == t1),
    );
    assert!(b.is_leader() && !a.is_leader() && !c.is_leader());
    while let Ok(e) = rc.try_recv() {
        assert!(
            !matches!(e, Event::Elected { .. }),
            "the equal-priority candidate in line was never granted"
        );
    }
    // A preferred leader that resigns steps aside: it rejoins and is preferred again only
    // once settled, so one of the others leads meanwhile.
    b.resign().unwrap();
    let next = wait::sole_leader(&[&a, &b, &c], WAIT);
    assert_ne!(next.id(), "b");
}

/// `hand_over_to`: the leader hands the leadership to a named member out of line order; a
/// non-member or the leader itself is refused and nothing changes; a candidate that does not
/// lead gets `NotLeader`.
pub fn hand_over_to(s: &Subject) {
    let name = name();
    let (a, ra) = s.open(&name, "a");
    let (b, rb) = s.open(&name, "b");
    let (c, rc) = s.open(&name, "c");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let t1 = a.fencing_token().unwrap();
    b.start().unwrap();
    wait::members(&a, 2);
    c.start().unwrap();
    wait::members(&a, 3);
    let e = a.hand_over_to("a").expect_err("not to itself");
    assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e:?}");
    let e = b.hand_over_to("c").expect_err("b does not lead");
    assert_eq!(e.code(), ErrorCode::NotLeader, "{e:?}");
    assert!(
        a.is_leader() && a.fencing_token() == Some(t1),
        "nothing changed"
    );

    let handed = Instant::now();
    wait::until("c in a's member list", WAIT, || match a.hand_over_to("c") {
        Ok(()) => true,
        Err(e) if e.code() == ErrorCode::InvalidArgument => false,
        Err(e) => panic!("hand_over_to: {e:?}"),
    });
    assert!(!a.is_leader(), "returns after giving up");
    let Event::Elected { term } = expect_within(&rc, WAIT, |e| matches!(e, Event::Elected { .. }))
    else {
        unreachable!()
    };
    assert!(term > t1, "tokens grow: {t1} then {term}");
    assert!(
        handed.elapsed() < s.ttl,
        "taken over at once, not after a lapse"
    );
    expect_within(&ra, WAIT, |e| {
        matches!(
            e,
            Event::Revoked {
                reason: RevokeReason::Preempted,
                ..
            }
        )
    });
    assert!(c.is_leader() && !b.is_leader());
    while let Ok(e) = rb.try_recv() {
        assert!(
            !matches!(e, Event::Elected { .. }),
            "b, ahead of c in line, was passed over"
        );
    }
}

/// `holdoff`: after a leader is lost without resigning (SIGKILL), nobody is elected for the
/// hold-off (longer than the ttl here, so an expiry alone would elect sooner), then one is.
pub fn holdoff(s: &Subject) {
    let name = name();
    let hold = s.ttl + Duration::from_secs(1);
    let uri = with_options(&s.uri, &format!("holdoff={}ms", hold.as_millis()));
    let mut fleet = crate::agent::fleet();
    fleet.join(&uri, &name, "p0").unwrap();
    let (first, t1, _) = fleet.wait_elected(None, WAIT, |_, _| {}).unwrap();
    fleet.join(&uri, &name, "p1").unwrap();
    let (_obs, ro) = s.open(&name, "watcher");
    _obs.observe().unwrap();
    expect_within(
        &ro,
        WAIT,
        |e| matches!(e, Event::MemberJoined { member } if member.id == "p1"),
    );
    let killed = Instant::now();
    fleet.kill(first);
    let (_, t2, _) = fleet
        .wait_elected(Some(first), s.crash_bound() + hold, |_, _| {})
        .unwrap();
    let took = killed.elapsed();
    assert!(
        took >= hold,
        "elected {took:?} after the loss, within the hold-off {hold:?}"
    );
    assert!(t2 > t1);
}

/// `sticky`: after a leader is lost without resigning (SIGKILL), its id alone may be elected
/// for the window: a waiting candidate is not, and the same id, back after the lease ran out,
/// is.
pub fn sticky(s: &Subject) {
    sticky_return(s, false)
}

/// `sticky`, the id back at once: restarted right after the kill, while its old lease still
/// holds the lock or stands ahead in line, it is elected once that lease runs out; the waiting
/// candidate, ahead of it, is not.
pub fn sticky_back_at_once(s: &Subject) {
    sticky_return(s, true)
}

fn sticky_return(s: &Subject, at_once: bool) {
    let name = name();
    let window = s.ttl * 3;
    let uri = with_options(&s.uri, &format!("sticky={}ms", window.as_millis()));
    let (obs, ro) = s.open(&name, "watcher");
    obs.observe().unwrap();
    let mut fleet = crate::agent::fleet();
    let a = fleet.join(&uri, &name, "a").unwrap();
    let (_, t1, _) = fleet.wait_elected(None, WAIT, |_, _| {}).unwrap();
    let b = fleet.join(&uri, &name, "b").unwrap();
    expect_within(
        &ro,
        WAIT,
        |e| matches!(e, Event::MemberJoined { member } if member.id == "b"),
    );
    let killed = Instant::now();
    fleet.kill(a);
    if !at_once {
        expect_within(&ro, s.crash_bound(), |e| {
            matches!(e, Event::LeaderChanged { leader: None })
        });
        // Past the lease: an election without stickiness would have chosen b by now.
        let quiet = fleet.wait_elected(None, s.retry * 3 + SLACK, |_, _| {});
        assert!(quiet.is_err(), "b was elected inside the sticky window");
    }
    let back = fleet.join(&uri, &name, "a").unwrap();
    let (who, t2, _) = fleet.wait_elected(None, window, |_, _| {}).unwrap();
    assert_eq!(
        who,
        back,
        "the previous leader's id is elected, not {}",
        fleet.id(who)
    );
    assert_ne!(who, b);
    assert!(t2 > t1, "a new term: {t1} then {t2}");
    assert!(killed.elapsed() < window, "within the window");
}

/// `holdoff` spares a release: a leader that resigns is followed at once, well inside the
/// hold-off (the store keeps the hold-off for a leader lost without releasing only).
pub fn holdoff_spares_a_resign(s: &Subject) {
    let name = name();
    let hold = s.ttl * 4;
    let opts = format!("holdoff={}ms", hold.as_millis());
    let open = |id: &str| open_recording(&with_options(&s.candidate(id), &opts), &name);
    let (a, _ra) = open("a");
    let (b, rb) = open("b");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let t1 = a.fencing_token().unwrap();
    b.start().unwrap();
    wait::members(&a, 2);
    let resigned = Instant::now();
    a.resign().unwrap();
    let t2 = elected(&rb);
    let took = resigned.elapsed();
    assert!(
        took < s.ttl,
        "b elected {took:?} after a resign: held off as after a loss"
    );
    assert!(t2 > t1);
}
