//! A candidate's statements (join, one conditional UPDATE per attempt, proclaim, release,
//! leave) and its line: a session of its own waiting on the election's named lock. The control
//! flow around them is the SQL stores' one ([`crate::backend::sql`]).
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
use std::time::Duration;

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::Shared;
use crate::backend::sql::{Attempt, CandidacyStore, HandOver, Hold, Line};
use crate::backend::CandidateSpec;
use crate::error::Result;

/// Candidates woken by the named lock (the previous holder released it or its connection
/// died), for tests and benchmarks that prove a handover went through the lock rather than
/// through expiry or the rounds.
pub static LOCK_WAKEUPS: AtomicU64 = AtomicU64::new(0);

#[async_trait]
impl CandidacyStore for Shared {
    type Line = MysqlLine;

    async fn join(&self, spec: &CandidateSpec) -> Result<()> {
        let join = self.names.join(
            &spec.election,
            &spec.id,
            &spec.value,
            self.round.ttl.as_micros(),
        );
        self.lease
            .run("joining the election", move |c| {
                Box::pin(c.query_drop(join))
            })
            .await
    }

    async fn attempt(&self, spec: &CandidateSpec, owner: &str) -> Result<Attempt> {
        let (acquire, remaining, seed) = (
            self.names.acquire(),
            self.names.remaining(),
            self.names.seed(),
        );
        let ttl = self.round.ttl;
        let ttl_us = ttl.as_micros() as u64;
        let (s, owner) = (spec.clone(), owner.to_string());
        self.lease
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
                        return Ok(Attempt::Won { term, ttl });
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

    /// MySQL counts changed rows, so an unchanged value affects none: a second statement then
    /// tells whether the lease is still ours.
    async fn proclaim(&self, hold: Hold<'_>, value: &str) -> Result<bool> {
        let Hold { spec, term, owner } = hold;
        let names = &self.names;
        let (proclaim, holds, member) = (names.proclaim(), names.holds(), names.member_value());
        let (s, owner, value) = (spec.clone(), owner.to_string(), value.to_string());
        self.lease
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

    async fn release(&self, spec: &CandidateSpec, term: Option<i64>, owner: &str) -> Result<()> {
        let release = self.names.release();
        let (s, owner) = (spec.clone(), owner.to_string());
        self.lease
            .run("releasing the lease", move |c| {
                Box::pin(c.exec_drop(release, (s.election, s.id, term, term, owner)))
            })
            .await
    }

    async fn hand_over(&self, hold: Hold<'_>, successor: &str) -> Result<HandOver> {
        let Hold { spec, term, owner } = hold;
        let (hand_over, is_member) = (self.names.hand_over(), self.names.is_member());
        let (s, owner, to) = (spec.clone(), owner.to_string(), successor.to_string());
        let ttl_us = self.round.ttl.as_micros() as u64;
        self.lease
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
                        return Ok(HandOver::Handed);
                    }
                    let member: Option<i64> = c.exec_first(is_member, (&s.election, &to)).await?;
                    Ok(if member.is_some() {
                        HandOver::NotLeader
                    } else {
                        HandOver::NotMember
                    })
                })
            })
            .await
    }

    async fn leave(&self, spec: &CandidateSpec) -> Result<()> {
        let leave = self.names.leave();
        let s = spec.clone();
        self.lease
            .run("leaving the election", move |c| {
                Box::pin(c.exec_drop(leave, (s.election, s.id)))
            })
            .await
    }

    /// The line's session is opened right away (while the candidate joins), so that the first
    /// attempt need not wait for a connection and its TLS handshake. Failing here is fine: the
    /// first turn opens it.
    async fn line(self: &Arc<Self>, election: &str) -> MysqlLine {
        let session = if self.lock_line {
            self.params.open().await.ok().map(|conn| Session {
                conn,
                holding: false,
            })
        } else {
            None
        };
        MysqlLine {
            lock_name: self.names.lock(election),
            shared: self.clone(),
            session,
        }
    }
}

/// A candidacy's place in the line: its session on the election's named lock
/// (`handover=lock`), or nothing (`handover=poll`: as if always first in line, waiting on the
/// rounds alone).
pub(crate) struct MysqlLine {
    shared: Arc<Shared>,
    lock_name: String,
    session: Option<Session>,
}

/// The session that waits on and holds the named lock.
struct Session {
    conn: Conn,
    /// This session holds the named lock (once: `GET_LOCK` nests, so we never ask twice).
    holding: bool,
}

#[async_trait]
impl Line for MysqlLine {
    /// Waits up to `limit` for the named lock; true when this session holds it. Failures drop
    /// the line's session (the next wait opens another): the lock only hurries a handover.
    async fn turn(&mut self, limit: Duration) -> Result<bool> {
        if !self.shared.lock_line || self.session.as_ref().is_some_and(|l| l.holding) {
            return Ok(true);
        }
        let mut line = match self.session.take() {
            Some(line) => line,
            None => match self.shared.params.open().await {
                Ok(conn) => Session {
                    conn,
                    holding: false,
                },
                Err(e) => {
                    tracing::debug!("mysql: cannot open the line's session: {e}");
                    return Ok(false);
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
                self.session = Some(line);
                Ok(holding)
            }
            Err(e) => {
                tracing::debug!("mysql: waiting on the named lock: {e}");
                Ok(false)
            }
        }
    }

    /// The lock wakes candidates in [`Line::turn`]; nothing is announced besides.
    async fn woken(&mut self) {
        std::future::pending().await
    }

    /// Lets the next waiter in line go.
    async fn pass(&mut self) {
        let Some(line) = self.session.as_mut().filter(|l| l.holding) else {
            return;
        };
        let released: mysql_async::Result<Option<Option<i64>>> = line
            .conn
            .exec_first("SELECT RELEASE_LOCK(?)", (&self.lock_name,))
            .await;
        match released {
            Ok(_) => line.holding = false,
            // Closing the session frees the lock as well.
            Err(_) => self.session = None,
        }
    }

    async fn close(&mut self) {
        if let Some(line) = self.session.take() {
            let _ = line.conn.disconnect().await;
        }
    }
}

/// `GET_LOCK(name, limit)`: true when granted, false when the wait timed out.
async fn get_lock(conn: &mut Conn, name: &str, limit: Duration) -> mysql_async::Result<bool> {
    let got: Option<Option<i64>> = conn
        .exec_first("SELECT GET_LOCK(?, ?)", (name, limit.as_secs_f64()))
        .await?;
    Ok(got.flatten() == Some(1))
}
