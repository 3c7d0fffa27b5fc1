//! Observers of a SQL store: the leader of an election and its members, read directly when a
//! watch starts, after an announcement ([`Changes`]) and after a silence, and otherwise taken
//! from what the batched rounds see every renewal period (which is how the expiry of a crashed
//! leader's lease or member row, which nobody announces, is noticed).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{Changes, SqlStore};
use crate::backend::{limits, send_if_changed};
use crate::error::Result;
use crate::event::{LeaderInfo, Member};

/// The leader of `election`, read directly, within the caps of [`limits`].
pub(super) async fn read_leader<S: SqlStore>(
    shared: &S,
    election: &str,
) -> Result<Option<LeaderInfo>> {
    shared
        .read_leader(election)
        .await?
        .map(|leader| limits::leader(S::NAME, election, leader))
        .transpose()
}

/// The members of `election`, read directly, within the caps of [`limits`].
pub(super) async fn read_members<S: SqlStore>(shared: &S, election: &str) -> Result<Vec<Member>> {
    let members = shared.read_members(election).await?;
    limits::members(S::NAME, election, members)
}

/// Sends the leader of `election` each time it may have changed, until the receiver is dropped.
pub(super) async fn leader<S: SqlStore>(
    shared: Arc<S>,
    election: String,
    tx: mpsc::Sender<Result<Option<LeaderInfo>>>,
) {
    let config = shared.config();
    let _watching = config.rounds.watch(&election);
    let mut rounds = config.rounds.subscribe_done();
    // Time of the freshest reading sent, so that a round that started before a direct read
    // cannot send an older leader after it.
    let mut fresh: Option<Instant> = None;
    let mut direct = true;
    loop {
        let Some(mut changes) = shared.changes(&election, &tx).await else {
            return;
        };
        loop {
            if direct {
                changes.mark_seen();
                let at = Instant::now();
                let read = read_leader(&*shared, &election).await;
                if read.is_ok() {
                    fresh = Some(at);
                }
                if tx.send(read).await.is_err() {
                    return;
                }
            } else if let Some(seen) = config.rounds.seen_after(&election, fresh) {
                fresh = Some(seen.sent_at);
                if tx.send(Ok(seen.leader.map(|(l, _)| l))).await.is_err() {
                    return;
                }
            }
            tokio::select! {
                _ = tx.closed() => return,
                _ = changes.notified() => direct = true,
                r = rounds.changed() => {
                    if r.is_err() { return; }
                    direct = false;
                }
                // A round is due every renewal period; if none came for a long while (store
                // down), read directly, which also reports the error.
                _ = tokio::time::sleep(config.ttl.max(Duration::from_secs(1))) => direct = true,
            }
            if direct && changes.is_down() {
                break; // subscribe again: that reconnects the announcements
            }
        }
    }
}

/// Sends the members of `election` when the watch starts, after each announcement, and
/// whenever a round counts a number of live members that differs from the list last read (a
/// join, a leave, an expired heartbeat) or, where the store computes one (MySQL, which has no
/// announcements), a digest of their ids that differs from the round's before that read (a
/// leave and a join between two rounds keep the number), until the receiver is dropped.
pub(super) async fn members<S: SqlStore>(
    shared: Arc<S>,
    election: String,
    tx: mpsc::Sender<Result<Vec<Member>>>,
) {
    let config = shared.config();
    // Keeps the rounds running (an observer-only connection has nothing else for them to do).
    let _watching = config.rounds.watch(&election);
    let mut rounds = config.rounds.subscribe_done();
    let mut last: Option<Vec<Member>> = None;
    let digest = || config.rounds.seen_after(&election, None).map(|s| s.digest);
    loop {
        let Some(mut changes) = shared.changes(&election, &tx).await else {
            return;
        };
        loop {
            changes.mark_seen();
            // The members' digest as of the last round before this read: a later round with
            // another digest saw a change (perhaps one this read already has: one read more).
            let read_at = digest();
            let item = read_members(&*shared, &election).await;
            let failed = item.is_err();
            if !send_if_changed(&tx, &mut last, item).await {
                return;
            }
            loop {
                tokio::select! {
                    _ = tx.closed() => return,
                    _ = changes.notified() => break,
                    r = rounds.changed() => {
                        if r.is_err() {
                            return;
                        }
                        let counted = config.rounds.seen_after(&election, None).map(|s| s.members);
                        let known = last.as_ref().map(|l| l.len() as u64);
                        if failed || counted != known || digest() != read_at {
                            break;
                        }
                    }
                }
            }
            if failed || changes.is_down() {
                break; // subscribe again: that reconnects the announcements
            }
        }
    }
}
