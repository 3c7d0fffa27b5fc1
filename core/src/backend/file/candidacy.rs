//! One candidate on the file store: a member file locked while it lives, and the leadership
//! lock, waited for in `flock` on a thread of its own.

use std::fs::{self, File, TryLockError};
use std::io::{self, Write};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::oneshot;

use super::handoff::{self, Next};
use super::layout::Paths;
use super::live_members;
use super::record::{self, Record};
use super::safe_open::{open_read, open_rw};
use crate::backend::{Candidacy, CandidateSpec, Grant, Renewal};
use crate::error::{Error, ErrorCode, Result};
use crate::event::LeaderInfo;

struct Held {
    /// Exclusive lock on `<name>.lock`; dropping it releases the leadership.
    lock: File,
    /// `<name>.leader`, open for writing for the whole term (see module docs).
    leader_file: File,
    record: Record,
}

pub(super) struct FileCandidacy {
    paths: Paths,
    spec: CandidateSpec,
    ttl: Duration,
    retry: Duration,
    sync: bool,
    member: Option<File>,
    held: Option<Held>,
    /// The term this candidate last gave up, until someone else has taken over.
    gave_up: Option<u64>,
}

impl FileCandidacy {
    /// The lock we hold, still the one at the lock path: the lock cannot be taken from us, but
    /// the directory can be deleted or replaced under us, and then someone else may lock a new
    /// file at the same path.
    fn still_held(&self) -> Result<&Held> {
        let held = self
            .held
            .as_ref()
            .ok_or_else(|| Error::new(ErrorCode::NotLeader, "not holding the lock"))?;
        let same = fs::metadata(self.paths.lock())
            .and_then(|m| Ok((m, held.lock.metadata()?)))
            .map(|(a, b)| {
                use std::os::unix::fs::MetadataExt;
                a.ino() == b.ino() && a.dev() == b.dev()
            })
            .unwrap_or(false);
        if !same {
            return Err(Error::new(
                ErrorCode::NotLeader,
                "the lock file was removed or replaced",
            ));
        }
        Ok(held)
    }

    /// Enters the election: publishes the member file (refused if `spec.id` is already live).
    pub fn join(
        paths: Paths,
        spec: &CandidateSpec,
        ttl: Duration,
        retry: Duration,
        sync: bool,
    ) -> Result<FileCandidacy> {
        let member = publish_member(&paths, spec)?;
        Ok(FileCandidacy {
            paths,
            spec: spec.clone(),
            ttl,
            retry,
            sync,
            member: Some(member),
            held: None,
            gave_up: None,
        })
    }

    /// After taking the lock: the next term, and ourselves published as its leader (with a
    /// `lead` record for the next grant when this candidate asks for a hold-off or stickiness).
    fn publish(&self, lock: File) -> io::Result<Held> {
        if self.spec.holdoff.is_zero() && self.spec.sticky.is_zero() {
            handoff::clear(&self.paths.next())?;
        } else {
            handoff::write(
                &self.paths.next(),
                &Next::Lead {
                    id: self.spec.id.clone(),
                    holdoff: self.spec.holdoff,
                    sticky: self.spec.sticky,
                },
            )?;
        }
        let term = record::next_term(&self.paths.leader(), &self.paths.ceiling(), self.sync)?;
        let leader_file = open_rw(&self.paths.leader())?;
        let record = Record::new(LeaderInfo {
            id: self.spec.id.clone(),
            value: self.spec.value.clone(),
            term,
        });
        record.write_to(&leader_file)?;
        Ok(Held {
            lock,
            leader_file,
            record,
        })
    }

