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
//! - `<name>.next`: who may be granted the lock next (a hand-off, a hold-off, a sticky
//!   leader), written and read only under the lock (see `handoff`).

mod candidacy;
mod handoff;
mod layout;
mod notify;
pub(crate) mod options;
mod record;
mod safe_open;
mod watch;

use std::fs::{self, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;

use super::registry::Driver;
use super::{Backend, Candidacy, CandidateSpec, LeaderStream, MemberStream};
use crate::error::Result;
use crate::event::{LeaderInfo, Member};
use crate::uri::Config;
use candidacy::FileCandidacy;
use layout::Paths;
use options::FileOptions;
use safe_open::open_read;
use std::sync::Arc;

/// How the registry reaches this store.
pub(crate) static DRIVER: Driver = Driver {
    options: options::NAMES,
    parse: options::parse,
    open: |config| {
        Box::pin(async move { Ok(Arc::new(FileBackend::open(config)?) as Arc<dyn Backend>) })
    },
};

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
        let sync = config.store_options::<FileOptions>()?.sync;
        Ok(FileBackend {
            dir,
            ttl: config.ttl,
            retry: config.retry,
            sync,
        })
    }

    fn paths(&self, election: &str) -> Paths {
        Paths::new(self.dir.clone(), election)
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

#[async_trait]
impl Backend for FileBackend {
    async fn join(&self, spec: &CandidateSpec) -> Result<Box<dyn Candidacy>> {
        let paths = self.paths(&spec.election);
        safe_open::prepare_dir(&paths.members())?;
        Ok(Box::new(FileCandidacy::join(
            paths, spec, self.ttl, self.retry, self.sync,
        )?))
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
