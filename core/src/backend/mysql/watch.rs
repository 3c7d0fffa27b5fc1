//! Observers' reads: the leader (the lease row) and the members. MySQL announces nothing, so
//! watchers learn of a change from the rounds, within a renewal period; the watch loops are the
//! SQL stores' one ([`crate::backend::sql`]).

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use tokio::sync::mpsc;

use super::Shared;
use crate::backend::sql::{Silent, WatchStore};
use crate::error::Result;
use crate::event::{LeaderInfo, Member};

#[async_trait]
impl WatchStore for Shared {
    type Changes = Silent;

    async fn read_leader(&self, election: &str) -> Result<Option<LeaderInfo>> {
        let (sql, election) = (self.names.leader(), election.to_string());
        let row: Option<(Vec<u8>, Vec<u8>, i64)> = self
            .lease
            .run("reading the leader", move |c| {
                Box::pin(c.exec_first(sql, (election,)))
            })
            .await?;
        Ok(row.map(|(id, value, term)| LeaderInfo {
            id: String::from_utf8_lossy(&id).into_owned(),
            value: String::from_utf8_lossy(&value).into_owned(),
            term: term as u64,
        }))
    }

    async fn read_members(&self, election: &str) -> Result<Vec<Member>> {
        let (sql, election) = (self.names.members(), election.to_string());
        let rows: Vec<(Vec<u8>, Vec<u8>)> = self
            .lease
            .run("reading the members", move |c| {
                Box::pin(c.exec(sql, (election,)))
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, value)| Member {
                id: String::from_utf8_lossy(&id).into_owned(),
                value: String::from_utf8_lossy(&value).into_owned(),
            })
            .collect())
    }

    async fn changes<T: Send + 'static>(
        &self,
        _election: &str,
        _tx: &mpsc::Sender<Result<T>>,
    ) -> Option<Silent> {
        Some(Silent)
    }
}
