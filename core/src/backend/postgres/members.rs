//! Following the candidates of an election on PostgreSQL: the members table, whose rows carry
//! an expiry on the server's clock. A join and a leave NOTIFY the election's channel, so they
//! are seen at once; a crashed candidate sends nothing: the connection's keep-alive round
//! counts the live members of every watched election, and a count that differs from the list
//! last read calls for a new read, so the row's expiry is seen within a round.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_postgres::types::Type;

use super::Shared;
use crate::backend::send_if_changed;
use crate::error::Result;
use crate::event::Member;

/// The live members of `election`, by id.
pub(super) async fn read(shared: &Shared, election: &str) -> Result<Vec<Member>> {
    let client = shared.lease.client().await?;
    let rows = client
        .query_typed(&shared.sql.members, &[(&election, Type::TEXT)])
        .await
        .map_err(|e| shared.params.error(e, "reading the members"))?;
    Ok(rows
        .iter()
        .map(|r| Member {
            id: r.get(0),
            value: r.get(1),
        })
        .collect())
}

/// Sends the members whenever they may have changed, until the receiver is dropped.
pub(super) async fn watch(
    shared: Arc<Shared>,
    election: String,
    tx: mpsc::Sender<Result<Vec<Member>>>,
) {
    // Keeps the rounds running (an observer-only connection has nothing else for them to do).
    let _watching = shared.rounds.watch(&election);
    let channel = shared.names.channel(&election);
    let mut rounds = shared.rounds.subscribe_done();
    let mut last: Option<Vec<Member>> = None;
    loop {
        let Some(mut sub) = super::watch::subscribe(&shared, &channel, &tx).await else {
            return;
        };
        loop {
            sub.mark_seen();
            let item = read(&shared, &election).await;
            let failed = item.is_err();
            if !send_if_changed(&tx, &mut last, item).await {
                return;
            }
            loop {
                tokio::select! {
                    _ = tx.closed() => return,
                    _ = sub.notified() => break,
                    r = rounds.changed() => {
                        if r.is_err() {
                            return;
                        }
                        let counted = shared.rounds.seen_after(&election, None).map(|s| s.members);
                        let known = last.as_ref().map(|l| l.len() as u64);
                        if failed || counted != known {
                            break;
                        }
                    }
                }
            }
            if failed || shared.listener.is_down() {
                break; // subscribe again: that reconnects the listener
            }
        }
    }
}
