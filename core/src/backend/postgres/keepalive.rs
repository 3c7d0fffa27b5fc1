//! The postgres side of the batched keep-alive ([`crate::backend::rounds`]): one statement
//! (`sql.round`) renews every lease and membership of the connection and reads the watched
//! leaders and the server's clock.

use std::time::Duration;

use async_trait::async_trait;
use tokio_postgres::types::Type;

use super::Shared;
use crate::backend::rounds::{Answer, Batch, RoundConfig, RoundStore};
use crate::error::Result;
use crate::event::LeaderInfo;

#[async_trait]
impl RoundStore for Shared {
    fn config(&self) -> &RoundConfig {
        &self.round
    }

    async fn send(&self, batch: &Batch) -> Result<Answer> {
        let client = self.lease.client().await?;
        let ttl_ms = self.ttl_ms();
        let rows = client
            .query_typed(
                &self.sql.round,
                &[
                    (&ttl_ms, Type::INT8),
                    (&batch.elections, Type::TEXT_ARRAY),
                    (&batch.holders, Type::TEXT_ARRAY),
                    (&batch.terms, Type::INT8_ARRAY),
                    (&batch.m_elections, Type::TEXT_ARRAY),
                    (&batch.m_ids, Type::TEXT_ARRAY),
                    (&batch.m_values, Type::TEXT_ARRAY),
                    (&batch.watched, Type::TEXT_ARRAY),
                    (&batch.owners, Type::TEXT_ARRAY),
                ],
            )
            .await
            .map_err(|e| self.params.error(e, "renewal round"))?;
        let mut answer = Answer::default();
        for row in rows {
            let kind: &str = row.get(0);
            let election: String = row.get(1);
            let term: i64 = row.get(4);
            let ms: f64 = row.get(5);
            let left = Duration::from_secs_f64(ms.max(0.0) / 1000.0);
            if kind == "now" {
                answer.server_ms = Some(ms);
            } else if kind == "renewed" {
                answer.renewed.insert((election, term), left);
            } else if kind == "members" {
                answer.counts.insert(election, term.max(0) as u64);
            } else {
                let leader = LeaderInfo {
                    id: row.get(2),
                    value: row.get(3),
                    term: term as u64,
                };
                answer.leaders.insert(election, (leader, left));
            }
        }
        Ok(answer)
    }
}
