//! The group contract: three instances share twelve elections 4/4/4; one is SIGKILLed and the
//! other two take its shards, 6/6, within the crash bound; it comes back and the shards spread
//! 4/4/4 again. Throughout, no shard has two leaders at once and each shard's tokens grow in the
//! order its terms began (a [`Fenced`] resource per shard takes every one of them), both by the
//! agents' samplers: the interval in which a process certainly believed it led (from the end
//! of its first true `is_leader(shard)` sample to the start of its last), which event delivery
//! delays cannot stretch. A killed agent's last belief is known only at its start.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::contract::{Subject, SLACK};
use crate::fenced::Fenced;
use crate::fleet::{AgentEvent, Fleet};
use crate::server::unique;
use crate::wait::WAIT;

const SHARDS: usize = 12;

/// One term of one shard: who, which token, and when (agent stamps, `CLOCK_MONOTONIC`).
#[derive(Debug, Clone)]
struct Held {
    member: usize,
    term: u64,
    from: u64,
    until: Option<u64>,
}

/// Every term of every shard, as the agents reported them.
struct Book {
    /// From `Elected`/`Revoked` (and kills): who leads now, for the loads.
    terms: Vec<Vec<Held>>,
    /// From the samplers: when each process certainly believed it led, for the checks.
    beliefs: Vec<Vec<Held>>,
    dead: Vec<(usize, u64)>,
}

impl Book {
    fn new() -> Book {
        Book {
            terms: vec![Vec::new(); SHARDS],
            beliefs: vec![Vec::new(); SHARDS],
            dead: Vec::new(),
        }
    }

    fn note(&mut self, member: usize, event: &AgentEvent, at: u64) {
        match event {
            AgentEvent::Shard(shard, inner) => match **inner {
                AgentEvent::Elected(term) => {
                    let dead = self.dead.iter().find(|(m, _)| *m == member);
                    self.terms[*shard].push(Held {
                        member,
                        term,
                        from: at,
                        until: dead.map(|(_, killed)| *killed),
                    })
                }
                AgentEvent::Revoked(term, _) => {
                    if let Some(h) = self.terms[*shard]
                        .iter_mut()
                        .find(|h| h.member == member && h.term == term)
                    {
                        h.until = Some(at);
                    }
                }
                AgentEvent::Sampled {
                    began: true,
                    term,
                    at_ns,
                } => {
                    // Read after the kill: all that is known is that it believed then.
                    let dead = self.dead.iter().any(|(m, _)| *m == member);
                    self.beliefs[*shard].push(Held {
                        member,
                        term,
                        from: at_ns,
                        until: dead.then_some(at_ns),
                    })
                }
                AgentEvent::Sampled {
                    began: false,
                    term,
                    at_ns,
                } => {
                    if let Some(h) = self.beliefs[*shard]
                        .iter_mut()
                        .find(|h| h.member == member && h.term == term && h.until.is_none())
                    {
                        h.until = Some(at_ns);
                    }
                }
                _ => {}
            },
            AgentEvent::Gone => self.killed(member, at),
            _ => {}
        }
    }

    /// A dead agent leads nothing from `at` on.
    fn killed(&mut self, member: usize, at: u64) {
        if self.dead.iter().any(|(m, _)| *m == member) {
            return;
        }
        self.dead.push((member, at));
        for h in self.terms.iter_mut().flatten() {
            if h.member == member && h.until.is_none() {
                h.until = Some(at);
            }
        }
        for h in self.beliefs.iter_mut().flatten() {
            if h.member == member && h.until.is_none() {
                h.until = Some(h.from);
            }
        }
    }

    /// Shards each of `members` leads now; `None` while a shard has no leader among them, or
    /// more than one open term (a `Revoked` still on its way through another agent's pipe).
    fn loads(&self, members: &[usize]) -> Option<Vec<usize>> {
        let mut loads = vec![0; members.len()];
        for terms in &self.terms {
            let mut open = terms.iter().filter(|h| h.until.is_none());
            let (Some(open), None) = (open.next(), open.next()) else {
                return None;
            };
            let i = members.iter().position(|m| *m == open.member)?;
            loads[i] += 1;
        }
        Some(loads)
    }

    /// No two beliefs of a shard overlap, and tokens grow in the order they began.
    fn check(&self) {
        for (shard, terms) in self.beliefs.iter().enumerate() {
            let mut terms = terms.clone();
            terms.sort_by_key(|h| h.from);
            let mut fence = Fenced::default();
            for pair in terms.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                let end = a.until.unwrap_or(u64::MAX);
                assert!(
                    end < b.from,
                    "shard {shard}: two leaders at once: {a:?} and {b:?}"
                );
            }
            for h in &terms {
                assert!(
                    fence.write(h.term),
                    "shard {shard}: token {} after a greater one ({terms:?})",
                    h.term
                );
            }
        }
    }

    /// Takes the fleet's events until `members` lead `want` shards each; returns when.
    fn until(&mut self, fleet: &mut Fleet, members: &[usize], want: usize, within: Duration) {
        let end = Instant::now() + within;
        let wanted = vec![want; members.len()];
        while self.loads(members).as_ref() != Some(&wanted) {
            let left = end.saturating_duration_since(Instant::now());
            let Some(note) = fleet.next(left) else {
                panic!(
                    "no {want} shards each for agents {members:?} within {within:?}: {:?}",
                    self.loads_now()
                );
            };
            self.note(note.member, &note.event, note.at_ns);
        }
    }

    /// Who leads each shard now (for failure messages).
    fn loads_now(&self) -> Vec<Option<usize>> {
        let open = |t: &Vec<Held>| t.iter().find(|h| h.until.is_none()).map(|h| h.member);
        self.terms.iter().map(open).collect()
    }
}

/// The scenario of issue 22 on `s`'s store.
pub fn spread_kill_return(s: &Subject) {
    let name = format!("group-{}", unique());
    let mut fleet = crate::agent::fleet();
    let mut book = Book::new();
    let ids = ["g0", "g1", "g2"];
    let mut members: Vec<usize> = ids
        .iter()
        .map(|id| fleet.join_group(&s.uri, &name, id, SHARDS, None).unwrap())
        .collect();
    let started = Instant::now();
    book.until(&mut fleet, &members, 4, WAIT);
    eprintln!("group: 4/4/4 {:?} after the start", started.elapsed());

    let victim = members.pop().unwrap();
    let killed = Instant::now();
    let at = fleet.kill(victim);
    book.killed(victim, at);
    book.until(&mut fleet, &members, 6, s.crash_bound() + SLACK);
    eprintln!("group: 6/6 {:?} after the SIGKILL", killed.elapsed());

    let back = fleet
        .join_group(&s.uri, &name, ids[2], SHARDS, None)
        .unwrap();
    members.push(back);
    let returned = Instant::now();
    book.until(&mut fleet, &members, 4, WAIT);
    eprintln!("group: 4/4/4 {:?} after the return", returned.elapsed());

    // Late Revoked events of the moves still in flight, then the whole history.
    let settle = Instant::now() + Duration::from_millis(300);
    while let Some(note) = fleet.next(settle.saturating_duration_since(Instant::now())) {
        book.note(note.member, &note.event, note.at_ns);
    }
    let seen: HashSet<usize> = book.beliefs.iter().flatten().map(|h| h.member).collect();
    assert_eq!(
        seen.len(),
        4,
        "every instance believed it led some shard: {seen:?}"
    );
    assert!(seen.contains(&back), "the returned instance leads again");
    book.check();
    fleet.shutdown();
}
