//! Who should lead next: a candidate's rank (the `priority` and `preempt` options), carried in
//! its member record, and the leader's choice of a successor to hand the leadership over to.
//!
//! **The rank in the member record.** Every store already keeps, per member, an id and a value
//! that it hands back unchanged. A ranked candidate's stored value is
//! `RS <priority> : <p|n> : <join> RS <value>` (RS = U+001E, the record separator; `join` a
//! random tag of this membership, new at every join, so that a candidate that left and joined
//! again counts as new even when no follower saw it gone), written and read in
//! this module only. User values never hold control characters (the `value` option refuses
//! them), so the envelope cannot be confused with a value, and the stores need no column or
//! field of their own for it. Values are unwrapped before any event, `leader()` or `members()`
//! reaches the host. A candidate without `priority` and `preempt` stores its plain value and
//! ranks as priority 0, not preempting.
//!
//! **The choice (anti-flap rule).** A leader hands over to a candidate only when that
//! candidate preempts (`preempt`, true by default once `priority` is set), has a strictly
//! higher priority, and has been a member *continuously for one ttl as this leader's follower
//! has seen it* (the settle time, on the leader's clock: a member that leaves and comes back
//! starts again). Among several, the highest priority wins, then the one seen first. Equal
//! priorities never preempt. A candidate handed the leadership that did not take it (the
//! leader was elected again while that member's record stayed the same) is not chosen again
//! until it rejoins: a crashed candidate whose record has not expired yet is not handed the
//! lease over and over.

use std::time::{Duration, Instant};

/// The record separator that brackets a rank.
const MARK: char = '\u{1e}';

/// What a candidate's options say about who should lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rank {
    pub priority: i64,
    /// Takes over from a leader of lower priority.
    pub preempt: bool,
}

impl Rank {
    /// The rank of a candidate configured with `config`, `None` when it has the default rank
    /// (its stored value is then plain).
    pub fn of(config: &crate::uri::Config) -> Option<Rank> {
        let rank = Rank {
            priority: config.priority,
            preempt: config.preempt(),
        };
        (rank != Rank::default()).then_some(rank)
    }
}

/// The value a store keeps for a candidate of `rank` whose value is `value`, in the
/// membership tagged `join`.
pub fn wrap(rank: Option<Rank>, join: u32, value: &str) -> String {
    match rank {
        None => value.to_string(),
        Some(r) => format!(
            "{MARK}{}:{}:{join:08x}{MARK}{value}",
            r.priority,
            if r.preempt { 'p' } else { 'n' }
        ),
    }
}

/// The envelope of a stored value (empty for a plain one): what changes when the candidate
/// joins again.
pub fn envelope(stored: &str) -> &str {
    let len = stored.len() - unwrap(stored).1.len();
    &stored[..len]
}

/// A stored value split into the rank and the user's value. Anything not in the envelope's
/// exact shape is a plain value of the default rank.
pub fn unwrap(stored: &str) -> (Rank, &str) {
    let parsed = stored.strip_prefix(MARK).and_then(|rest| {
        let (head, value) = rest.split_once(MARK)?;
        let (head, join) = head.rsplit_once(':')?;
        u32::from_str_radix(join, 16)
            .ok()
            .filter(|_| join.len() == 8)?;
        let (priority, flag) = head.split_once(':')?;
        let preempt = match flag {
            "p" => true,
            "n" => false,
            _ => return None,
        };
        Some((
            Rank {
                priority: priority.parse().ok()?,
                preempt,
            },
            value,
        ))
    });
    parsed.unwrap_or((Rank::default(), stored))
}

/// The user's part of a stored value.
pub fn user_value(stored: &str) -> String {
    unwrap(stored).1.to_string()
}

/// One member as the leader's follower has seen it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub id: String,
    pub rank: Rank,
    /// Since when it has been a member without a break, on this process's clock.
    pub since: Instant,
    /// Its envelope (see [`envelope`]): new at every join.
    pub envelope: String,
}

/// What a leader should do about the members it sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Nobody to hand over to.
    Stay,
    /// Hand over to this candidate now.
    HandTo(String),
    /// A candidate would qualify once settled: look again at this time.
    LookAgainAt(Instant),
}

