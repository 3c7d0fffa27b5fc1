//! Observers: reads of the leader (the lease row) and of the members, and the announcements
//! that make watchers read at once: a NOTIFY on the election's channel when a lease is taken or
//! released and when a candidate joins or leaves. Nobody announces a crashed leader's expiry or
//! a crashed member: the rounds see those within a renewal period. The watch loops are the SQL
//! stores' one ([`crate::backend::sql`]).

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio_postgres::types::Type;

use super::notify::{Listener, Subscription};
use super::Shared;
use crate::backend::sql::{Changes, WatchStore};
use crate::error::Result;
use crate::event::{LeaderInfo, Member};

/// A watcher's LISTEN on an election's channel.
pub(crate) struct PgChanges {
    sub: Subscription,
    listener: Arc<Listener>,
}

#[async_trait]
impl Changes for PgChanges {
    fn mark_seen(&mut self) {
        self.sub.mark_seen();
    }

    async fn notified(&mut self) {
        self.sub.notified().await;
    }

    fn is_down(&self) -> bool {
        self.listener.is_down()
    }
}

#[async_trait]
impl WatchStore for Shared {
    type Changes = PgChanges;

    /// Reads the leader of `election` directly.
    async fn read_leader(&self, election: &str) -> Result<Option<LeaderInfo>> {
        let client = self.lease.client().await?;
        let row = client
            .query_typed_opt(&self.sql.leader, &[(&election, Type::TEXT)])
            .await
            .map_err(|e| self.params.error(e, "reading the leader"))?;
        Ok(row.map(|r| LeaderInfo {
            id: r.get(0),
            value: r.get(1),
            term: r.get::<_, i64>(2) as u64,
        }))
    }

    /// The live members of `election`, by id.
    async fn read_members(&self, election: &str) -> Result<Vec<Member>> {
        let client = self.lease.client().await?;
        let rows = client
            .query_typed(&self.sql.members, &[(&election, Type::TEXT)])
            .await
            .map_err(|e| self.params.error(e, "reading the members"))?;
        Ok(rows
            .iter()
            .map(|r| Member {
                id: r.get(0),
                value: r.get(1),
            })
            .collect())
    }

    /// Listens on `election`'s channel, reporting failures to `tx` and trying again after `retry`;
    /// `None` once the receiver is gone.
    async fn changes<T: Send + 'static>(
        &self,
        election: &str,
        tx: &mpsc::Sender<Result<T>>,
    ) -> Option<PgChanges> {
        let channel = self.names.channel(election);
        loop {
            match self.listener.subscribe(&channel).await {
                Ok(sub) => {
                    return Some(PgChanges {
                        sub,
                        listener: self.listener.clone(),
                    })
                }
                Err(e) => {
                    if tx.send(Err(e)).await.is_err() {
                        return None;
                    }
                    tokio::select! {
                        _ = tx.closed() => return None,
                        _ = tokio::time::sleep(self.retry) => {}
                    }
                }
            }
        }
    }
}
