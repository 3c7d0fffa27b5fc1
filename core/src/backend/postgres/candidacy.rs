//! One candidate: wait in line (LISTEN + one conditional upsert), lead (batched renewals),
//! release (conditional update + NOTIFY in one statement).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio_postgres::types::Type;

use super::{Shared, NOTIFICATIONS};
use crate::backend::rounds::Seen;
use crate::backend::{Candidacy, CandidateSpec, Grant, Renewal};
use crate::error::{Error, ErrorCode, Result};

/// Waiters try a little after the lease they wait for runs out, so that the server agrees.
const EXPIRY_SLACK: Duration = Duration::from_millis(2);

pub(super) struct PgCandidacy {
    shared: Arc<Shared>,
    spec: CandidateSpec,
    channel: String,
    /// Random per candidacy (column `owner`): the lease is ours only under it, so another
    /// candidacy with the same `id` can neither take over our live lease nor release it.
    owner: String,
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

enum Attempt {
    Won {
        term: u64,
        ttl: Duration,
    },
    /// Someone else holds the lease for about this long.
    Lost {
        left: Duration,
    },
}

impl PgCandidacy {
    pub async fn join(shared: Arc<Shared>, spec: &CandidateSpec) -> Result<PgCandidacy> {
        let client = shared.lease.client().await?;
        client
            .execute_typed(
                &shared.sql.join,
                &[
                    (&shared.ttl_ms(), Type::INT8),
                    (&spec.election, Type::TEXT),
                    (&spec.id, Type::TEXT),
                    (&spec.value, Type::TEXT),
                    (&shared.names.channel(&spec.election), Type::TEXT),
                ],
            )
            .await
            .map_err(|e| shared.params.error(e, "joining the election"))?;
        let member_key = shared
            .rounds
            .add_member(&spec.election, &spec.id, &spec.value);
        Ok(PgCandidacy {
            channel: shared.names.channel(&spec.election),
            owner: format!("{:016x}{:016x}", crate::random::u64(), crate::random::u64()),
            shared,
            spec: spec.clone(),
            member_key: Some(member_key),
            held: None,
        })
    }

