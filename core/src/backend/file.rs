//! The embedded store: processes on one machine elect a leader through file locks in a directory.
//!
//! Per election `<name>` (percent-encoded for the file system) the directory holds:
//!
//! - `<name>.lock`: the leader holds an exclusive `flock` on it. Waiting candidates block in
//!   `flock` on a thread of their own, so the kernel wakes one the instant the lock is released
//!   or its holder dies (`kill -9` included): no polling.
//! - `<name>.leader`: `term id value` of the current or last leader, replaced atomically
//!   (write + rename) by each new leader *while it holds the lock*. The term in it is the
//!   fencing counter: each leader writes the previous term + 1, so it only grows, across
//!   process restarts. The leader keeps the file open for writing for its whole term, so its
//!   release or death produces an inotify `IN_CLOSE_WRITE` that wakes observers.
//! - `<name>.members/<id>`: one file per candidate, exclusively locked by it while it lives.
//!
//! Observers never take the leadership lock: they learn of changes through inotify and test
//! whether anyone holds the lock with a non-blocking shared `flock` probe.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use inotify::{Inotify, WatchMask};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tokio::sync::{mpsc, oneshot};

use super::{Backend, Candidacy, CandidateSpec, Grant, LeaderStream, Renewal};
use crate::error::{Error, ErrorCode, Result};
use crate::event::{LeaderInfo, Member};
use crate::uri::Config;

/// `sync=false` skips the `fsync` of the term file (faster handover; a machine crash may then
/// lose the last term, a process crash never does).
pub const OPTIONS: &[&str] = &["sync"];

/// Characters kept as they are in file names; everything else is percent-encoded.
const FILE_NAME: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

pub struct FileBackend {
    dir: PathBuf,
    ttl: Duration,
    sync: bool,
}

impl FileBackend {
    pub fn open(config: &Config) -> Result<FileBackend> {
        let dir = PathBuf::from(&config.path);
        fs::create_dir_all(&dir).map_err(|e| {
            Error::new(
                ErrorCode::Permission,
                format!("path `{}`: cannot create directory: {e}", dir.display()),
            )
        })?;
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
            sync,
        })
    }

    fn paths(&self, election: &str) -> Paths {
        Paths::new(&self.dir, election)
    }
}

#[derive(Clone)]
struct Paths {
    dir: PathBuf,
    base: String,
}

impl Paths {
    fn new(dir: &Path, election: &str) -> Paths {
        Paths {
            dir: dir.to_path_buf(),
            base: utf8_percent_encode(election, FILE_NAME).to_string(),
        }
    }
    fn lock(&self) -> PathBuf {
        self.dir.join(format!("{}.lock", self.base))
    }
    fn leader_name(&self) -> String {
        format!("{}.leader", self.base)
    }
    fn leader(&self) -> PathBuf {
        self.dir.join(self.leader_name())
    }
    fn members(&self) -> PathBuf {
        self.dir.join(format!("{}.members", self.base))
    }
    fn member(&self, id: &str) -> PathBuf {
        self.members()
            .join(utf8_percent_encode(id, FILE_NAME).to_string())
    }
}

fn open_rw(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// `term\tid\tvalue` with tabs and newlines escaped away by the config validation (ids and values
/// may not contain control characters).
fn encode_leader(info: &LeaderInfo) -> String {
    format!("{}\t{}\t{}\n", info.term, info.id, info.value)
}

fn read_leader_file(path: &Path) -> io::Result<Option<LeaderInfo>> {
    let mut s = String::new();
    match File::open(path) {
        Ok(mut f) => f.read_to_string(&mut s)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let line = s.trim_end_matches('\n');
    let mut parts = line.splitn(3, '\t');
    let term = parts.next().and_then(|t| t.parse::<u64>().ok());
    match (term, parts.next(), parts.next()) {
        (Some(term), Some(id), Some(value)) => Ok(Some(LeaderInfo {
            id: id.to_string(),
            value: value.to_string(),
            term,
        })),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: malformed leader file", path.display()),
        )),
    }
}

