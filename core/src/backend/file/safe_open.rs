//! Opening the file store's directory and files so that another user cannot turn them against
//! the candidate.
//!
//! In a directory someone else can write to, a planted `<name>.leader -> /etc/passwd` would make
//! the leader overwrite the target of the link, and a planted file elect cannot open would keep
//! every candidate out. So:
//!
//! - the directory must belong to this process's user or to root, and be writable by nobody
//!   else unless it is sticky (`/tmp`-like: others may add files but not replace ours);
//! - directories are created `0700` and files `0600`: one user per election directory, since
//!   whoever can read the lock file can also hold a shared `flock` on it and keep leaders out;
//! - every file is opened with `O_NOFOLLOW` (a symlink is refused, not followed) and
//!   `O_NONBLOCK` (a planted FIFO cannot hang the open), then must be a regular file owned by
//!   this process's user.
//!
//! Every refusal is a `PermissionDenied` I/O error (code `permission`) naming the path and what is
//! wrong, so that the election reports it (with backoff) instead of retrying silently.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

use rustix::fs::OFlags;

use crate::error::{Error, ErrorCode, Result};

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;
/// The sticky bit: in such a directory only a file's owner may remove or rename it.
const STICKY: u32 = 0o1000;

fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

fn refused(path: &Path, why: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("`{}`: {why}", path.display()),
    )
}

/// Creates `dir` and its missing parents (mode 0700), then checks that no other user can plant
/// files in it.
pub(super) fn prepare_dir(dir: &Path) -> Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| {
            Error::new(
                ErrorCode::Permission,
                format!("path `{}`: cannot create directory: {e}", dir.display()),
            )
        })?;
    check_dir(dir).map_err(|e| Error::new(ErrorCode::Permission, format!("path {e}")))
}

fn check_dir(dir: &Path) -> io::Result<()> {
    let meta = fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(refused(dir, "not a directory".into()));
    }
    let (owner, me) = (meta.uid(), euid());
    if owner != me && owner != 0 {
        return Err(refused(
            dir,
            format!(
                "owned by uid {owner}, not by this process's user (uid {me}) or root: its owner \
                 could replace elect's files; use a directory of your own"
            ),
        ));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 && mode & STICKY == 0 {
        return Err(refused(
            dir,
            format!(
                "writable by other users (mode {mode:o}) and not sticky: they could plant \
                 files elect would open; `chmod go-w` it (or `chmod +t` to share it like /tmp)"
            ),
        ));
    }
    Ok(())
}

fn options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK).bits() as i32)
        .mode(FILE_MODE);
    o
}

/// Opens `path` for reading and writing, creating it (0600) if missing.
pub(super) fn open_rw(path: &Path) -> io::Result<File> {
    checked(
        path,
        options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path),
    )
}

/// Opens an existing `path` for reading.
pub(super) fn open_read(path: &Path) -> io::Result<File> {
    checked(path, options().read(true).open(path))
}

/// Creates or empties `path` for writing.
pub(super) fn create(path: &Path) -> io::Result<File> {
    checked(
        path,
        options().write(true).create(true).truncate(true).open(path),
    )
}

/// The most a file of the store may hold: a record or member line is an id (at most 256 bytes),
/// a value (at most `uri::MAX_VALUE`) and a few numbers.
pub(super) const MAX_FILE: u64 = crate::uri::MAX_VALUE as u64 + 4096;

/// The whole content of `path`, refused past `MAX_FILE` bytes rather than read into memory.
pub(super) fn read(path: &Path) -> io::Result<Vec<u8>> {
    read_bounded(open_read(path)?, path)
}

/// What is left of `file`, at most `MAX_FILE` bytes.
pub(super) fn read_bounded(file: File, path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(file, MAX_FILE + 1), &mut bytes)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "`{}`: larger than {MAX_FILE} bytes; not a file elect wrote",
                path.display()
            ),
        ));
    }
    Ok(bytes)
}

/// The file that `opened` opened, if it is a regular file of ours; else a message saying what
/// is wrong with `path`.
fn checked(path: &Path, opened: io::Result<File>) -> io::Result<File> {
    let file = opened.map_err(|e| match e.raw_os_error() {
        Some(code) if code == rustix::io::Errno::LOOP.raw_os_error() => refused(
            path,
            "is a symbolic link; elect does not follow links in its directory (planted by \
             another user?)"
                .into(),
        ),
        _ if e.kind() == io::ErrorKind::PermissionDenied => refused(
            path,
            format!("cannot open it ({e}); remove it or fix its owner"),
        ),
        _ if e.kind() == io::ErrorKind::NotFound => e,
        _ => io::Error::new(e.kind(), format!("`{}`: {e}", path.display())),
    })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(refused(path, "not a regular file".into()));
    }
    let (owner, me) = (meta.uid(), euid());
    if owner != me {
        return Err(refused(
            path,
            format!(
                "owned by uid {owner}, not by this process's user (uid {me}); elect trusts only \
                 its own files: remove it"
            ),
        ));
    }
    Ok(file)
}
