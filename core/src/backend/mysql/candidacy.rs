//! One candidate: wait in line on the election's named lock, take the lease with one
//! conditional UPDATE, lead (batched renewals), release (conditional UPDATE, then the lock).
//!
//! **The line.** MySQL has no LISTEN/NOTIFY. Each candidacy has a session of its own on which
//! it waits in `GET_LOCK` on the election's named lock before it tries the lease, and keeps the
//! lock while it leads. The leader's `RELEASE_LOCK` after its release (or the server dropping
//! the named locks of a dead connection) hands the lock to the next waiter in a round trip,
//! which then tries at once. The lock is only a wake-up: the lease row alone decides who leads.
//! Every wait on it is bounded by the time left on the current lease, so a holder that keeps the
//! lock without leading (a frozen process, a crashed leader's unexpired lease) delays nobody
//! beyond that lease; and a waiter that holds the lock while someone else leads falls back to
//! what the renewal rounds see (as polling would).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::Shared;
use crate::backend::rounds::Seen;
use crate::backend::{Candidacy, CandidateSpec, Grant, Renewal};
use crate::error::{Error, ErrorCode, Result};

/// Candidates woken by the named lock (the previous holder released it or its connection
/// died), for tests and benchmarks that prove a handover went through the lock rather than
/// through expiry or the rounds.
pub static LOCK_WAKEUPS: AtomicU64 = AtomicU64::new(0);

/// Waiters try a little after the lease they wait for runs out, so that the server agrees.
const EXPIRY_SLACK: Duration = Duration::from_millis(2);

pub(super) struct MysqlCandidacy {
    shared: Arc<Shared>,
    spec: CandidateSpec,
    /// Random per candidacy (column `owner`): the lease is ours only under it, so another
    /// candidacy with the same `id` can neither take over our live lease nor release it.
    owner: String,
    lock_name: String,
    /// The session that waits on and holds the named lock.
    line: Option<Line>,
    member_key: Option<u64>,
    held: Option<Held>,
}

struct Line {
    conn: Conn,
    /// This session holds the named lock (once: `GET_LOCK` nests, so we never ask twice).
    holding: bool,
}

struct Held {
    term: u64,
    /// Key of the lease in the renewal rounds.
    key: u64,
    /// Send time of the last confirmation handed to the engine.
    confirmed: Instant,
}

enum Attempt {
    Won {
        term: u64,
    },
    /// The lease may be ours in about this long at the earliest; `others_first` when another
    /// candidate may be granted before (a hand-off or stickiness for someone else).
    Lost {
        left: Duration,
        others_first: bool,
    },
}

impl MysqlCandidacy {
    pub async fn join(shared: Arc<Shared>, spec: &CandidateSpec) -> Result<MysqlCandidacy> {
        let join = shared.names.join(
            &spec.election,
            &spec.id,
            &spec.value,
            shared.ttl.as_micros(),
        );
        let joining = shared.lease.run("joining the election", move |c| {
            Box::pin(c.query_drop(join))
        });
        // The line's session is opened meanwhile, so that the first acquire need not wait for
        // a connection (and its TLS handshake). Failing here is fine: acquire opens it later.
        let opening = async {
            if shared.lock_line {
                shared.params.open().await.ok()
            } else {
                None
            }
        };
        let (joined, line) = tokio::join!(joining, opening);
        joined?;
        let member_key = shared
            .rounds
            .add_member(&spec.election, &spec.id, &spec.value);
        Ok(MysqlCandidacy {
            owner: format!("{:016x}{:016x}", crate::random::u64(), crate::random::u64()),
            lock_name: shared.names.lock(&spec.election),
            shared,
            spec: spec.clone(),
            line: line.map(|conn| Line {
                conn,
                holding: false,
            }),
            member_key: Some(member_key),
            held: None,
        })
    }

