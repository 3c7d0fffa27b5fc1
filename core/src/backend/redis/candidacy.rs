//! One candidate in one election on Redis.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::keepalive::{self, Entry};
use super::notify::{self, WokenBy};
use super::{scripts, Shared};
use crate::backend::{Candidacy, CandidateSpec, Grant, Renewal};
use crate::error::{Error, ErrorCode, Result};

/// Registry keys, unique within the process.
static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

pub struct RedisCandidacy {
    shared: Arc<Shared>,
    spec: CandidateSpec,
    key: u64,
    /// Random per candidacy; a grant's token is `<base>-<attempt>`, so a token never names two
    /// leaderships and a stale leader cannot act on its successor's lock.
    base: String,
    attempts: u64,
    /// The token of the last acquire attempt: the lock may be ours under it even if the
    /// attempt failed or was cancelled before its answer arrived, so the next attempt, release
    /// and leave use it.
    token: Option<String>,
    leading: bool,
}

impl RedisCandidacy {
    pub async fn join(shared: Arc<Shared>, spec: &CandidateSpec) -> Result<RedisCandidacy> {
        let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
        let entry = Entry {
            election: spec.election.clone(),
            id: spec.id.clone(),
            value: spec.value.clone(),
            token: None,
            confirmed: None,
        };
        shared.registry.insert(key, entry.clone());
        // Visible as a member at once, not only from the next tick.
        let joined = async {
            keepalive::send(&shared, &[(key, entry)], true, &[]).await?;
            super::members::announce(&shared, &spec.election, "joined").await
        };
        if let Err(e) = joined.await {
            shared.registry.remove(key);
            return Err(e);
        }
        Ok(RedisCandidacy {
            shared,
            spec: spec.clone(),
            key,
            base: format!("{}-{:016x}", std::process::id(), crate::random::u64()),
            attempts: 0,
            token: None,
            leading: false,
        })
    }

    /// One attempt: `Ok(Ok(term))` when granted, `Ok(Err(wait))` with how long the lock stays
    /// taken at most.
    async fn try_acquire(&mut self, token: &str) -> Result<std::result::Result<u64, Duration>> {
        let (k, e) = (&self.shared.keys, self.spec.election.as_str());
        let mut inv = scripts::ACQUIRE.prepare_invoke();
        inv.key(k.lock(e))
            .key(k.leader(e))
            .key(k.term(e))
            .key(k.max_ttl())
            .key(k.members(e))
            .key(k.values(e))
            .key(k.next(e))
            .arg(token)
            .arg(self.shared.ttl_ms)
            .arg(&self.spec.id)
            .arg(&self.spec.value)
            .arg(k.channel(e))
            .arg(self.shared.max_ttl_ms())
            .arg(self.spec.holdoff.as_millis() as u64)
            .arg(self.spec.sticky.as_millis() as u64);
        let (granted, n, hold): (i64, i64, u64) = self.shared.invoke(&inv).await?;
        self.shared.learn_max_ttl(hold);
        match granted {
            1 => Ok(Ok(n as u64)),
            0 => Ok(Err(Duration::from_millis(n.max(0) as u64))),
            // Nothing will free it: report it (the engine retries after `retry`) instead of
            // retrying at once.
            _ => Err(Error::store(format!(
                "election `{e}`: the lock key `{}` exists with no expiry, so elect did not set \
                 it (another program writes under the prefix?); waiting until it is deleted",
                k.lock(e)
            ))),
        }
    }

    async fn release_lock(&mut self, leaving: bool) -> Result<()> {
        self.shared.registry.set_token(self.key, None);
        self.leading = false;
        let token = self.token.take();
        if token.is_none() && !leaving {
            return Ok(());
        }
        let (k, e) = (&self.shared.keys, self.spec.election.as_str());
        let mut inv = scripts::RELEASE.prepare_invoke();
        inv.key(k.lock(e))
            .key(k.leader(e))
            .key(k.members(e))
            .key(k.values(e))
            .key(k.next(e))
            .arg(token.as_deref().unwrap_or(""))
            .arg(k.channel(e));
        if leaving {
            inv.arg(&self.spec.id);
        }
        let _released: i64 = self.shared.invoke(&inv).await?;
        Ok(())
    }
}

