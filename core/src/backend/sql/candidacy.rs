//! One candidate of a SQL store: wait in line, take the lease with one conditional statement,
//! lead on the batched renewals, release (and let the line go), leave.
//!
//! The line only hurries a handover: the lease row alone decides who leads. After a lost
//! attempt a candidate waits until the line wakes it ([`Line::woken`]), the current lease runs
//! out (as the server counts it, sent back as a duration), or a round sees the election without
//! a live leader; a round that sees the lease renewed pushes the wait back. A crashed holder
//! wakes nobody: its lease runs out first.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{Attempt, HandOver, Hold, Line, SqlStore};
use crate::backend::rounds::Seen;
use crate::backend::{Candidacy, CandidateSpec, Grant, Renewal};
use crate::error::{Error, ErrorCode, Result};

/// Waiters try a little after the lease they wait for runs out, so that the server agrees.
const EXPIRY_SLACK: Duration = Duration::from_millis(2);

pub(super) struct SqlCandidacy<S: SqlStore> {
    shared: Arc<S>,
    spec: CandidateSpec,
    /// Random per candidacy (column `owner`): the lease is ours only under it, so another
    /// candidacy with the same `id` can neither take over our live lease nor release it.
    owner: String,
    line: S::Line,
    member_key: Option<u64>,
    held: Option<Held>,
}

struct Held {
    term: u64,
    /// Key of the lease in the renewal rounds.
    key: u64,
    /// Send time of the last confirmation handed to the engine.
    confirmed: Instant,
}

impl<S: SqlStore> SqlCandidacy<S> {
    pub async fn join(shared: Arc<S>, spec: &CandidateSpec) -> Result<SqlCandidacy<S>> {
        // The line is set up meanwhile (e.g. its session opened), so that the first attempt
        // need not wait for it.
        let (joined, line) = tokio::join!(shared.join(spec), shared.line(&spec.election));
        joined?;
        let rounds = &shared.config().rounds;
        let member_key = rounds.add_member(&spec.election, &spec.id, &spec.value);
        Ok(SqlCandidacy {
            owner: format!("{:016x}{:016x}", crate::random::u64(), crate::random::u64()),
            shared,
            spec: spec.clone(),
            line,
            member_key: Some(member_key),
            held: None,
        })
    }