    async fn attempt(&self) -> Result<Attempt> {
        let client = self.shared.lease.client().await?;
        let rows = client
            .query_typed(
                &self.shared.sql.acquire,
                &[
                    (&self.shared.ttl_ms(), Type::INT8),
                    (&self.spec.election, Type::TEXT),
                    (&self.spec.id, Type::TEXT),
                    (&self.spec.value, Type::TEXT),
                    (&self.channel, Type::TEXT),
                    (&self.owner, Type::TEXT),
                    (&(self.spec.holdoff.as_millis() as i64), Type::INT8),
                    (&(self.spec.sticky.as_millis() as i64), Type::INT8),
                ],
            )
            .await
            .map_err(|e| self.shared.params.error(e, "acquiring the lease"))?;
        // No row at all: the election's first row was inserted by a concurrent statement our
        // snapshot does not show (the upsert waited for it and lost). Look again at once.
        let Some(row) = rows.first() else {
            return Ok(Attempt::Lost {
                left: Duration::ZERO,
            });
        };
        let (won, term, ms): (bool, i64, f64) = (row.get(0), row.get(1), row.get(2));
        let d = Duration::from_secs_f64(ms.max(0.0) / 1000.0);
        Ok(if won {
            Attempt::Won {
                term: term as u64,
                ttl: d,
            }
        } else {
            Attempt::Lost { left: d }
        })
    }
}

#[async_trait]
impl Candidacy for PgCandidacy {
    async fn acquire(&mut self) -> Result<Grant> {
        if self.held.is_some() {
            return Err(Error::internal("acquire while already leading"));
        }
        // Listen before the first attempt: a release between a lost attempt and the wait
        // below then still wakes us. The rounds read the leader meanwhile (one statement per
        // period for all waiters of the connection) so that we need not poll.
        let mut sub = self.shared.listener.subscribe(&self.channel).await?;
        let _watching = self.shared.rounds.watch(&self.spec.election);
        let mut rounds = self.shared.rounds.subscribe_done();
        loop {
            sub.mark_seen();
            let sent_at = Instant::now();
            let left = match self.attempt().await? {
                Attempt::Won { term, ttl } => {
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
                        renewal: Renewal { sent_at, ttl },
                    });
                }
                Attempt::Lost { left } => left,
            };
            // A crashed holder sends no NOTIFY: try again when its lease runs out (by the
            // server's clock, as a duration), unless a round sees it renewed meanwhile.
            let mut expiry = Instant::now() + left;
            loop {
                tokio::select! {
                    _ = sub.notified() => {
                        NOTIFICATIONS.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
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
        let client = self.shared.lease.client().await?;
        let rows = client
            .query_typed(
                &self.shared.sql.proclaim,
                &[
                    (&self.spec.election, Type::TEXT),
                    (&self.spec.id, Type::TEXT),
                    (&term, Type::INT8),
                    (&self.owner, Type::TEXT),
                    (&value, Type::TEXT),
                    (&self.channel, Type::TEXT),
                ],
            )
            .await
            .map_err(|e| self.shared.params.error(e, "proclaiming a value"))?;
        if rows.is_empty() {
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
        self.give_up(Some(held.term as i64)).await
    }

    async fn hand_over(&mut self, successor: &str) -> Result<()> {
        let Some(held) = &self.held else {
            return Err(Error::new(ErrorCode::NotLeader, "not holding the lease"));
        };
        let (term, key) = (held.term as i64, held.key);
        let client = self.shared.lease.client().await?;
        let row = client
            .query_typed_one(
                &self.shared.sql.hand_over,
                &[
                    (&self.spec.election, Type::TEXT),
                    (&self.spec.id, Type::TEXT),
                    (&term, Type::INT8),
                    (&self.owner, Type::TEXT),
                    (&successor, Type::TEXT),
                    (&self.shared.ttl_ms(), Type::INT8),
                    (&self.channel, Type::TEXT),
                ],
            )
            .await
            .map_err(|e| self.shared.params.error(e, "handing the lease over"))?;
        let (member, handed): (bool, bool) = (row.get(0), row.get(1));
        if !member {
            return Err(Error::invalid(format!(
                "hand-over: `{successor}` is not a live member of election `{}`",
                self.spec.election
            )));
        }
        if !handed {
            return Err(Error::new(
                ErrorCode::NotLeader,
                format!(
                    "election `{}`: our lease expired or another candidate holds it",
                    self.spec.election
                ),
            ));
        }
        self.held = None;
        self.shared.rounds.remove_lease(key);
        Ok(())
    }

    /// The membership goes first, then the lease: a successor that looks at the members once
    /// it leads no longer finds this candidate (see `succession`).
    async fn leave(mut self: Box<Self>) -> Result<()> {
        let mut left = Ok(());
        if let Some(key) = self.member_key.take() {
            self.shared.rounds.remove_member(key);
            left = async {
                let client = self.shared.lease.client().await?;
                client
                    .execute_typed(
                        &self.shared.sql.leave,
                        &[
                            (&self.spec.election, Type::TEXT),
                            (&self.spec.id, Type::TEXT),
                            (&self.channel, Type::TEXT),
                        ],
                    )
                    .await
                    .map_err(|e| self.shared.params.error(e, "leaving the election"))
            }
            .await
            .map(drop);
        }
        let released = if self.held.is_some() {
            self.release().await
        } else {
            // An acquire cancelled with its statement in flight may have won a lease we never
            // heard of: give up whatever we hold, so the line moves now rather than in a ttl.
            self.give_up(None).await
        };
        left.and(released)
    }
}

impl PgCandidacy {
    /// Ends our lease of `term` (any term of ours if `None`) and wakes the line.
    async fn give_up(&self, term: Option<i64>) -> Result<()> {
        let client = self.shared.lease.client().await?;
        client
            .query_typed(
                &self.shared.sql.release,
                &[
                    (&self.spec.election, Type::TEXT),
                    (&self.spec.id, Type::TEXT),
                    (&term, Type::INT8),
                    (&self.channel, Type::TEXT),
                    (&self.owner, Type::TEXT),
                ],
            )
            .await
            .map_err(|e| self.shared.params.error(e, "releasing the lease"))?;
        Ok(())
    }
}

impl Drop for PgCandidacy {
    /// A candidacy dropped without `leave` (the engine gave up on the store) stops being kept
    /// alive; its rows expire on the server after a ttl.
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            self.shared.rounds.remove_lease(held.key);
        }
        if let Some(key) = self.member_key.take() {
            self.shared.rounds.remove_member(key);
        }
    }
}
