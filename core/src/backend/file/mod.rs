//! The embedded store: processes on one machine elect a leader through file locks in a directory.
//!
//! Per election `<name>` (percent-encoded for the file system) the directory holds:
//!
//! - `<name>.lock`: the leader holds an exclusive `flock` on it. Waiting candidates block in
//!   `flock` on a thread of their own, so the kernel wakes one the instant the lock is released
//!   or its holder dies (`kill -9` included): no polling.
//! - `<name>.leader`: the record `term id value` of the current or last leader (see `record`),
//!   overwritten in place by each new leader *while it holds the lock*. The leader keeps the
//!   file open for writing for its whole term, so that its release or death produces an inotify
//!   `IN_CLOSE_WRITE` that wakes observers (see `watch`).
//! - `<name>.ceiling`: the durable bound on the fencing counter (see `record`).
//! - `<name>.members/<id>`: one file per candidate, exclusively locked by it while it lives.

mod record;
mod safe_open;
mod watch;

use std::fs::{self, File, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tokio::sync::oneshot;

use super::{Backend, Candidacy, CandidateSpec, Grant, LeaderStream, MemberStream, Renewal};
use crate::error::{Error, ErrorCode, Result};
use crate::event::{LeaderInfo, Member};
use crate::uri::Config;
use record::Record;
use safe_open::{open_read, open_rw};

/// `sync=false` skips the `fsync` of the fencing ceiling: a machine crash (not a process crash)
/// may then hand out a term again.
pub const OPTIONS: &[&str] = &["sync"];

/// Characters kept as they are in file names; everything else is percent-encoded.
const FILE_NAME: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

pub struct FileBackend {
    dir: PathBuf,
    ttl: Duration,
    retry: Duration,
    sync: bool,
}

impl FileBackend {
    pub fn open(config: &Config) -> Result<FileBackend> {
        let dir = PathBuf::from(&config.path);
        safe_open::prepare_dir(&dir)?;
        let sync = match config.param("sync") {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(Error::invalid(format!(
                    "option `sync`: bad value `{other}`: expected true or false"
                )))
            }
        };
        Ok(FileBackend {
            dir,
            ttl: config.ttl,
            retry: config.retry,
            sync,
        })
    }

    fn paths(&self, election: &str) -> Paths {
        Paths {
            dir: self.dir.clone(),
            base: utf8_percent_encode(election, FILE_NAME).to_string(),
        }
    }
}

#[derive(Clone)]
struct Paths {
    dir: PathBuf,
    base: String,
}

impl Paths {
    fn file(&self, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}.{suffix}", self.base))
    }
    fn lock(&self) -> PathBuf {
        self.file("lock")
    }
    fn leader(&self) -> PathBuf {
        self.file("leader")
    }
    fn ceiling(&self) -> PathBuf {
        self.file("ceiling")
    }
    fn members(&self) -> PathBuf {
        self.file("members")
    }
    fn member(&self, id: &str) -> PathBuf {
        self.members()
            .join(utf8_percent_encode(id, FILE_NAME).to_string())
    }
}

/// Whether someone holds the leadership lock, tested without taking it from anyone.
fn lock_is_held(path: &Path) -> io::Result<bool> {
    let f = match open_read(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    match f.try_lock_shared() {
        Ok(()) => Ok(false), // dropping `f` releases the probe
        Err(TryLockError::WouldBlock) => Ok(true),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// The live candidates: member files whose owner still holds their lock. Files left by crashed
/// candidates are removed on the way.
fn live_members(paths: &Paths) -> io::Result<Vec<Member>> {
    let entries = match fs::read_dir(paths.members()) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut members = Vec::new();
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue; // a member file being created (see `publish_member`)
        }
        // Skipped, not trusted: a link or a file of another user (see `safe_open`).
        let Ok(f) = open_read(&entry.path()) else {
            continue;
        };
        match f.try_lock_shared() {
            Err(TryLockError::WouldBlock) => {
                let bytes = safe_open::read_bounded(f, &entry.path())?;
                let s = String::from_utf8_lossy(&bytes);
                if let Some((id, value)) = s.trim_end_matches('\n').split_once('\t') {
                    members.push(Member {
                        id: id.to_string(),
                        value: value.to_string(),
                    });
                }
            }
            Ok(()) => {
                let _ = fs::remove_file(entry.path());
            }
            Err(TryLockError::Error(e)) => return Err(e),
        }
    }
    members.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(members)
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

#[async_trait]
impl Backend for FileBackend {
    async fn join(&self, spec: &CandidateSpec) -> Result<Box<dyn Candidacy>> {
        let paths = self.paths(&spec.election);
        safe_open::prepare_dir(&paths.members())?;
        let member = publish_member(&paths, spec)?;
        Ok(Box::new(FileCandidacy {
            paths,
            spec: spec.clone(),
            ttl: self.ttl,
            retry: self.retry,
            sync: self.sync,
            member: Some(member),
            held: None,
            gave_up: None,
        }))
    }

    async fn watch(&self, election: &str) -> Result<LeaderStream> {
        Ok(watch::spawn(self.paths(election))?)
    }

    async fn leader(&self, election: &str) -> Result<Option<LeaderInfo>> {
        Ok(match watch::probe(&self.paths(election))? {
            watch::Probe::Leader(l) => Some(l),
            watch::Probe::Nobody | watch::Probe::Unsettled => None,
        })
    }

    async fn members(&self, election: &str) -> Result<Vec<Member>> {
        Ok(live_members(&self.paths(election))?)
    }

    async fn watch_members(&self, election: &str) -> Result<MemberStream> {
        Ok(watch::spawn_members(self.paths(election))?)
    }
}

struct Held {
    /// Exclusive lock on `<name>.lock`; dropping it releases the leadership.
    lock: File,
    /// `<name>.leader`, open for writing for the whole term (see module docs).
    leader_file: File,
    record: Record,
}

struct FileCandidacy {
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
    /// After taking the lock: the next term, and ourselves published as its leader.
    fn publish(&self, lock: File) -> io::Result<Held> {
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
        let lock_path = self.paths.lock();
        let (tx, rx) = oneshot::channel::<io::Result<File>>();
        // flock cannot be cancelled, so it blocks on a thread of its own. If this future is
        // dropped (close while waiting), the send below fails once the lock is taken and the
        // file, and with it the lock, is dropped at once.
        std::thread::Builder::new()
            .name("elect-file-wait".into())
            .spawn(move || {
                let r = open_rw(&lock_path).and_then(|f| f.lock().map(|()| f));
                let _ = tx.send(r);
            })
            .map_err(|e| Error::internal(format!("cannot start a lock thread: {e}")))?;
        let lock = rx
            .await
            .map_err(|_| Error::internal("the lock thread ended without an answer"))??;
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
        if let Some(mut held) = self.held.take() {
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

    async fn leave(mut self: Box<Self>) -> Result<()> {
        self.release().await?;
        if let Some(member) = self.member.take() {
            let _ = fs::remove_file(self.paths.member(&self.spec.id));
            drop(member);
        }
        Ok(())
    }
}

impl Drop for FileCandidacy {
    fn drop(&mut self) {
        if self.member.is_some() {
            let _ = fs::remove_file(self.paths.member(&self.spec.id));
        }
    }
}
