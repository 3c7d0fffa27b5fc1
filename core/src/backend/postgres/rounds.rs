//! Batched keep-alive: one statement per renewal period for everything this store connection
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

use tokio::sync::{watch, Notify};
use tokio_postgres::types::Type;

use super::Shared;
use crate::backend::Renewal;
use crate::error::{Error, ErrorCode, Result};
use crate::event::LeaderInfo;

#[derive(Default)]
pub(super) struct Rounds {
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
pub(super) struct Seen {
    /// When the round was sent.
    pub sent_at: Instant,
    /// The live leader, and an upper bound on when its lease runs out (the server's remaining
    /// time, counted from when the answer arrived).
    pub leader: Option<(LeaderInfo, Instant)>,
    /// The number of live members.
    pub members: u64,
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
    pub async fn run(shared: Arc<Shared>) {
        let period = shared.renew;
        let mut next = Instant::now() + period;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(next.into()) => {}
                _ = shared.rounds.wake.notified() => {
                    if shared.rounds.lock().requested.is_none() {
                        continue; // served by a round that started after the request
                    }
                }
            }
            let start = Instant::now();
            next = start + period;
            shared.rounds.round(&shared, start).await;
        }
    }

    async fn round(&self, shared: &Shared, start: Instant) {
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
        let outcome = tokio::time::timeout(shared.ttl, batch.send(shared)).await;
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
                Ok((renewed, leaders, counts, server_ms)) => {
                    let arrived = Instant::now();
                    let jumped = server_ms.and_then(|ms| shared.clock.check(start, arrived, ms));
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
                                leader: leaders
                                    .get(election)
                                    .map(|(l, left)| (l.clone(), arrived + *left)),
                                members: counts.get(election).copied().unwrap_or(0),
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

/// What one round sends.
struct Batch {
    lease_keys: HashSet<u64>,
    elections: Vec<String>,
    holders: Vec<String>,
    owners: Vec<String>,
    terms: Vec<i64>,
    m_elections: Vec<String>,
    m_ids: Vec<String>,
    m_values: Vec<String>,
    watched: Vec<String>,
}

type Renewed = HashMap<(String, i64), Duration>;
/// The server's `now()` in milliseconds since the epoch, as the round read it.
type ServerMs = Option<f64>;
type Leaders = HashMap<String, (LeaderInfo, Duration)>;
/// The number of live members per watched election (absent: none).
type Counts = HashMap<String, u64>;

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

    async fn send(&self, shared: &Shared) -> Result<(Renewed, Leaders, Counts, ServerMs)> {
        let client = shared.lease.client().await?;
        let ttl_ms = shared.ttl.as_millis() as i64;
        let rows = client
            .query_typed(
                &shared.sql.round,
                &[
                    (&ttl_ms, Type::INT8),
                    (&self.elections, Type::TEXT_ARRAY),
                    (&self.holders, Type::TEXT_ARRAY),
                    (&self.terms, Type::INT8_ARRAY),
                    (&self.m_elections, Type::TEXT_ARRAY),
                    (&self.m_ids, Type::TEXT_ARRAY),
                    (&self.m_values, Type::TEXT_ARRAY),
                    (&self.watched, Type::TEXT_ARRAY),
                    (&self.owners, Type::TEXT_ARRAY),
                ],
            )
            .await
            .map_err(|e| shared.params.error(e, "renewal round"))?;
        let mut renewed = Renewed::new();
        let mut leaders = Leaders::new();
        let mut counts = Counts::new();
        let mut server_ms = None;
        for row in rows {
            let kind: &str = row.get(0);
            let election: String = row.get(1);
            let term: i64 = row.get(4);
            let ms: f64 = row.get(5);
            let left = Duration::from_secs_f64(ms.max(0.0) / 1000.0);
            if kind == "now" {
                server_ms = Some(ms);
            } else if kind == "renewed" {
                renewed.insert((election, term), left);
            } else if kind == "members" {
                counts.insert(election, term.max(0) as u64);
            } else {
                let leader = LeaderInfo {
                    id: row.get(2),
                    value: row.get(3),
                    term: term as u64,
                };
                leaders.insert(election, (leader, left));
            }
        }
        Ok((renewed, leaders, counts, server_ms))
    }
}

pub(super) struct WatchGuard(Arc<Rounds>, String);

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.0.remove_watch(&self.1);
    }
}
