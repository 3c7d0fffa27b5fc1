//! Observing the leader of an election on Redis.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::Shared;
use crate::error::Result;
use crate::event::LeaderInfo;

/// Sends the leader whenever it changes: woken by the election's messages (grants and
/// releases), and by the keep-alive when the term changed without a message (an expired lock).
/// No timer per election: the keep-alive's one command covers every watched election, and a
/// resubscription wakes everyone. Only a failed read is retried after `retry`.
pub(super) async fn follow(
    shared: Arc<Shared>,
    election: String,
    tx: mpsc::Sender<Result<Option<LeaderInfo>>>,
) {
    let mut messages = shared.wakers.subscribe(&election);
    let mut ticks = shared.tick_wakers.subscribe(&election);
    let mut last: Option<Option<LeaderInfo>> = None;
    loop {
        messages.borrow_and_update();
        ticks.borrow_and_update();
        let item = shared.leader(&election).await;
        let failed = item.is_err();
        let changed = match &item {
            Ok(l) => last.as_ref() != Some(l),
            Err(_) => true,
        };
        if changed {
            if let Ok(l) = &item {
                last = Some(l.clone());
            }
            if tx.send(item).await.is_err() {
                return;
            }
        }
        let retry = async {
            if failed {
                tokio::time::sleep(shared.retry).await
            } else {
                std::future::pending().await
            }
        };
        tokio::select! {
            _ = tx.closed() => return,
            _ = messages.changed() => {}
            _ = ticks.changed() => {}
            _ = retry => {}
        }
    }
}
