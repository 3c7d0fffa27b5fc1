//! A candidate's statements (join, one conditional upsert per attempt, proclaim, release with
//! NOTIFY in the same statement, leave) and its line: a LISTEN on the election's channel for
//! as long as it campaigns. The control flow around them is the SQL stores' one
//! ([`crate::backend::sql`]).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio_postgres::types::Type;

use super::notify::{Subscription, NOTIFICATIONS};
use super::Shared;
use crate::backend::sql::{Attempt, CandidacyStore, HandOver, Hold, Line};
use crate::backend::CandidateSpec;
use crate::error::Result;

#[async_trait]
impl CandidacyStore for Shared {
    type Line = PgLine;

    async fn join(&self, spec: &CandidateSpec) -> Result<()> {
        let client = self.lease.client().await?;
        client
            .execute_typed(
                &self.sql.join,
                &[
                    (&self.ttl_ms(), Type::INT8),
                    (&spec.election, Type::TEXT),
                    (&spec.id, Type::TEXT),
                    (&spec.value, Type::TEXT),
                    (&self.names.channel(&spec.election), Type::TEXT),
                ],
            )
            .await
            .map_err(|e| self.params.error(e, "joining the election"))?;
        Ok(())
    }

    async fn attempt(&self, spec: &CandidateSpec, owner: &str) -> Result<Attempt> {
        let client = self.lease.client().await?;
        let rows = client
            .query_typed(
                &self.sql.acquire,
                &[
                    (&self.ttl_ms(), Type::INT8),
                    (&spec.election, Type::TEXT),
                    (&spec.id, Type::TEXT),
                    (&spec.value, Type::TEXT),
                    (&self.names.channel(&spec.election), Type::TEXT),
                    (&owner, Type::TEXT),
                    (&(spec.holdoff.as_millis() as i64), Type::INT8),
                    (&(spec.sticky.as_millis() as i64), Type::INT8),
                ],
            )
            .await
            .map_err(|e| self.params.error(e, "acquiring the lease"))?;
        // No row at all: the election's first row was inserted by a concurrent statement our
        // snapshot does not show (the upsert waited for it and lost). Look again at once.
        let Some(row) = rows.first() else {
            return Ok(Attempt::Lost {
                left: Duration::ZERO,
                others_first: false,
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
            Attempt::Lost {
                left: d,
                others_first: false,
            }
        })
    }

    async fn proclaim(&self, hold: Hold<'_>, value: &str) -> Result<bool> {
        let Hold { spec, term, owner } = hold;
        let client = self.lease.client().await?;
        let rows = client
            .query_typed(
                &self.sql.proclaim,
                &[
                    (&spec.election, Type::TEXT),
                    (&spec.id, Type::TEXT),
                    (&term, Type::INT8),
                    (&owner, Type::TEXT),
                    (&value, Type::TEXT),
                    (&self.names.channel(&spec.election), Type::TEXT),
                ],
            )
            .await
            .map_err(|e| self.params.error(e, "proclaiming a value"))?;
        Ok(!rows.is_empty())
    }

    /// Ends our lease of `term` (any term of ours if `None`) and wakes the line.
    async fn release(&self, spec: &CandidateSpec, term: Option<i64>, owner: &str) -> Result<()> {
        let client = self.lease.client().await?;
        client
            .query_typed(
                &self.sql.release,
                &[
                    (&spec.election, Type::TEXT),
                    (&spec.id, Type::TEXT),
                    (&term, Type::INT8),
                    (&self.names.channel(&spec.election), Type::TEXT),
                    (&owner, Type::TEXT),
                ],
            )
            .await
            .map_err(|e| self.params.error(e, "releasing the lease"))?;
        Ok(())
    }

    async fn hand_over(&self, hold: Hold<'_>, successor: &str) -> Result<HandOver> {
        let Hold { spec, term, owner } = hold;
        let client = self.lease.client().await?;
        let row = client
            .query_typed_one(
                &self.sql.hand_over,
                &[
                    (&spec.election, Type::TEXT),
                    (&spec.id, Type::TEXT),
                    (&term, Type::INT8),
                    (&owner, Type::TEXT),
                    (&successor, Type::TEXT),
                    (&self.ttl_ms(), Type::INT8),
                    (&self.names.channel(&spec.election), Type::TEXT),
                ],
            )
            .await
            .map_err(|e| self.params.error(e, "handing the lease over"))?;
        let (member, handed): (bool, bool) = (row.get(0), row.get(1));
        Ok(match (member, handed) {
            (false, _) => HandOver::NotMember,
            (true, false) => HandOver::NotLeader,
            (true, true) => HandOver::Handed,
        })
    }

    async fn leave(&self, spec: &CandidateSpec) -> Result<()> {
        let client = self.lease.client().await?;
        client
            .execute_typed(
                &self.sql.leave,
                &[
                    (&spec.election, Type::TEXT),
                    (&spec.id, Type::TEXT),
                    (&self.names.channel(&spec.election), Type::TEXT),
                ],
            )
            .await
            .map_err(|e| self.params.error(e, "leaving the election"))?;
        Ok(())
    }

    async fn line(self: &Arc<Self>, election: &str) -> PgLine {
        PgLine {
            channel: self.names.channel(election),
            shared: self.clone(),
            sub: None,
        }
    }
}

/// The line: a LISTEN on the election's channel, which release and leave NOTIFY. Taken before
/// the first attempt of a campaign, so that a release between a lost attempt and the wait
/// still wakes the candidate, and dropped when the campaign ends.
pub(crate) struct PgLine {
    shared: Arc<Shared>,
    channel: String,
    sub: Option<Subscription>,
}

#[async_trait]
impl Line for PgLine {
    async fn turn(&mut self, _limit: Duration) -> Result<bool> {
        let sub = match &mut self.sub {
            Some(sub) => sub,
            None => self
                .sub
                .insert(self.shared.listener.subscribe(&self.channel).await?),
        };
        sub.mark_seen();
        Ok(true)
    }

    async fn woken(&mut self) {
        match &mut self.sub {
            Some(sub) => {
                sub.notified().await;
                NOTIFICATIONS.fetch_add(1, Ordering::Relaxed);
            }
            None => std::future::pending().await,
        }
    }

    fn rest(&mut self) {
        self.sub = None;
    }

    async fn close(&mut self) {
        self.sub = None;
    }
}