#[async_trait]
impl Candidacy for RedisCandidacy {
    async fn acquire(&mut self) -> Result<Grant> {
        if self.leading {
            return Err(Error::internal("acquire while already leading"));
        }
        // Subscribed before the first attempt, so a release right after it still wakes us.
        let mut wakes = self.shared.wakers.subscribe(&self.spec.election);
        let mut woken_by = WokenBy::FirstTry;
        loop {
            wakes.borrow_and_update();
            // A token left over from an attempt whose answer was lost (an error, or this future
            // dropped) is used again: if that attempt took the lock, the script says so.
            let token = match &self.token {
                Some(t) => t.clone(),
                None => {
                    self.attempts += 1;
                    let t = format!("{}-{}", self.base, self.attempts);
                    self.token = Some(t.clone());
                    t
                }
            };
            let sent_at = Instant::now();
            match self.try_acquire(&token).await? {
                Ok(term) => {
                    notify::count_grant(woken_by);
                    self.leading = true;
                    self.shared.registry.set_token(self.key, Some(token));
                    return Ok(Grant {
                        term,
                        renewal: Renewal {
                            sent_at,
                            ttl: self.shared.ttl,
                        },
                    });
                }
                Err(taken_for) => {
                    self.token = None;
                    // Just after the lock can expire, or at `retry`, whichever is sooner.
                    let pause = self.shared.retry.min(taken_for + Duration::from_millis(1));
                    woken_by = notify::wait(&mut wakes, pause).await;
                }
            }
        }
    }

    async fn renew(&mut self) -> Result<Renewal> {
        let ttl = self.shared.ttl;
        let verdict = match self
            .shared
            .registry
            .confirmed(self.key, 2 * self.shared.keepalive_every)
        {
            Some(v) => v,
            None => {
                let sent_at = Instant::now();
                let snapshot = Entry {
                    election: self.spec.election.clone(),
                    id: self.spec.id.clone(),
                    value: self.spec.value.clone(),
                    token: self.token.clone(),
                    confirmed: None,
                };
                let (ok, _) =
                    keepalive::send(&self.shared, &[(self.key, snapshot)], false, &[]).await?;
                (sent_at, ok.first().copied().unwrap_or(false))
            }
        };
        match verdict {
            (sent_at, true) => Ok(Renewal { sent_at, ttl }),
            (sent_at, false) => Err(Error::new(
                ErrorCode::NotLeader,
                match self.shared.clock_jump_at(sent_at) {
                    Some(jumped) => format!("election `{}`: {jumped}", self.spec.election),
                    None => format!(
                        "election `{}`: the lock expired or another candidate holds it",
                        self.spec.election
                    ),
                },
            )),
        }
    }

    async fn proclaim(&mut self, value: &str) -> Result<()> {
        let token = match (&self.token, self.leading) {
            (Some(t), true) => t.clone(),
            _ => return Err(Error::new(ErrorCode::NotLeader, "not leading")),
        };
        // Heartbeats carry the new value from now on; one already in flight with the old value
        // lands before the script below, so the member's value does not flip back.
        self.shared.registry.set_value(self.key, value);
        drop(self.shared.registry.in_flight.lock().await);
        let (k, e) = (&self.shared.keys, self.spec.election.as_str());
        let mut inv = scripts::PROCLAIM.prepare_invoke();
        inv.key(k.lock(e))
            .key(k.leader(e))
            .key(k.values(e))
            .arg(&token)
            .arg(&self.spec.id)
            .arg(value)
            .arg(k.channel(e));
        let written: i64 = self.shared.invoke(&inv).await?;
        if written != 1 {
            self.shared.registry.set_value(self.key, &self.spec.value);
            return Err(Error::new(
                ErrorCode::NotLeader,
                format!("election `{e}`: the lock expired or another candidate holds it"),
            ));
        }
        self.spec.value = value.to_string();
        Ok(())
    }

    async fn release(&mut self) -> Result<()> {
        self.release_lock(false).await
    }

    async fn hand_over(&mut self, successor: &str) -> Result<()> {
        let token = match (&self.token, self.leading) {
            (Some(t), true) => t.clone(),
            _ => return Err(Error::new(ErrorCode::NotLeader, "hand-over: not leading")),
        };
        let (k, e) = (&self.shared.keys, self.spec.election.as_str());
        let mut inv = scripts::HAND_OVER.prepare_invoke();
        inv.key(k.lock(e))
            .key(k.leader(e))
            .key(k.next(e))
            .key(k.members(e))
            .arg(&token)
            .arg(k.channel(e))
            .arg(successor)
            .arg(self.shared.ttl_ms);
        let handed: i64 = self.shared.invoke(&inv).await?;
        match handed {
            1 => {
                self.shared.registry.set_token(self.key, None);
                self.leading = false;
                self.token = None;
                Ok(())
            }
            -1 => Err(Error::invalid(format!(
                "hand-over: `{successor}` is not a live member of election `{e}`"
            ))),
            _ => Err(Error::new(
                ErrorCode::NotLeader,
                format!("election `{e}`: the lock expired or another candidate holds it"),
            )),
        }
    }

    async fn leave(mut self: Box<Self>) -> Result<()> {
        self.shared.registry.remove(self.key);
        // A tick in flight may still carry our heartbeat; let it land before we remove it.
        drop(self.shared.registry.in_flight.lock().await);
        self.release_lock(true).await
    }
}

impl Drop for RedisCandidacy {
    fn drop(&mut self) {
        // Dropped without `leave` (the engine was aborted): stop renewing; the lock and the
        // membership expire after ttl.
        self.shared.registry.remove(self.key);
    }
}
