//! Batched keep-alive of the SQL stores (postgres, mysql): one statement per renewal period for everything this store connection
//! keeps alive (every lease it holds, every candidate's membership, the leader of every watched
//! election), so that idle traffic does not grow with the number of elections.
//!
//! A round runs every `renew` period, or earlier when a leader's renewal cannot wait (its last
//! confirmation predates every round so far, e.g. right after acquiring). [`Rounds::renew`]
//! answers with the first round *sent after* the leader's previous confirmation: the store
//! extended the lease at a server time no earlier than that send, so `sent_at + granted ttl`
//! stays a safe deadline. After their first renewal, all leases of a connection ride the same
//! rounds, whatever the number of elections. The period is the `renew` of the election that
//! opened the connection; an election sharing it with a shorter `renew` gets its earlier rounds
//! on request (and everyone rides them), one with a longer `renew` is simply renewed more often.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::{watch, Notify};

use super::server_clock::ClockCheck;
use crate::backend::Renewal;
use crate::error::{Error, ErrorCode, Result};
use crate::event::LeaderInfo;

/// One store connection as the rounds see it: how often and how long, and how to send a batch.
#[async_trait]
pub(crate) trait RoundStore: Send + Sync + 'static {
    fn config(&self) -> &RoundConfig;
    /// Sends one round in a single round trip.
    async fn send(&self, batch: &Batch) -> Result<Answer>;
}

/// The rounds of one store connection and what they run on.
pub(crate) struct RoundConfig {
    pub rounds: Arc<Rounds>,
    /// The store's name in messages.
    pub store: &'static str,
    /// The renewal period.
    pub period: Duration,
    /// The lease ttl: a round without an answer within it has failed.
    pub ttl: Duration,
    /// The server's clock as the rounds read it.
    pub clock: ClockCheck,
}

impl RoundConfig {
    /// The rounds of a connection opened by `config`'s election, on `store`.
    pub fn new(store: &'static str, config: &crate::uri::Config) -> RoundConfig {
        RoundConfig {
            rounds: Arc::default(),
            store,
            period: config.renew(),
            ttl: config.ttl,
            clock: ClockCheck::new(store, config.margin()),
        }
    }
}

#[derive(Default)]
pub(crate) struct Rounds {
    registry: Mutex<Registry>,
    /// Asks the round task to run a round now.
    wake: Notify,
    /// Number of completed rounds.
    done: watch::Sender<u64>,
}

#[derive(Default)]
struct Registry {
    next_key: u64,
    leases: HashMap<u64, Lease>,
    members: HashMap<u64, MemberRow>,
    /// Watched election -> number of watchers and what the last round saw.
    watched: HashMap<String, Watched>,
    /// Start of the round in flight.
    in_flight: Option<Instant>,
    /// Set by a renewal that needs a round started after this instant (its last confirmation).
    /// A wake-up finding it cleared (a timed round served it meanwhile) runs no extra round.
    requested: Option<Instant>,
}

struct Lease {
    election: String,
    holder: String,
    /// The candidacy's nonce (column `owner`).
    owner: String,
    term: i64,
    /// Send time and outcome of the last round that covered this lease.
    last: Option<(Instant, Result<Duration>)>,
}

/// What a round saw of a watched election.
#[derive(Clone)]
pub(crate) struct Seen {
    /// When the round was sent.
    pub sent_at: Instant,
    /// The live leader, and an upper bound on when its lease runs out (the server's remaining
    /// time, counted from when the answer arrived).
    pub leader: Option<(LeaderInfo, Instant)>,
    /// The number of live members.
    pub members: u64,
    /// A digest of the live members' ids, so that a leave and a join between two rounds,
    /// which leave the number unchanged, are seen too; 0 where the store computes none (it
    /// announces joins and leaves instead).
    pub digest: u64,
}

struct MemberRow {
    election: String,
    id: String,
    value: String,
}

#[derive(Default)]
struct Watched {
    watchers: usize,
    /// The last round that read this election.
    seen: Option<Seen>,
}

impl Rounds {
    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn key(reg: &mut Registry) -> u64 {
        reg.next_key += 1;
        reg.next_key
    }

    pub fn add_lease(&self, election: &str, holder: &str, owner: &str, term: u64) -> u64 {
        let mut reg = self.lock();
        let key = Self::key(&mut reg);
        reg.leases.insert(
            key,
            Lease {
                election: election.to_string(),
                holder: holder.to_string(),
                owner: owner.to_string(),
                term: term as i64,
                last: None,
            },
        );
        key
    }