/// Whether someone holds the leadership lock, tested without taking it from anyone.
fn lock_is_held(path: &Path) -> io::Result<bool> {
    let f = match File::open(path) {
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

/// The current leader: the leader file, if the lock is held.
fn current_leader(paths: &Paths) -> io::Result<Option<LeaderInfo>> {
    if !lock_is_held(&paths.lock())? {
        return Ok(None);
    }
    read_leader_file(&paths.leader())
}

#[async_trait]
impl Backend for FileBackend {
    async fn join(&self, spec: &CandidateSpec) -> Result<Box<dyn Candidacy>> {
        let paths = self.paths(&spec.election);
        fs::create_dir_all(paths.members())?;
        let member = open_rw(&paths.member(&spec.id))?;
        member.try_lock().map_err(|_| {
            Error::invalid(format!(
                "option `id`: `{}` is already a candidate in election `{}`",
                spec.id, spec.election
            ))
        })?;
        member.set_len(0)?;
        (&member).write_all(format!("{}\t{}\n", spec.id, spec.value).as_bytes())?;
        Ok(Box::new(FileCandidacy {
            paths,
            spec: spec.clone(),
            ttl: self.ttl,
            sync: self.sync,
            member: Some(member),
            held: None,
        }))
    }

    async fn watch(&self, election: &str) -> Result<LeaderStream> {
        let paths = self.paths(election);
        let inotify = Inotify::init()?;
        inotify.watches().add(
            &paths.dir,
            WatchMask::CLOSE_WRITE | WatchMask::MOVED_TO | WatchMask::MODIFY | WatchMask::DELETE,
        )?;
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(watch_leader(paths, inotify, tx));
        Ok(rx)
    }

    async fn leader(&self, election: &str) -> Result<Option<LeaderInfo>> {
        Ok(current_leader(&self.paths(election))?)
    }

    async fn members(&self, election: &str) -> Result<Vec<Member>> {
        let paths = self.paths(election);
        let entries = match fs::read_dir(paths.members()) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut members = Vec::new();
        for entry in entries.flatten() {
            let Ok(f) = File::open(entry.path()) else {
                continue;
            };
            match f.try_lock_shared() {
                Err(TryLockError::WouldBlock) => {
                    let mut s = String::new();
                    (&f).read_to_string(&mut s)?;
                    if let Some((id, value)) = s.trim_end_matches('\n').split_once('\t') {
                        members.push(Member {
                            id: id.to_string(),
                            value: value.to_string(),
                        });
                    }
                }
                // Unlocked: its candidate is gone (crashed); clean up after it.
                Ok(()) => {
                    let _ = fs::remove_file(entry.path());
                }
                Err(TryLockError::Error(e)) => return Err(e.into()),
            }
        }
        members.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(members)
    }
}

/// Sends the leader each time it changes, until the receiver is dropped.
async fn watch_leader(
    paths: Paths,
    inotify: Inotify,
    tx: mpsc::Sender<Result<Option<LeaderInfo>>>,
) {
    use tokio_stream_shim::next_event;
    let leader_name = paths.leader_name();
    let mut stream = match inotify.into_event_stream(vec![0u8; 4096]) {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Err(e.into())).await;
            return;
        }
    };
    let mut last: Option<Option<LeaderInfo>> = None;
    loop {
        let now = settled_leader(&paths, last.as_ref()).await;
        match now {
            Ok(leader) if last.as_ref() != Some(&leader) => {
                last = Some(leader.clone());
                if tx.send(Ok(leader)).await.is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                if tx.send(Err(e.into())).await.is_err() {
                    return;
                }
            }
        }
        // Wait for the next event on our leader file (or the receiver going away).
        loop {
            tokio::select! {
                _ = tx.closed() => return,
                ev = next_event(&mut stream) => match ev {
                    Some(Ok(name)) if name.as_deref() == Some(leader_name.as_str())
                        || name.as_deref().map(|n| n.starts_with(&paths.base)).unwrap_or(false) => break,
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => { let _ = tx.send(Err(e.into())).await; return; }
                    None => return,
                }
            }
        }
    }
}