    /// Our lease of `term`, as the statements name it.
    fn hold(&self, term: i64) -> Hold<'_> {
        Hold {
            spec: &self.spec,
            term,
            owner: &self.owner,
        }
    }

    async fn campaign(&mut self) -> Result<Grant> {
        let rounds = &self.shared.config().rounds;
        // The rounds read the leader meanwhile (one statement per period for all waiters of
        // the connection): what a waiter falls back to when the line cannot wake it.
        let _watching = rounds.watch(&self.spec.election);
        let mut done = rounds.subscribe_done();
        // Before the first attempt we do not know how long the lease has left: a ttl bounds it.
        let mut left = self.shared.config().ttl;
        loop {
            let in_line = self.line.turn(left + EXPIRY_SLACK).await?;
            let sent_at = Instant::now();
            left = match self.shared.attempt(&self.spec, &self.owner).await? {
                Attempt::Won { term, ttl } => {
                    let key =
                        rounds.add_lease(&self.spec.election, &self.spec.id, &self.owner, term);
                    self.held = Some(Held {
                        term,
                        key,
                        confirmed: sent_at,
                    });
                    return Ok(Grant {
                        term,
                        renewal: Renewal { sent_at, ttl },
                    });
                }
                Attempt::Lost {
                    left,
                    others_first: true,
                } => {
                    // Reserved for someone else (a hand-off, a sticky leader): let that one
                    // have our place in line, and wait for a leader or the reservation's end.
                    self.line.pass().await;
                    wait_for_leader(&*self.shared, &self.spec.election, &mut done, sent_at, left)
                        .await?;
                    left
                }
                Attempt::Lost { left, .. } => left,
            };
            if !in_line {
                continue; // the wait timed out or failed; the lease was renewed meanwhile
            }
            let mut expiry = Instant::now() + left;
            loop {
                tokio::select! {
                    _ = self.line.woken() => break,
                    _ = tokio::time::sleep_until((expiry + EXPIRY_SLACK).into()) => break,
                    r = done.changed() => {
                        if r.is_err() {
                            return Err(Error::closed());
                        }
                        match rounds.seen_after(&self.spec.election, Some(sent_at)) {
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
}

#[async_trait]
impl<S: SqlStore> Candidacy for SqlCandidacy<S> {
    async fn acquire(&mut self) -> Result<Grant> {
        if self.held.is_some() {
            return Err(Error::internal("acquire while already leading"));
        }
        let grant = self.campaign().await;
        self.line.rest();
        grant
    }

    async fn renew(&mut self) -> Result<Renewal> {
        let held = self
            .held
            .as_mut()
            .ok_or_else(|| Error::new(ErrorCode::NotLeader, "not holding the lease"))?;
        let renewal = self
            .shared
            .config()
            .rounds
            .renew(held.key, held.confirmed)
            .await?;
        held.confirmed = renewal.sent_at;
        Ok(renewal)
    }

    async fn proclaim(&mut self, value: &str) -> Result<()> {
        let term = match &self.held {
            Some(held) => held.term as i64,
            None => return Err(Error::new(ErrorCode::NotLeader, "not holding the lease")),
        };
        if !self.shared.proclaim(self.hold(term), value).await? {
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
            self.shared.config().rounds.set_member_value(key, value);
        }
        Ok(())
    }

    async fn release(&mut self) -> Result<()> {
        let Some(held) = self.held.take() else {
            return Ok(());
        };
        // Out of the rounds first, so that no later round renews what we give up.
        self.shared.config().rounds.remove_lease(held.key);
        let released = self
            .shared
            .release(&self.spec, Some(held.term as i64), &self.owner)
            .await;
        self.line.pass().await;
        released
    }

    async fn hand_over(&mut self, successor: &str) -> Result<()> {
        let Some(held) = &self.held else {
            return Err(Error::new(ErrorCode::NotLeader, "not holding the lease"));
        };
        let (term, key) = (held.term as i64, held.key);
        let handed = self.shared.hand_over(self.hold(term), successor).await?;
        match handed {
            HandOver::Handed => {}
            HandOver::NotLeader => {
                return Err(Error::new(
                    ErrorCode::NotLeader,
                    format!(
                        "election `{}`: our lease expired or another candidate holds it",
                        self.spec.election
                    ),
                ))
            }
            HandOver::NotMember => {
                return Err(Error::invalid(format!(
                    "hand-over: `{successor}` is not a live member of election `{}`",
                    self.spec.election
                )))
            }
        }
        self.held = None;
        self.shared.config().rounds.remove_lease(key);
        self.line.pass().await;
        Ok(())
    }

    /// The membership goes first, then the lease: a successor that looks at the members once
    /// it leads no longer finds this candidate (see `succession`).
    async fn leave(mut self: Box<Self>) -> Result<()> {
        let mut left = Ok(());
        if let Some(key) = self.member_key.take() {
            self.shared.config().rounds.remove_member(key);
            left = self.shared.leave(&self.spec).await;
        }
        let released = if self.held.is_some() {
            self.release().await
        } else {
            // An acquire cancelled with its statement in flight may have won a lease we never
            // heard of: give up whatever we hold, so the line moves now rather than in a ttl.
            self.shared.release(&self.spec, None, &self.owner).await
        };
        self.line.close().await;
        left.and(released)
    }
}

/// Waits until a round after `sent_at` sees a leader of `election`, or `left` passes.
async fn wait_for_leader<S: SqlStore>(
    shared: &S,
    election: &str,
    done: &mut tokio::sync::watch::Receiver<u64>,
    sent_at: Instant,
    left: Duration,
) -> Result<()> {
    let until = Instant::now() + left + EXPIRY_SLACK;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(until.into()) => return Ok(()),
            r = done.changed() => {
                if r.is_err() {
                    return Err(Error::closed());
                }
                if let Some(Seen { leader: Some(_), .. }) =
                    shared.config().rounds.seen_after(election, Some(sent_at))
                {
                    return Ok(());
                }
            }
        }
    }
}

impl<S: SqlStore> Drop for SqlCandidacy<S> {
    /// A candidacy dropped without `leave` (the engine gave up on the store) stops being kept
    /// alive; its rows expire on the server after a ttl (and its line closes with it).
    fn drop(&mut self) {
        let rounds = &self.shared.config().rounds;
        if let Some(held) = self.held.take() {
            rounds.remove_lease(held.key);
        }
        if let Some(key) = self.member_key.take() {
            rounds.remove_member(key);
        }
    }
}