    async fn attempt(&self) -> Result<Attempt> {
        let (acquire, remaining, seed) = (
            self.shared.names.acquire(),
            self.shared.names.remaining(),
            self.shared.names.seed(),
        );
        let ttl_us = self.shared.ttl.as_micros() as u64;
        let (s, owner) = (self.spec.clone(), self.owner.clone());
        self.shared
            .lease
            .run("acquiring the lease", move |c| {
                Box::pin(async move {
                    let (holdoff_us, sticky_us) =
                        (s.holdoff.as_micros() as u64, s.sticky.as_micros() as u64);
                    c.exec_drop(
                        acquire,
                        (
                            &s.id,
                            &s.value,
                            ttl_us,
                            &owner,
                            holdoff_us,
                            sticky_us,
                            &s.election,
                            &owner,
                            &s.id,
                            &s.id,
                        ),
                    )
                    .await?;
                    if c.affected_rows() == 1 {
                        let term = c.last_insert_id().unwrap_or_default();
                        return Ok(Attempt::Won { term });
                    }
                    let row: Option<(i64, Option<i64>)> =
                        c.exec_first(remaining, (&s.id, &s.election)).await?;
                    if row.is_none() {
                        // The row was deleted by hand: put it back and try again at once.
                        c.exec_drop(seed, (&s.election,)).await?;
                    }
                    let (left, others_first) = row.unwrap_or((0, None));
                    Ok(Attempt::Lost {
                        left: Duration::from_micros(left.max(0) as u64),
                        others_first: others_first.unwrap_or(0) != 0,
                    })
                })
            })
            .await
    }

    /// Waits up to `limit` for the named lock; true when this session holds it. Failures drop
    /// the line's session (the next wait opens another): the lock only hurries a handover.
    async fn wait_in_line(&mut self, limit: Duration) -> bool {
        if self.line.as_ref().is_some_and(|l| l.holding) {
            return true;
        }
        let mut line = match self.line.take() {
            Some(line) => line,
            None => match self.shared.params.open().await {
                Ok(conn) => Line {
                    conn,
                    holding: false,
                },
                Err(e) => {
                    tracing::debug!("mysql: cannot open the line's session: {e}");
                    return false;
                }
            },
        };
        // Taken out while waiting: if this future is dropped meanwhile, the session closes
        // and the server drops the wait (and the lock, had it been granted). Asked without
        // waiting first, so that a grant after a wait is known to be a wake-up.
        let mut woken = false;
        let mut got = get_lock(&mut line.conn, &self.lock_name, Duration::ZERO).await;
        if matches!(got, Ok(false)) && !limit.is_zero() {
            woken = true;
            got = get_lock(&mut line.conn, &self.lock_name, limit).await;
        }
        match got {
            Ok(holding) => {
                if holding && woken {
                    LOCK_WAKEUPS.fetch_add(1, Ordering::Relaxed);
                }
                line.holding = holding;
                self.line = Some(line);
                holding
            }
            Err(e) => {
                tracing::debug!("mysql: waiting on the named lock: {e}");
                false
            }
        }
    }

    /// Lets the next waiter in line go.
    async fn leave_line(&mut self) {
        let Some(line) = self.line.as_mut().filter(|l| l.holding) else {
            return;
        };
        let released: mysql_async::Result<Option<Option<i64>>> = line
            .conn
            .exec_first("SELECT RELEASE_LOCK(?)", (&self.lock_name,))
            .await;
        match released {
            Ok(_) => line.holding = false,
            // Closing the session frees the lock as well.
            Err(_) => self.line = None,
        }
    }
}

