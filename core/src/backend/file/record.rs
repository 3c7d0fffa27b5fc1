//! The leader record and the fencing counter of one election on the file store.
//!
//! `<name>.leader` holds one line, overwritten in place by each new leader while it holds the
//! lock: `v1 term boot released id value checksum`, tab-separated. Writing in place (not a
//! temporary file renamed over it) matters: on ext4 a rename over an existing file waits for
//! the journal, which put 10-30 ms into the p99 of a handover. A reader that catches a write
//! half-done sees a bad checksum and reads again.
//!
//! The term is the fencing counter. Within one boot of the machine the page cache keeps the
//! last term across process crashes, so no fsync is needed per handover. To survive a machine
//! crash, `<name>.ceiling` durably (fsync) records a value that every term ever issued stays
//! below; it is raised 1024 terms at a time, so one handover in 1024 pays for an fsync. A record
//! written under another boot id (or torn, or missing) is not trusted: the next term then starts
//! above the ceiling.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use once_cell::sync::Lazy;

use super::safe_open;
use crate::event::LeaderInfo;

/// How many terms one durable ceiling write covers.
const CEILING_STEP: u64 = 1024;

/// `/proc/sys/kernel/random/boot_id`: changes when the machine restarts (and the page cache
/// with it). Empty when unknown, which makes every record look like another boot's: safe.
static BOOT_ID: Lazy<String> = Lazy::new(|| {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
});

/// This boot of the machine (see [`BOOT_ID`]); empty when unknown.
pub(super) fn boot_id() -> &'static str {
    &BOOT_ID
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Record {
    pub leader: LeaderInfo,
    pub boot: String,
    /// Written by a leader that gave the lock back gracefully, just before unlocking.
    pub released: bool,
}

impl Record {
    pub fn new(leader: LeaderInfo) -> Record {
        Record {
            leader,
            boot: BOOT_ID.clone(),
            released: false,
        }
    }

    fn encode(&self) -> String {
        let body = format!(
            "v1\t{}\t{}\t{}\t{}\t{}",
            self.leader.term,
            self.boot,
            u8::from(self.released),
            self.leader.id,
            self.leader.value
        );
        format!("{body}\t{:016x}\n", checksum(body.as_bytes()))
    }

    fn decode(s: &str) -> Option<Record> {
        let line = s.strip_suffix('\n')?;
        let (body, sum) = line.rsplit_once('\t')?;
        if u64::from_str_radix(sum, 16).ok()? != checksum(body.as_bytes()) {
            return None;
        }
        let mut f = body.splitn(6, '\t');
        if f.next()? != "v1" {
            return None;
        }
        let term = f.next()?.parse().ok()?;
        let boot = f.next()?.to_string();
        let released = f.next()? == "1";
        let id = f.next()?.to_string();
        let value = f.next()?.to_string();
        Some(Record {
            leader: LeaderInfo { id, value, term },
            boot,
            released,
        })
    }

    /// Overwrites the record in `file` (opened for writing) in place.
    pub fn write_to(&self, file: &File) -> io::Result<()> {
        let bytes = self.encode();
        file.write_all_at(bytes.as_bytes(), 0)?;
        file.set_len(bytes.len() as u64)
    }
}

/// What a read of the record found.
#[derive(Debug)]
pub(super) enum Read {
    Missing,
    /// Half-written (by a writer caught mid-write, or one that crashed mid-write).
    Torn,
    Ok(Record),
}

pub(super) fn read(path: &Path) -> io::Result<Read> {
    match safe_open::read(path) {
        Ok(bytes) if bytes.is_empty() => Ok(Read::Missing),
        Ok(bytes) => Ok(std::str::from_utf8(&bytes)
            .ok()
            .and_then(Record::decode)
            .map_or(Read::Torn, Read::Ok)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Read::Missing),
        Err(e) => Err(e),
    }
}

/// The next term for a new leader who holds the lock. With `durable`, raises the ceiling
/// (fsync) first when the term would reach it.
pub(super) fn next_term(leader: &Path, ceiling: &Path, durable: bool) -> io::Result<u64> {
    let ceiling_now = read_ceiling(ceiling)?;
    let last = match read(leader)? {
        Read::Ok(r) if r.boot == *BOOT_ID && !BOOT_ID.is_empty() => r.leader.term,
        Read::Ok(r) => r.leader.term.max(ceiling_now),
        Read::Missing | Read::Torn => ceiling_now,
    };
    let next = last + 1;
    if durable && next >= ceiling_now {
        write_ceiling(ceiling, next + CEILING_STEP)?;
    }
    Ok(next)
}

fn read_ceiling(path: &Path) -> io::Result<u64> {
    match safe_open::read(path) {
        Ok(s) => String::from_utf8_lossy(&s).trim().parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: not a number; refusing to guess the fencing counter",
                    path.display()
                ),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e),
    }
}

/// Replaces the ceiling durably: write, fsync, rename, fsync the directory.
fn write_ceiling(path: &Path, value: u64) -> io::Result<()> {
    let tmp = path.with_extension("ceiling.tmp");
    {
        let mut f = safe_open::create(&tmp)?;
        writeln!(f, "{value}")?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Enough to tell a torn write from a whole one.
pub(super) fn checksum(bytes: &[u8]) -> u64 {
    crate::backend::stable_hash::fnv1a(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leader(term: u64) -> LeaderInfo {
        LeaderInfo {
            id: "a".into(),
            value: "v w".into(),
            term,
        }
    }

    #[test]
    fn round_trips_and_detects_torn_writes() {
        let r = Record {
            leader: leader(7),
            boot: "b".into(),
            released: true,
        };
        let s = r.encode();
        assert_eq!(Record::decode(&s), Some(r));
        assert_eq!(Record::decode(&s[..s.len() - 3]), None);
        assert_eq!(Record::decode(&s.replace("\t7\t", "\t8\t")), None);
    }

    #[test]
    fn terms_grow_and_survive_a_lost_record() {
        let dir = std::env::temp_dir().join(format!("elect-record-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let (l, c) = (dir.join("x.leader"), dir.join("x.ceiling"));
        let _ = fs::remove_file(&l);
        let _ = fs::remove_file(&c);
        let f = safe_open::open_rw(&l).unwrap();
        let t1 = next_term(&l, &c, true).unwrap();
        assert_eq!(t1, 1);
        Record::new(leader(t1)).write_to(&f).unwrap();
        let t2 = next_term(&l, &c, true).unwrap();
        assert_eq!(t2, 2, "same boot: the record is trusted, no ceiling jump");
        Record::new(leader(t2)).write_to(&f).unwrap();
        // A record from another boot, or lost, is not trusted: start above the ceiling.
        Record {
            leader: leader(t2),
            boot: "other".into(),
            released: false,
        }
        .write_to(&f)
        .unwrap();
        let t3 = next_term(&l, &c, true).unwrap();
        assert!(t3 > 1024, "{t3}");
        fs::remove_file(&l).unwrap();
        assert!(next_term(&l, &c, true).unwrap() > t3);
        fs::remove_dir_all(&dir).unwrap();
    }
}
