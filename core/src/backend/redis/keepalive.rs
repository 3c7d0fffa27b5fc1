//! One keep-alive for the whole process: every `interval` (half the renewal period), a single
//! script call extends every lock this process holds on the store and refreshes the heartbeat of
//! every candidate it runs. Traffic is one command per interval whether there is one election
//! or a thousand.
//!
//! The engine still calls `renew` on its own schedule; a renewal confirmed by the last tick is
//! answered from here without I/O when that tick was sent less than two intervals ago (the
//! renewal then carries the tick's send time, so the lease deadline is computed from when the
//! server was actually asked; the engine's next renewal falls one renewal period after it, by
//! when a newer tick has landed). Only when the last tick is older, or failed, does `renew` ask
//! the server itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Shared;
use crate::error::Result;

/// One candidate's entry: its membership, and its lock while it leads.
#[derive(Clone)]
pub struct Entry {
    pub election: String,
    pub id: String,
    pub value: String,
    /// The token of the lock it holds, if it leads.
    pub token: Option<String>,
    /// Send time and verdict of the last tick that covered the lock.
    pub confirmed: Option<(Instant, bool)>,
}

#[derive(Default)]
pub struct Registry {
    entries: Mutex<HashMap<u64, Entry>>,
    /// Held while a tick is in flight, so that `leave` can wait for it to land before removing
    /// the member (else the tick could add it back).
    pub in_flight: tokio::sync::Mutex<()>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn insert(&self, key: u64, entry: Entry) {
        self.lock().insert(key, entry);
    }
    pub fn remove(&self, key: u64) {
        self.lock().remove(&key);
    }
    /// Records (or clears) the lock `key` holds.
    pub fn set_token(&self, key: u64, token: Option<String>) {
        if let Some(e) = self.lock().get_mut(&key) {
            e.token = token;
            e.confirmed = None;
        }
    }
    /// The value `key`'s heartbeats carry from now on.
    pub fn set_value(&self, key: u64, value: &str) {
        if let Some(e) = self.lock().get_mut(&key) {
            e.value = value.to_string();
        }
    }
    /// The verdict of the last tick for `key`'s lock, if it was sent within `fresh`.
    pub fn confirmed(&self, key: u64, fresh: Duration) -> Option<(Instant, bool)> {
        let (sent_at, ok) = self.lock().get(&key)?.confirmed?;
        (sent_at.elapsed() < fresh).then_some((sent_at, ok))
    }
    fn record(&self, key: u64, token: &str, sent_at: Instant, ok: bool) {
        if let Some(e) = self.lock().get_mut(&key) {
            // A lock released and taken again meanwhile has a new token: not this verdict.
            if e.token.as_deref() == Some(token) {
                e.confirmed = Some((sent_at, ok));
            }
        }
    }
    fn snapshot(&self) -> Vec<(u64, Entry)> {
        self.lock().iter().map(|(k, e)| (*k, e.clone())).collect()
    }
}

/// Sends one keep-alive for `entries` (each: its lock if it holds one, its heartbeat if
/// `members`) and reads the term and the number of live members of the `watched` elections;
/// records the verdicts. Returns the verdicts in the order of the locks, and the
/// `(term, members)` pairs in the order of `watched`.
pub async fn send(
    shared: &Shared,
    entries: &[(u64, Entry)],
    members: bool,
    watched: &[String],
) -> Result<(Vec<bool>, Vec<(u64, u64)>)> {
    let keys = &shared.keys;
    let locks: Vec<(u64, &Entry, &str)> = entries
        .iter()
        .filter_map(|(k, e)| e.token.as_deref().map(|t| (*k, e, t)))
        .collect();
    let heartbeats: &[(u64, Entry)] = if members { entries } else { &[] };
    let mut inv = super::scripts::KEEPALIVE.prepare_invoke();
    inv.key(keys.max_ttl())
        .arg(shared.ttl_ms)
        .arg(locks.len())
        .arg(heartbeats.len())
        .arg(shared.max_ttl_ms());
    for (_, e, token) in &locks {
        inv.key(keys.lock(&e.election))
            .key(keys.leader(&e.election))
            .arg(*token);
    }
    for (_, e) in heartbeats {
        inv.key(keys.members(&e.election))
            .key(keys.values(&e.election))
            .arg(&e.id)
            .arg(&e.value);
    }
    for election in watched {
        inv.key(keys.leader(election)).key(keys.members(election));
    }
    let sent_at = Instant::now();
    let mut out: Vec<u64> = shared.invoke(&inv).await?;
    let received_at = Instant::now();
    let (Some(server_ms), Some(hold)) = (out.pop(), out.pop()) else {
        return Err(crate::error::Error::store(
            "keep-alive: short reply from the server",
        ));
    };
    shared.learn_max_ttl(hold);
    let jumped = shared
        .check_clock(sent_at, received_at, server_ms)
        .is_some();
    let (verdicts, terms) = out.split_at(locks.len().min(out.len()));
    let verdicts: Vec<bool> = verdicts.iter().map(|v| *v == 1 && !jumped).collect();
    for ((key, _, token), ok) in locks.iter().zip(&verdicts) {
        shared.registry.record(*key, token, sent_at, *ok);
    }
    let seen = terms.chunks_exact(2).map(|p| (p[0], p[1])).collect();
    Ok((verdicts, seen))
}

/// The tick loop; runs until the store closes (the task is aborted then). Wakes the watchers of
/// an election whose term or number of live members changed since the previous tick: that is
/// how observers learn of a leader whose lock expired, or a member whose heartbeat expired (a
/// crash publishes nothing), without polling per election.
pub async fn run(shared: Arc<Shared>) {
    let mut ticks = tokio::time::interval(shared.keepalive_every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_terms: HashMap<String, (u64, u64)> = HashMap::new();
    loop {
        ticks.tick().await;
        let _flight = shared.registry.in_flight.lock().await;
        let entries = shared.registry.snapshot();
        let watched = shared.tick_wakers.elections();
        if entries.is_empty() && watched.is_empty() {
            continue;
        }
        match send(&shared, &entries, true, &watched).await {
            Ok((_, terms)) => {
                let mut seen = HashMap::with_capacity(watched.len());
                for (election, term) in watched.into_iter().zip(terms) {
                    if last_terms.get(&election).is_some_and(|t| *t != term) {
                        shared.tick_wakers.wake(&election);
                    }
                    seen.insert(election, term);
                }
                last_terms = seen;
            }
            // Leaders learn of it when they renew (the verdict is missing, so they ask the
            // server themselves and get the error); heartbeats simply try again next tick.
            Err(e) => tracing::warn!("keep-alive: {e}"),
        }
    }
}