/// Reads the leader after an event, allowing for the kernel's order at process exit: the dying
/// holder's files are closed (waking us) a moment before its lock is released. When the answer
/// has not changed, probe again with a short backoff (about 60 ms in all) before settling;
/// events come only with leadership changes and candidates coming and going, so this is rare.
async fn settled_leader(
    paths: &Paths,
    previous: Option<&Option<LeaderInfo>>,
) -> io::Result<Option<LeaderInfo>> {
    let mut leader = current_leader(paths)?;
    let Some(previous) = previous else {
        return Ok(leader);
    };
    let mut pause = Duration::from_millis(1);
    while &leader == previous && pause <= Duration::from_millis(32) {
        tokio::time::sleep(pause).await;
        pause *= 2;
        leader = current_leader(paths)?;
    }
    Ok(leader)
}

/// A minimal `next()` for inotify's stream, so that we need no `futures` dependency.
mod tokio_stream_shim {
    use std::future::poll_fn;
    use std::pin::Pin;

    use futures_core::Stream;
    use inotify::EventStream;

    pub async fn next_event(
        s: &mut EventStream<Vec<u8>>,
    ) -> Option<std::io::Result<Option<String>>> {
        poll_fn(|cx| Pin::new(&mut *s).poll_next(cx))
            .await
            .map(|r| r.map(|ev| ev.name.map(|n| n.to_string_lossy().into_owned())))
    }
}

struct Held {
    /// Exclusive lock on `<name>.lock`; dropping it releases the leadership.
    lock: File,
    /// `<name>.leader`, open for writing for the whole term (see module docs).
    leader_file: File,
}

struct FileCandidacy {
    paths: Paths,
    spec: CandidateSpec,
    ttl: Duration,
    sync: bool,
    member: Option<File>,
    held: Option<Held>,
}

impl FileCandidacy {
    /// After taking the lock: bump the term and publish ourselves as the leader.
    fn publish(&self, lock: File) -> io::Result<(Held, u64)> {
        let previous = match read_leader_file(&self.paths.leader()) {
            Ok(p) => p.map(|l| l.term).unwrap_or(0),
            // A torn or foreign file must not reset the counter to zero.
            Err(e) => return Err(e),
        };
        let info = LeaderInfo {
            id: self.spec.id.clone(),
            value: self.spec.value.clone(),
            term: previous + 1,
        };
        let tmp = self
            .paths
            .dir
            .join(format!("{}.leader.tmp", self.paths.base));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(encode_leader(&info).as_bytes())?;
            if self.sync {
                f.sync_all()?;
            }
        }
        fs::rename(&tmp, self.paths.leader())?;
        if self.sync {
            File::open(&self.paths.dir)?.sync_all()?;
        }
        let leader_file = OpenOptions::new().write(true).open(self.paths.leader())?;
        Ok((Held { lock, leader_file }, info.term))
    }
}

#[async_trait]
impl Candidacy for FileCandidacy {
    async fn acquire(&mut self) -> Result<Grant> {
        if self.held.is_some() {
            return Err(Error::internal("acquire while already leading"));
        }
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
        let (held, term) = self.publish(lock)?;
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
        let held = self
            .held
            .as_ref()
            .ok_or_else(|| Error::new(ErrorCode::NotLeader, "not holding the lock"))?;
        // The lock cannot be taken from us, but the directory can be deleted or replaced under
        // us; then someone else may lock a new file at the same path.
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
        Ok(Renewal {
            sent_at,
            ttl: self.ttl,
        })
    }

    async fn release(&mut self) -> Result<()> {
        if let Some(held) = self.held.take() {
            // Unlock first, then close the leader file: observers woken by the close must find
            // the lock free.
            held.lock.unlock()?;
            drop(held.lock);
            drop(held.leader_file);
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