    pub fn remove_lease(&self, key: u64) {
        self.lock().leases.remove(&key);
    }

    pub fn add_member(&self, election: &str, id: &str, value: &str) -> u64 {
        let mut reg = self.lock();
        let key = Self::key(&mut reg);
        reg.members.insert(
            key,
            MemberRow {
                election: election.to_string(),
                id: id.to_string(),
                value: value.to_string(),
            },
        );
        key
    }

    /// The value `key`'s heartbeats carry from now on.
    pub fn set_member_value(&self, key: u64, value: &str) {
        if let Some(m) = self.lock().members.get_mut(&key) {
            m.value = value.to_string();
        }
    }

    pub fn remove_member(&self, key: u64) {
        self.lock().members.remove(&key);
    }

    /// Has the rounds read the leader of `election` until the guard is dropped.
    pub fn watch(self: &Arc<Self>, election: &str) -> WatchGuard {
        self.lock()
            .watched
            .entry(election.to_string())
            .or_default()
            .watchers += 1;
        WatchGuard(self.clone(), election.to_string())
    }

    fn remove_watch(&self, election: &str) {
        let mut reg = self.lock();
        if let Some(w) = reg.watched.get_mut(election) {
            w.watchers -= 1;
            if w.watchers == 0 {
                reg.watched.remove(election);
            }
        }
    }

    /// What the last round saw of `election`, if it was sent after `after`.
    pub fn seen_after(&self, election: &str, after: Option<Instant>) -> Option<Seen> {
        let reg = self.lock();
        let seen = reg.watched.get(election)?.seen.as_ref()?;
        after.is_none_or(|a| seen.sent_at > a).then(|| seen.clone())
    }

    pub fn subscribe_done(&self) -> watch::Receiver<u64> {
        self.done.subscribe()
    }

    /// The first confirmation of lease `key` sent after `since`, running a round early if none
    /// is under way that could give one.
    pub async fn renew(&self, key: u64, since: Instant) -> Result<Renewal> {
        let mut done = self.done.subscribe();
        loop {
            {
                let mut reg = self.lock();
                let lease = reg
                    .leases
                    .get(&key)
                    .ok_or_else(|| Error::new(ErrorCode::NotLeader, "the lease was released"))?;
                if let Some((sent_at, outcome)) = &lease.last {
                    if *sent_at > since {
                        return outcome.clone().map(|ttl| Renewal {
                            sent_at: *sent_at,
                            ttl,
                        });
                    }
                }
                if reg.in_flight.is_none_or(|start| start <= since) {
                    reg.requested = Some(reg.requested.map_or(since, |r| r.max(since)));
                    self.wake.notify_one();
                }
            }
            if done.changed().await.is_err() {
                return Err(Error::closed());
            }
        }
    }