#[async_trait]
impl Candidacy for MysqlCandidacy {
    async fn acquire(&mut self) -> Result<Grant> {
        if self.held.is_some() {
            return Err(Error::internal("acquire while already leading"));
        }
        // The rounds read the leader meanwhile (one statement per period for all waiters of
        // the connection): what a waiter falls back to when the lock cannot wake it.
        let _watching = self.shared.rounds.watch(&self.spec.election);
        let mut rounds = self.shared.rounds.subscribe_done();
        // Before the first attempt we do not know how long the lease has left: a ttl bounds it.
        let mut left = self.shared.ttl;
        loop {
            // Polling (`handover=poll`): as if first in line, waiting on the rounds alone.
            let in_line = !self.shared.lock_line || self.wait_in_line(left + EXPIRY_SLACK).await;
            let sent_at = Instant::now();
            left = match self.attempt().await? {
                Attempt::Won { term } => {
                    let key = self.shared.rounds.add_lease(
                        &self.spec.election,
                        &self.spec.id,
                        &self.owner,
                        term,
                    );
                    self.held = Some(Held {
                        term,
                        key,
                        confirmed: sent_at,
                    });
                    return Ok(Grant {
                        term,
                        renewal: Renewal {
                            sent_at,
                            ttl: self.shared.ttl,
                        },
                    });
                }
                Attempt::Lost {
                    left,
                    others_first: true,
                } => {
                    // Reserved for someone else (a hand-off, a sticky leader): let that one
                    // have the named lock, and wait for a leader or the reservation's end.
                    self.leave_line().await;
                    self.wait_for_leader(&mut rounds, sent_at, left).await?;
                    left
                }
                Attempt::Lost { left, .. } => left,
            };
            if !in_line {
                continue; // the wait timed out or failed; the lease was renewed meanwhile
            }
            // We hold the lock but someone else leads (its connection died with its lease still
            // running, or it leads without the lock): wait for the lease to run out, unless a
            // round sees it renewed or released meanwhile.
            let mut expiry = Instant::now() + left;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until((expiry + EXPIRY_SLACK).into()) => break,
                    r = rounds.changed() => {
                        if r.is_err() {
                            return Err(Error::closed());
                        }
                        match self.shared.rounds.seen_after(&self.spec.election, Some(sent_at)) {
                            Some(Seen { leader: None, .. }) => break,
                            Some(Seen { leader: Some((_, until)), .. }) => expiry = until,
                            None => {}
                        }
                    }
                }
            }
            left = Duration::ZERO;
        }
    }

    async fn renew(&mut self) -> Result<Renewal> {
        let held = self
            .held
            .as_mut()
            .ok_or_else(|| Error::new(ErrorCode::NotLeader, "not holding the lease"))?;
        let renewal = self.shared.rounds.renew(held.key, held.confirmed).await?;
        held.confirmed = renewal.sent_at;
        Ok(renewal)
    }

    async fn proclaim(&mut self, value: &str) -> Result<()> {
        let term = match &self.held {
            Some(held) => held.term as i64,
            None => return Err(Error::new(ErrorCode::NotLeader, "not holding the lease")),
        };
        if !self.publish_value(term, value).await? {
            return Err(Error::new(
                ErrorCode::NotLeader,
                format!(
                    "election `{}`: our lease expired or another candidate holds it",
                    self.spec.election
                ),
            ));
        }
        self.spec.value = value.to_string();
        if let Some(key) = self.member_key {
            self.shared.rounds.set_member_value(key, value);
        }
        Ok(())
    }

    async fn release(&mut self) -> Result<()> {
        let Some(held) = self.held.take() else {
            return Ok(());
        };
        // Out of the rounds first, so that no later round renews what we give up.
        self.shared.rounds.remove_lease(held.key);
        let released = self.give_up(Some(held.term as i64)).await;
        self.leave_line().await;
        released
    }

    async fn hand_over(&mut self, successor: &str) -> Result<()> {
        let Some(held) = &self.held else {
            return Err(Error::new(ErrorCode::NotLeader, "not holding the lease"));
        };
        let (term, key) = (held.term as i64, held.key);
        let (hand_over, is_member) = (self.shared.names.hand_over(), self.shared.names.is_member());
        let (s, owner, to) = (self.spec.clone(), self.owner.clone(), successor.to_string());
        let ttl_us = self.shared.ttl.as_micros() as u64;
        let (handed, member) = self
            .shared
            .lease
            .run("handing the lease over", move |c| {
                Box::pin(async move {
                    c.exec_drop(
                        hand_over,
                        (
                            &to,
                            ttl_us,
                            &s.election,
                            &s.id,
                            term,
                            &owner,
                            &s.election,
                            &to,
                        ),
                    )
                    .await?;
                    if c.affected_rows() == 1 {
                        return Ok((true, true));
                    }
                    let member: Option<i64> = c.exec_first(is_member, (&s.election, &to)).await?;
                    Ok((false, member.is_some()))
                })
            })
            .await?;
        if !handed {
            return Err(if member {
                Error::new(
                    ErrorCode::NotLeader,
                    format!(
                        "election `{}`: our lease expired or another candidate holds it",
                        self.spec.election
                    ),
                )
            } else {
                Error::invalid(format!(
                    "hand-over: `{successor}` is not a live member of election `{}`",
                    self.spec.election
                ))
            });
        }
        self.held = None;
        self.shared.rounds.remove_lease(key);
        self.leave_line().await;
        Ok(())
    }

    /// The membership goes first, then the lease: a successor that looks at the members once
    /// it leads no longer finds this candidate (see `succession`).
    async fn leave(mut self: Box<Self>) -> Result<()> {
        let mut left = Ok(());
        if let Some(key) = self.member_key.take() {
            self.shared.rounds.remove_member(key);
            let leave = self.shared.names.leave();
            let s = self.spec.clone();
            left = self
                .shared
                .lease
                .run("leaving the election", move |c| {
                    Box::pin(c.exec_drop(leave, (s.election, s.id)))
                })
                .await;
        }
        let released = if self.held.is_some() {
            self.release().await
        } else {
            // An acquire cancelled with its statement in flight may have won a lease we never
            // heard of: give up whatever we hold, so the line moves now rather than in a ttl.
            self.give_up(None).await
        };
        if let Some(line) = self.line.take() {
            let _ = line.conn.disconnect().await;
        }
        left.and(released)
    }
}

