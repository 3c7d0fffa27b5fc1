//! Following the leader of an election on the file store without taking its lock.
//!
//! Observers are woken through the process's one inotify instance (`notify`): a new leader
//! writes the record (`IN_MODIFY`), a leader that releases or dies closes its record file
//! (`IN_CLOSE_WRITE`, which the kernel produces at process exit too) and the lock file. Each
//! wake-up is answered with a [`probe`]: a non-blocking shared `flock` on the lock file tells
//! whether anyone holds it, the record says who. When the kernel's event queue overflows
//! (`IN_Q_OVERFLOW`), events were lost, one of ours perhaps among them: every follower is woken.

use std::io;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::notify::{self, Interest, Subscription};
use super::record::{self, Read};
use super::{live_members, lock_is_held, Paths};
use crate::backend::{send_if_changed, LeaderStream, MemberStream};
use crate::error::Result;
use crate::event::{LeaderInfo, Member};

/// What one look at the files says.
#[derive(Debug, PartialEq)]
pub(super) enum Probe {
    Nobody,
    Leader(LeaderInfo),
    /// The lock is held but the record is released, torn or missing: a new leader is between
    /// taking the lock and writing its record. Its write will wake us again.
    Unsettled,
}

pub(super) fn probe(paths: &Paths) -> io::Result<Probe> {
    if !lock_is_held(&paths.lock())? {
        return Ok(Probe::Nobody);
    }
    Ok(match record::read(&paths.leader())? {
        Read::Ok(r) if !r.released => Probe::Leader(r.leader),
        _ => Probe::Unsettled,
    })
}

pub(super) fn spawn(paths: Paths) -> io::Result<LeaderStream> {
    let sub = notify::subscribe(
        &paths.dir,
        Interest::Files(paths.base.clone()),
        notify::LEADER_EVENTS,
    )?;
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(follow(paths, sub, tx));
    Ok(rx)
}

/// Sends the leader each time it changes, until the receiver is dropped.
async fn follow(paths: Paths, mut sub: Subscription, tx: mpsc::Sender<Result<Option<LeaderInfo>>>) {
    let mut last: Option<Option<LeaderInfo>> = None;
    loop {
        let item = settle(&paths, last.as_ref()).await.map_err(Into::into);
        if !send_if_changed(&tx, &mut last, item).await {
            return;
        }
        tokio::select! {
            _ = tx.closed() => return,
            woken = sub.woken() => if let Err(e) = woken {
                let _ = tx.send(Err(e.into())).await;
                return;
            }
        }
    }
}

/// Follows the member files: a candidate's file is created (renamed into place) when it joins,
/// removed when it leaves, and closed, which unlocks it, when its process dies; each event on
/// the members directory is answered with a fresh listing of the locked files, and the listing
/// is taken again on the process's resync ticks for a while after (see `notify::RESYNC_FOR`).
pub(super) fn spawn_members(paths: Paths) -> Result<MemberStream> {
    super::safe_open::prepare_dir(&paths.members())?;
    let mut sub = notify::subscribe(&paths.members(), Interest::All, notify::MEMBER_EVENTS)?;
    let mut ticks = notify::resync_ticks();
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let mut last: Option<Vec<Member>> = None;
        let mut woken = true;
        let mut resync_until = Instant::now() + notify::RESYNC_FOR;
        loop {
            let item = if woken {
                settle_members(&paths, last.as_ref()).await
            } else {
                live_members(&paths)
            };
            if !send_if_changed(&tx, &mut last, item.map_err(Into::into)).await {
                return;
            }
            let resyncing = Instant::now() < resync_until;
            tokio::select! {
                _ = tx.closed() => return,
                _ = ticks.changed(), if resyncing => woken = false,
                ev = sub.woken() => match ev {
                    Ok(()) => {
                        woken = true;
                        // Ticks from before this event call for no listing of their own.
                        ticks.mark_unchanged();
                        resync_until = Instant::now() + notify::RESYNC_FOR;
                    }
                    Err(e) => { let _ = tx.send(Err(e.into())).await; return; }
                }
            }
        }
    });
    Ok(rx)
}

/// The members after an event. A dying process's files are closed (waking us) a moment before
/// its locks are released, so an unchanged listing is taken again after a short backoff
/// (about 60 ms in all), as [`settle`] does for the leader.
async fn settle_members(paths: &Paths, previous: Option<&Vec<Member>>) -> io::Result<Vec<Member>> {
    let mut pause = Duration::from_millis(1);
    loop {
        let now = live_members(paths)?;
        if previous != Some(&now) || pause > Duration::from_millis(32) {
            return Ok(now);
        }
        tokio::time::sleep(pause).await;
        pause *= 2;
    }
}

/// Reads the leader after an event, allowing for two short windows: a new leader between its
/// lock and its record ([`Probe::Unsettled`]), and the kernel's order at process exit, where the
/// dying holder's files are closed (waking us) a moment before its lock is released. While the
/// answer is unsettled or unchanged, probe again with a short backoff (about 60 ms in all).
async fn settle(
    paths: &Paths,
    previous: Option<&Option<LeaderInfo>>,
) -> io::Result<Option<LeaderInfo>> {
    let mut pause = Duration::from_millis(1);
    loop {
        let now = probe(paths)?;
        let leader = match &now {
            Probe::Nobody => Some(None),
            Probe::Leader(l) => Some(Some(l.clone())),
            Probe::Unsettled => None,
        };
        let settled = match (&leader, previous) {
            (None, _) => false,
            (Some(l), Some(p)) => l != p,
            (Some(_), None) => true,
        };
        if settled || pause > Duration::from_millis(32) {
            // Still unsettled after the backoff: keep what we reported last.
            return Ok(leader.or_else(|| previous.cloned()).flatten());
        }
        tokio::time::sleep(pause).await;
        pause *= 2;
    }
}