    /// The round task: runs until the backend is dropped (it is aborted then).
    pub async fn run<S: RoundStore>(shared: Arc<S>) {
        let config = shared.config();
        let mut next = Instant::now() + config.period;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(next.into()) => {}
                _ = config.rounds.wake.notified() => {
                    if config.rounds.lock().requested.is_none() {
                        continue; // served by a round that started after the request
                    }
                }
            }
            let start = Instant::now();
            next = start + config.period;
            config.rounds.round(&*shared, start).await;
        }
    }

    async fn round<S: RoundStore>(&self, shared: &S, start: Instant) {
        let batch = {
            let mut reg = self.lock();
            if reg.leases.is_empty() && reg.members.is_empty() && reg.watched.is_empty() {
                return;
            }
            reg.in_flight = Some(start);
            // Every request so far wants a round sent after an instant before now: this one.
            reg.requested = None;
            Batch::of(&reg)
        };
        let config = shared.config();
        let outcome = tokio::time::timeout(config.ttl, shared.send(&batch)).await;
        let outcome = outcome.unwrap_or_else(|_| {
            Err(Error::new(
                ErrorCode::Timeout,
                "the renewal round got no answer within the ttl",
            ))
        });
        {
            let mut reg = self.lock();
            reg.in_flight = None;
            match outcome {
                Ok(Answer {
                    renewed,
                    leaders,
                    server_ms,
                    counts,
                    digests,
                }) => {
                    let arrived = Instant::now();
                    let jumped = server_ms.and_then(|ms| config.clock.check(start, arrived, ms));
                    let watched: HashSet<&String> = batch.watched.iter().collect();
                    for (key, lease) in reg.leases.iter_mut() {
                        if !batch.lease_keys.contains(key) {
                            continue;
                        }
                        let granted = renewed.get(&(lease.election.clone(), lease.term)).copied();
                        lease.last = Some((
                            start,
                            match (granted, &jumped) {
                                (Some(ttl), None) => Ok(ttl),
                                (_, Some(message)) => Err(Error::new(
                                    ErrorCode::NotLeader,
                                    format!("the lease on `{}`: {message}", lease.election),
                                )),
                                (None, None) => Err(Error::new(
                                    ErrorCode::NotLeader,
                                    format!(
                                        "the lease on `{}` (term {}) expired or was taken over",
                                        lease.election, lease.term
                                    ),
                                )),
                            },
                        ));
                    }
                    for (election, w) in reg.watched.iter_mut() {
                        if watched.contains(election) {
                            w.seen = Some(Seen {
                                sent_at: start,
                                leader: leaders.get(election).and_then(|(l, left)| {
                                    capped(config.store, election, l.clone())
                                        .map(|l| (l, arrived + *left))
                                }),
                                members: counts.get(election).copied().unwrap_or(0),
                                digest: digests.get(election).copied().unwrap_or(0),
                            });
                        }
                    }
                }
                Err(e) => {
                    for (key, lease) in reg.leases.iter_mut() {
                        if batch.lease_keys.contains(key) {
                            lease.last = Some((start, Err(e.clone())));
                        }
                    }
                }
            }
        }
        self.done.send_modify(|n| *n += 1);
    }
}

/// `leader` within the caps of [`limits`](crate::backend::limits). One oversized row must not
/// fail the round that renews every lease of the connection: its election's watchers get no
/// leader from this round, and the log says why.
fn capped(store: &str, election: &str, leader: LeaderInfo) -> Option<LeaderInfo> {
    crate::backend::limits::leader(store, election, leader)
        .map_err(|e| tracing::warn!("{e}"))
        .ok()
}

/// What one round sends: the leases (in parallel vectors), the memberships and the watched
/// elections.
pub(crate) struct Batch {
    lease_keys: HashSet<u64>,
    pub elections: Vec<String>,
    pub holders: Vec<String>,
    pub owners: Vec<String>,
    pub terms: Vec<i64>,
    pub m_elections: Vec<String>,
    pub m_ids: Vec<String>,
    pub m_values: Vec<String>,
    pub watched: Vec<String>,
}

/// What the store answered to one round.
#[derive(Default)]
pub(crate) struct Answer {
    /// `(election, term)` of each lease still ours -> the ttl granted.
    pub renewed: HashMap<(String, i64), Duration>,
    /// Watched election -> its live leader and the time left on its lease.
    pub leaders: HashMap<String, (LeaderInfo, Duration)>,
    /// The server's clock in milliseconds since the epoch, as the round read it.
    pub server_ms: Option<f64>,
    /// Watched election -> its number of live members (absent: none).
    pub counts: HashMap<String, u64>,
    /// Watched election -> a digest of its live members' ids (absent: none, or not computed).
    pub digests: HashMap<String, u64>,
}

impl Batch {
    fn of(reg: &Registry) -> Batch {
        let mut b = Batch {
            lease_keys: HashSet::new(),
            elections: Vec::new(),
            holders: Vec::new(),
            owners: Vec::new(),
            terms: Vec::new(),
            m_elections: Vec::new(),
            m_ids: Vec::new(),
            m_values: Vec::new(),
            watched: reg.watched.keys().cloned().collect(),
        };
        for (key, l) in &reg.leases {
            b.lease_keys.insert(*key);
            b.elections.push(l.election.clone());
            b.holders.push(l.holder.clone());
            b.owners.push(l.owner.clone());
            b.terms.push(l.term);
        }
        for m in reg.members.values() {
            b.m_elections.push(m.election.clone());
            b.m_ids.push(m.id.clone());
            b.m_values.push(m.value.clone());
        }
        b
    }
}

pub(crate) struct WatchGuard(Arc<Rounds>, String);

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.0.remove_watch(&self.1);
    }
}