impl MysqlCandidacy {
    /// Waits until a round after `sent_at` sees a leader, or `left` passes.
    async fn wait_for_leader(
        &self,
        rounds: &mut tokio::sync::watch::Receiver<u64>,
        sent_at: Instant,
        left: Duration,
    ) -> Result<()> {
        let until = Instant::now() + left + EXPIRY_SLACK;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(until.into()) => return Ok(()),
                r = rounds.changed() => {
                    if r.is_err() {
                        return Err(Error::closed());
                    }
                    if let Some(Seen { leader: Some(_), .. }) =
                        self.shared.rounds.seen_after(&self.spec.election, Some(sent_at))
                    {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Publishes `value` on our lease of `term` if it is still live; `false` when it is not.
    async fn publish_value(&self, term: i64, value: &str) -> Result<bool> {
        let names = &self.shared.names;
        let (proclaim, holds, member) = (names.proclaim(), names.holds(), names.member_value());
        let (s, owner, value) = (self.spec.clone(), self.owner.clone(), value.to_string());
        self.shared
            .lease
            .run("proclaiming a value", move |c| {
                Box::pin(async move {
                    let lease = (&s.election, &s.id, term, &owner);
                    c.exec_drop(proclaim, (&value, lease.0, lease.1, lease.2, lease.3))
                        .await?;
                    let ours = c.affected_rows() == 1
                        || c.exec_first::<i64, _, _>(holds, lease).await?.is_some();
                    if ours {
                        c.exec_drop(member, (&value, &s.election, &s.id)).await?;
                    }
                    Ok(ours)
                })
            })
            .await
    }

    /// Ends our lease of `term` (any term of ours if `None`).
    async fn give_up(&self, term: Option<i64>) -> Result<()> {
        let release = self.shared.names.release();
        let (s, owner) = (self.spec.clone(), self.owner.clone());
        self.shared
            .lease
            .run("releasing the lease", move |c| {
                Box::pin(c.exec_drop(release, (s.election, s.id, term, term, owner)))
            })
            .await
    }
}

/// `GET_LOCK(name, limit)`: true when granted, false when the wait timed out.
async fn get_lock(conn: &mut Conn, name: &str, limit: Duration) -> mysql_async::Result<bool> {
    let got: Option<Option<i64>> = conn
        .exec_first("SELECT GET_LOCK(?, ?)", (name, limit.as_secs_f64()))
        .await?;
    Ok(got.flatten() == Some(1))
}

impl Drop for MysqlCandidacy {
    /// A candidacy dropped without `leave` (the engine gave up on the store) stops being kept
    /// alive; its rows expire on the server after a ttl, its line's session closes.
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            self.shared.rounds.remove_lease(held.key);
        }
        if let Some(key) = self.member_key.take() {
            self.shared.rounds.remove_member(key);
        }
    }
}
