//! Following the leader of an election: a watch on the election's key range.

use std::sync::Arc;

use etcd_client::WatchOptions;
use tokio::sync::mpsc;

use super::connect::{bounded, map_err};
use super::{decode, Inner};
use crate::backend::LeaderStream;
use crate::error::{Error, Result};
use crate::event::LeaderInfo;

type Sender = mpsc::Sender<Result<Option<LeaderInfo>>>;

/// Starts following `election`; the task ends when the receiver is dropped.
pub fn spawn(inner: Arc<Inner>, election: String) -> LeaderStream {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let closed = tx.clone();
        tokio::select! {
            _ = closed.closed() => {}
            _ = follow(&inner, &election, &tx) => {}
        }
    });
    rx
}

/// Reads the head of the line, then re-reads it on every change under the election's range.
/// A broken watch is reported and re-opened after `retry`, with a fresh read so that nothing
/// that happened meanwhile is missed.
async fn follow(inner: &Inner, election: &str, tx: &Sender) {
    let mut last: Option<Option<LeaderInfo>> = None;
    loop {
        if let Err(e) = watch_once(inner, election, tx, &mut last).await {
            if tx.send(Err(e)).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(inner.retry).await;
    }
}

async fn watch_once(
    inner: &Inner,
    election: &str,
    tx: &Sender,
    last: &mut Option<Option<LeaderInfo>>,
) -> Result<()> {
    let at = publish(inner, election, tx, last).await?;
    let mut wc = inner.client.watch_client();
    // From the current revision, not `at + 1`: etcd serves watches that start in the past
    // from a 100 ms loop. A change between the read and the watch is caught by reading
    // again once the watch exists (see below).
    let opts = WatchOptions::new().with_prefix();
    let mut stream = bounded(
        inner.op_timeout,
        "watch",
        wc.watch(inner.dir(election), Some(opts)),
    )
    .await?;
    loop {
        match stream.message().await {
            Ok(Some(resp)) if resp.canceled() => {
                return Err(Error::store(format!(
                    "etcd watch cancelled: {}",
                    resp.cancel_reason()
                )))
            }
            Ok(Some(resp)) if !resp.events().is_empty() => {
                publish(inner, election, tx, last).await?;
            }
            Ok(Some(resp))
                if resp.created() && resp.header().is_some_and(|h| h.revision() > at) =>
            {
                publish(inner, election, tx, last).await?;
            }
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(Error::unreachable(
                    "etcd watch: the server closed the stream",
                ))
            }
            Err(e) => return Err(map_err(e, "watch")),
        }
    }
}

/// Sends the current leader if it changed; returns the revision it was read at.
async fn publish(
    inner: &Inner,
    election: &str,
    tx: &Sender,
    last: &mut Option<Option<LeaderInfo>>,
) -> Result<i64> {
    let (kvs, at) = inner.line(election, 1).await?;
    let leader = kvs.first().map(decode);
    if last.as_ref() != Some(&leader) {
        *last = Some(leader.clone());
        // A closed receiver ends the task through `spawn`'s select.
        let _ = tx.send(Ok(leader)).await;
    }
    Ok(at)
}