    /// `flock` wakes all waiters and lets them race, so a leader that just resigned and
    /// campaigns again at once could win its own lock back. When other candidates are live,
    /// give them until `retry` to take over (watching the record's term) before joining the race.
    async fn let_others_go_first(&mut self) -> io::Result<()> {
        let Some(term) = self.gave_up.take() else {
            return Ok(());
        };
        if !live_members(&self.paths)?
            .iter()
            .any(|m| m.id != self.spec.id)
        {
            return Ok(());
        }
        let until = Instant::now() + self.retry;
        let mut pause = Duration::from_micros(500);
        while Instant::now() < until {
            if let record::Read::Ok(r) = record::read(&self.paths.leader())? {
                if r.leader.term > term {
                    return Ok(());
                }
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
        Ok(())
    }
}

#[async_trait]
impl Candidacy for FileCandidacy {
    async fn acquire(&mut self) -> Result<Grant> {
        if self.held.is_some() {
            return Err(Error::internal("acquire while already leading"));
        }
        self.let_others_go_first().await?;
        let lock = loop {
            let lock = self.wait_lock().await?;
            // Under the lock: whether the `.next` record lets us be granted now.
            match handoff::may_grant(&self.paths.next(), &self.spec.id)? {
                None => break lock,
                Some(at) => {
                    lock.unlock()?;
                    drop(lock);
                    wait_until_changed(&self.paths.next(), at).await;
                }
            }
        };
        let sent_at = Instant::now();
        let held = self.publish(lock)?;
        let term = held.record.leader.term;
        self.held = Some(held);
        Ok(Grant {
            term,
            renewal: Renewal {
                sent_at,
                ttl: self.ttl,
            },
        })
    }

    async fn renew(&mut self) -> Result<Renewal> {
        let sent_at = Instant::now();
        self.still_held()?;
        Ok(Renewal {
            sent_at,
            ttl: self.ttl,
        })
    }

    async fn proclaim(&mut self, value: &str) -> Result<()> {
        self.still_held()?;
        let mut spec = self.spec.clone();
        spec.value = value.to_string();
        let member = write_member(&self.paths, &spec)?;
        self.member = Some(member); // the old one, unlinked by the rename, unlocks on drop
        self.spec = spec;
        let held = self.held.as_mut().expect("checked by still_held");
        held.record.leader.value = value.to_string();
        held.record.write_to(&held.leader_file)?;
        Ok(())
    }

    async fn release(&mut self) -> Result<()> {
        self.give_up(None)
    }

    /// Under the held lock: a `handoff` record naming `successor` (a live member), then the
    /// release.
    async fn hand_over(&mut self, successor: &str) -> Result<()> {
        self.still_held()?;
        if !live_members(&self.paths)?.iter().any(|m| m.id == successor) {
            return Err(Error::invalid(format!(
                "hand-over: `{successor}` is not a member of election `{}`",
                self.spec.election
            )));
        }
        let until = crate::clock::now_nanos().saturating_add(self.ttl.as_nanos() as u64);
        self.give_up(Some(Next::Handoff {
            id: successor.to_string(),
            until,
        }))
    }

    /// The member file goes first, then the lock: a successor that looks at the members once
    /// it leads no longer finds this candidate (see `succession`).
    async fn leave(mut self: Box<Self>) -> Result<()> {
        if let Some(member) = self.member.take() {
            let _ = fs::remove_file(self.paths.member(&self.spec.id));
            drop(member);
        }
        self.release().await
    }
}

impl FileCandidacy {
    /// Waits for the election's lock. `flock` cannot be cancelled, so it blocks on a thread of
    /// its own. If this future is dropped (close while waiting), the send below fails once the
    /// lock is taken and the file, and with it the lock, is dropped at once.
    async fn wait_lock(&self) -> Result<File> {
        let lock_path = self.paths.lock();
        let (tx, rx) = oneshot::channel::<io::Result<File>>();
        std::thread::Builder::new()
            .name("elect-file-wait".into())
            .spawn(move || {
                let r = open_rw(&lock_path).and_then(|f| f.lock().map(|()| f));
                let _ = tx.send(r);
            })
            .map_err(|e| Error::internal(format!("cannot start a lock thread: {e}")))?;
        Ok(rx
            .await
            .map_err(|_| Error::internal("the lock thread ended without an answer"))??)
    }

    /// Gives the lock up: the `.next` record (`next`, or none: anyone may be granted), the
    /// leader record marked released, then unlock.
    fn give_up(&mut self, next: Option<Next>) -> Result<()> {
        if let Some(mut held) = self.held.take() {
            match &next {
                Some(n) => handoff::write(&self.paths.next(), n)?,
                None if !(self.spec.holdoff.is_zero() && self.spec.sticky.is_zero()) => {
                    handoff::clear(&self.paths.next())?
                }
                None => {}
            }
            // Mark the record released, unlock, then close the leader file: observers woken by
            // the close find the lock free, or see the mark if a successor locked it meanwhile.
            held.record.released = true;
            let marked = held.record.write_to(&held.leader_file);
            held.lock.unlock()?;
            self.gave_up = Some(held.record.leader.term);
            drop(held);
            marked?;
        }
        Ok(())
    }
}

/// Waits, polling the `.next` record, until it changes or the `CLOCK_BOOTTIME` time `at`
/// passes: the record is only rewritten under the lock, which a waiter cannot hold while it
/// waits, and a change means a new grant (or a lapse) to look at.
async fn wait_until_changed(path: &std::path::Path, at: u64) {
    let before = fs::read(path).ok();
    let mut pause = Duration::from_micros(500);
    while crate::clock::now_nanos() < at {
        let left = Duration::from_nanos(at.saturating_sub(crate::clock::now_nanos()));
        tokio::time::sleep(pause.min(left)).await;
        if fs::read(path).ok() != before {
            return;
        }
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

impl Drop for FileCandidacy {
    fn drop(&mut self) {
        if self.member.is_some() {
            let _ = fs::remove_file(self.paths.member(&self.spec.id));
        }
    }
}

/// Creates this candidate's member file already locked: written and locked under a temporary
/// name, then renamed into place, so that `live_members` never sees it unlocked (and removes it
/// as a crashed candidate's).
fn publish_member(paths: &Paths, spec: &CandidateSpec) -> Result<File> {
    let path = paths.member(&spec.id);
    if let Ok(existing) = open_read(&path) {
        if matches!(existing.try_lock_shared(), Err(TryLockError::WouldBlock)) {
            return Err(Error::invalid(format!(
                "option `id`: `{}` is already a candidate in election `{}`",
                spec.id, spec.election
            )));
        }
    }
    write_member(paths, spec)
}

/// Writes this candidate's member file, locked, under a temporary name and renames it into
/// place (replacing an earlier one of ours atomically: readers see the old or the new value).
fn write_member(paths: &Paths, spec: &CandidateSpec) -> Result<File> {
    let path = paths.member(&spec.id);
    let tmp = paths
        .members()
        .join(format!(".{}.{}.tmp", std::process::id(), next_tmp_id()));
    let member = open_rw(&tmp)?;
    member.lock()?;
    (&member).write_all(format!("{}\t{}\n", spec.id, spec.value).as_bytes())?;
    fs::rename(&tmp, &path)?;
    Ok(member)
}

fn next_tmp_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}
