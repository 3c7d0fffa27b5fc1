//! Observing an election on Redis: followers of its leader and of its members, woken by the election's messages
//! (grants, releases, joins, leaves) and by the keep-alive when a watched election's term or
//! number of live members changed without a message (an expired lock or heartbeat). No timer per
//! election: the keep-alive's one command covers every watched election, and a resubscription
//! wakes everyone. Only a failed read is retried after `retry`.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::Shared;
use crate::backend::send_if_changed;
use crate::error::Result;

/// Sends `read(shared, election)` whenever it may have changed, until the receiver is dropped.
pub(super) async fn follow<T, F, Fut>(
    shared: Arc<Shared>,
    election: String,
    tx: mpsc::Sender<Result<T>>,
    read: F,
) where
    T: PartialEq + Clone,
    F: Fn(Arc<Shared>, String) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut messages = shared.wakers.subscribe(&election);
    let mut ticks = shared.tick_wakers.subscribe(&election);
    let mut last = None;
    loop {
        messages.borrow_and_update();
        ticks.borrow_and_update();
        let item = read(shared.clone(), election.clone()).await;
        let failed = item.is_err();
        if !send_if_changed(&tx, &mut last, item).await {
            return;
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
