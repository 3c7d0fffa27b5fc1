//! Observers: the leader of an election, from the lease row. A NOTIFY (elected, released) makes
//! the watcher read the row at once; the batched rounds read it every renewal period as well,
//! which is how the expiry of a crashed leader's lease (which nobody announces) is noticed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_postgres::types::Type;

use super::notify::Subscription;
use super::Shared;
use crate::error::Result;
use crate::event::LeaderInfo;

type Sender = mpsc::Sender<Result<Option<LeaderInfo>>>;

/// Reads the leader of `election` directly.
pub(super) async fn read_leader(shared: &Shared, election: &str) -> Result<Option<LeaderInfo>> {
    let client = shared.lease.client().await?;
    let row = client
        .query_typed_opt(&shared.sql.leader, &[(&election, Type::TEXT)])
        .await
        .map_err(|e| shared.params.error(e, "reading the leader"))?;
    row.map(|r| {
        let leader = LeaderInfo {
            id: r.get(0),
            value: r.get(1),
            term: r.get::<_, i64>(2) as u64,
        };
        crate::backend::limits::leader("postgres", election, leader)
    })
    .transpose()
}

/// Listens on `channel`, reporting failures to `tx` and trying again after `retry`; `None` once
/// the receiver is gone.
pub(super) async fn subscribe<T>(
    shared: &Arc<Shared>,
    channel: &str,
    tx: &mpsc::Sender<Result<T>>,
) -> Option<Subscription> {
    loop {
        match shared.listener.subscribe(channel).await {
            Ok(s) => return Some(s),
            Err(e) => {
                if tx.send(Err(e)).await.is_err() {
                    return None;
                }
                tokio::select! {
                    _ = tx.closed() => return None,
                    _ = tokio::time::sleep(shared.retry) => {}
                }
            }
        }
    }
}

/// Sends the leader of `election` each time it may have changed, until the receiver is dropped.
pub(super) async fn watch(shared: Arc<Shared>, election: String, tx: Sender) {
    let _watching = shared.rounds.watch(&election);
    let channel = shared.names.channel(&election);
    let mut rounds = shared.rounds.subscribe_done();
    // Time of the freshest reading sent, so that a round that started before a direct read
    // cannot send an older leader after it.
    let mut fresh: Option<Instant> = None;
    let mut direct = true;
    loop {
        let Some(mut sub) = subscribe(&shared, &channel, &tx).await else {
            return;
        };
        loop {
            if direct {
                sub.mark_seen();
                let at = Instant::now();
                match read_leader(&shared, &election).await {
                    Ok(leader) => {
                        fresh = Some(at);
                        if tx.send(Ok(leader)).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        if tx.send(Err(e)).await.is_err() {
                            return;
                        }
                    }
                }
            } else if let Some(seen) = shared.rounds.seen_after(&election, fresh) {
                fresh = Some(seen.sent_at);
                if tx.send(Ok(seen.leader.map(|(l, _)| l))).await.is_err() {
                    return;
                }
            }
            tokio::select! {
                _ = tx.closed() => return,
                _ = sub.notified() => direct = true,
                r = rounds.changed() => {
                    if r.is_err() { return; }
                    direct = false;
                }
                // A round is due every renewal period; if none came for a long while (store
                // down), read directly, which also reports the error.
                _ = tokio::time::sleep(shared.ttl.max(Duration::from_secs(1))) => direct = true,
            }
            if direct && shared.listener.is_down() {
                break; // subscribe again: that reconnects the listener
            }
        }
    }
}
