//! Observers: the leader of an election, from the lease row, read directly when the watch
//! starts (and after a silence) and by the batched rounds every renewal period. MySQL has no
//! notifications for observers: a change is seen within a renewal period.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use tokio::sync::mpsc;

use super::Shared;
use crate::backend::send_if_changed;
use crate::error::Result;
use crate::event::{LeaderInfo, Member};

type Sender = mpsc::Sender<Result<Option<LeaderInfo>>>;

/// Reads the leader of `election` directly.
pub(super) async fn read_leader(shared: &Shared, election: &str) -> Result<Option<LeaderInfo>> {
    let (sql, name) = (shared.names.leader(), election.to_string());
    let row: Option<(Vec<u8>, Vec<u8>, i64)> = shared
        .lease
        .run("reading the leader", move |c| {
            Box::pin(c.exec_first(sql, (name,)))
        })
        .await?;
    row.map(|(id, value, term)| {
        let leader = LeaderInfo {
            id: String::from_utf8_lossy(&id).into_owned(),
            value: String::from_utf8_lossy(&value).into_owned(),
            term: term as u64,
        };
        crate::backend::limits::leader("mysql", election, leader)
    })
    .transpose()
}

/// Sends the leader of `election` each time it may have changed, until the receiver is dropped.
pub(super) async fn watch(shared: Arc<Shared>, election: String, tx: Sender) {
    let _watching = shared.rounds.watch(&election);
    let mut rounds = shared.rounds.subscribe_done();
    // Time of the freshest reading sent, so that a round that started before a direct read
    // cannot send an older leader after it.
    let mut fresh: Option<Instant> = None;
    let mut direct = true;
    loop {
        if direct {
            let at = Instant::now();
            let read = read_leader(&shared, &election).await;
            if read.is_ok() {
                fresh = Some(at);
            }
            if tx.send(read).await.is_err() {
                return;
            }
        } else if let Some(seen) = shared.rounds.seen_after(&election, fresh) {
            fresh = Some(seen.sent_at);
            if tx.send(Ok(seen.leader.map(|(l, _)| l))).await.is_err() {
                return;
            }
        }
        tokio::select! {
            _ = tx.closed() => return,
            r = rounds.changed() => {
                if r.is_err() { return; }
                direct = false;
            }
            // A round is due every renewal period; if none came for a long while (store
            // down), read directly, which also reports the error.
            _ = tokio::time::sleep(shared.ttl.max(Duration::from_secs(1))) => direct = true,
        }
    }
}

/// Sends the members of `election` when the watch starts and whenever a round counts a number
/// of live members that differs from the list last read (a join, a leave, an expired
/// heartbeat), until the receiver is dropped. Like the leader, a change is seen within a
/// renewal period.
pub(super) async fn watch_members(
    shared: Arc<Shared>,
    election: String,
    tx: mpsc::Sender<Result<Vec<Member>>>,
) {
    let _watching = shared.rounds.watch(&election);
    let mut rounds = shared.rounds.subscribe_done();
    let mut last: Option<Vec<Member>> = None;
    let mut failed = true;
    loop {
        let counted = shared.rounds.seen_after(&election, None).map(|s| s.members);
        if failed || counted != last.as_ref().map(|l| l.len() as u64) {
            let item = super::read_members(&shared, &election).await;
            failed = item.is_err();
            if !send_if_changed(&tx, &mut last, item).await {
                return;
            }
        }
        tokio::select! {
            _ = tx.closed() => return,
            r = rounds.changed() => if r.is_err() { return },
        }
    }
}