/// The leader `me` (of priority `mine`) chooses among `members` at `now`; `settle` is how long
/// a candidate must have been seen without a break, `passed` a member (id, since) that was
/// handed the leadership before and did not take it.
pub fn choose(
    me: &str,
    mine: i64,
    members: &[Seen],
    now: Instant,
    settle: Duration,
    passed: Option<&(String, Instant)>,
) -> Choice {
    let mut best: Option<&Seen> = None;
    let mut later: Option<Instant> = None;
    for m in members {
        if m.id == me || !m.rank.preempt || m.rank.priority <= mine {
            continue;
        }
        if passed.is_some_and(|(id, since)| *id == m.id && *since == m.since) {
            continue;
        }
        let ready_at = m.since + settle;
        if ready_at > now {
            later = Some(later.map_or(ready_at, |l| l.min(ready_at)));
            continue;
        }
        let better = match best {
            None => true,
            Some(b) => {
                (m.rank.priority, std::cmp::Reverse(m.since))
                    > (b.rank.priority, std::cmp::Reverse(b.since))
            }
        };
        if better {
            best = Some(m);
        }
    }
    match (best, later) {
        (Some(b), _) => Choice::HandTo(b.id.clone()),
        (None, Some(at)) => Choice::LookAgainAt(at),
        (None, None) => Choice::Stay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rank(priority: i64, preempt: bool) -> Rank {
        Rank { priority, preempt }
    }

    #[test]
    fn the_envelope_round_trips_and_plain_values_stay_plain() {
        for (r, v) in [
            (rank(5, true), "10.0.0.1:80"),
            (rank(-3, false), ""),
            (rank(0, true), "a:b"),
        ] {
            let stored = wrap(Some(r), 7, v);
            assert_eq!(unwrap(&stored), (r, v));
            assert_ne!(
                envelope(&stored),
                envelope(&wrap(Some(r), 8, v)),
                "a new join"
            );
        }
        assert_eq!(wrap(None, 1, "x"), "x");
        assert_eq!(envelope("x"), "");
        for plain in [
            "",
            "x",
            "\u{1e}oops",
            "\u{1e}1:q:00000001\u{1e}v",
            "\u{1e}z:p:00000001\u{1e}v",
            "\u{1e}1:p:1\u{1e}v",
        ] {
            assert_eq!(unwrap(plain), (Rank::default(), plain));
        }
    }

    #[test]
    fn the_leader_hands_over_only_to_a_settled_higher_preempting_candidate() {
        let t0 = Instant::now();
        let settle = Duration::from_secs(2);
        let seen = |id: &str, r: Rank, ago: u64| Seen {
            id: id.into(),
            rank: r,
            since: t0 - Duration::from_secs(ago),
            envelope: String::new(),
        };
        let now = t0;
        // Equal priority, lower, or not preempting: stay.
        let m = [
            seen("b", rank(1, true), 9),
            seen("c", rank(0, true), 9),
            seen("d", rank(9, false), 9),
        ];
        assert_eq!(choose("a", 1, &m, now, settle, None), Choice::Stay);
        // Higher but not settled: look again when it will be.
        let m = [seen("b", rank(2, true), 1)];
        assert_eq!(
            choose("a", 1, &m, now, settle, None),
            Choice::LookAgainAt(t0 + Duration::from_secs(1))
        );
        // Settled: the highest wins, then the one seen first.
        let m = [
            seen("b", rank(2, true), 9),
            seen("c", rank(3, true), 3),
            seen("d", rank(3, true), 5),
            seen("e", rank(7, true), 0),
        ];
        assert_eq!(
            choose("a", 1, &m, now, settle, None),
            Choice::HandTo("d".into())
        );
        // Our own record is never a successor.
        let m = [seen("a", rank(9, true), 9)];
        assert_eq!(choose("a", 1, &m, now, settle, None), Choice::Stay);
    }

    #[test]
    fn a_candidate_that_did_not_take_over_is_passed_until_it_rejoins() {
        let t0 = Instant::now();
        let settle = Duration::from_secs(1);
        let since = t0 - Duration::from_secs(5);
        let m = [Seen {
            id: "b".into(),
            rank: rank(2, true),
            since,
            envelope: String::new(),
        }];
        let passed = ("b".to_string(), since);
        assert_eq!(choose("a", 0, &m, t0, settle, Some(&passed)), Choice::Stay);
        // It left and came back: a new `since`, settled again, chosen again.
        let rejoined = [Seen {
            since: t0 - Duration::from_secs(2),
            ..m[0].clone()
        }];
        assert_eq!(
            choose("a", 0, &rejoined, t0, settle, Some(&passed)),
            Choice::HandTo("b".into())
        );
    }
}
