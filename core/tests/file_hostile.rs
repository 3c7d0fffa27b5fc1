//! The file store in a directory another user may have prepared: planted symbolic links, files
//! and directories of another owner, a directory others can write to, a pre-created file elect
//! cannot use. Each is refused with an error naming the path and what is wrong, never followed,
//! and never a silent retry loop. The foreign-owner cases need root (to `chown`); the test suite
//! runs as root.

use elect_testkit::wait::{expect_within, open_recording};
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use elect_core::{Election, ErrorCode, Event};

/// A fresh directory of ours (0700), removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("elect-hostile-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir(&d).unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o700)).unwrap();
        Dir(d)
    }
    fn uri(&self) -> String {
        format!("file://{}?ttl=2s&renew=500ms&retry=100ms", self.0.display())
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `nobody`: another user.
const NOBODY: u32 = 65534;

fn chown_nobody(path: &Path) {
    std::os::unix::fs::lchown(path, Some(NOBODY), Some(NOBODY)).unwrap();
}

/// Starts a candidate and returns the message of its first error event.
fn first_error(dir: &Dir) -> (Election, Receiver<Event>, String) {
    let (e, rx) = open_recording(&dir.uri(), "job");
    e.start().unwrap();
    let ev = expect_within(&rx, Duration::from_secs(10), |ev| {
        matches!(ev, Event::Error { .. } | Event::Elected { .. })
    });
    let Event::Error { message } = ev else {
        panic!("elected despite the planted file: {ev:?}");
    };
    (e, rx, message)
}

fn assert_names(message: &str, path: &Path, what: &str) {
    assert!(
        message.contains(&path.display().to_string()) && message.contains(what),
        "expected `{}` and `{what}` in: {message}",
        path.display()
    );
}

#[test]
fn planted_symlinks_are_refused_not_followed() {
    for planted in ["job.leader", "job.lock", "job.ceiling"] {
        let dir = Dir::new("link");
        let victim = dir.path("victim");
        fs::write(&victim, "precious\n").unwrap();
        symlink(&victim, dir.path(planted)).unwrap();
        let (e, _rx, message) = first_error(&dir);
        assert_names(&message, &dir.path(planted), "symbolic link");
        assert!(!e.is_leader());
        e.close();
        assert_eq!(
            fs::read_to_string(&victim).unwrap(),
            "precious\n",
            "{planted}"
        );
    }
}

#[test]
fn a_refused_file_backs_off_instead_of_a_retry_storm() {
    let dir = Dir::new("storm");
    symlink("/nonexistent", dir.path("job.lock")).unwrap();
    let (e, rx, _) = first_error(&dir);
    let end = Instant::now() + Duration::from_secs(2);
    let mut errors = 1;
    while let Ok(ev) = rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
        errors += matches!(ev, Event::Error { .. }) as u32;
    }
    e.close();
    // retry=100ms, doubled per failure for a permission error: at most 5 attempts in 2 s
    // (20 without the backoff).
    assert!(errors <= 6, "{errors} error events in 2 s");
}

#[test]
fn files_of_another_user_are_refused() {
    if !is_root() {
        eprintln!("not root: cannot chown; the foreign-owner case is left out");
        return;
    }
    for planted in ["job.leader", "job.lock"] {
        let dir = Dir::new("foreign-file");
        fs::write(dir.path(planted), "").unwrap();
        chown_nobody(&dir.path(planted));
        let (e, _rx, message) = first_error(&dir);
        assert_names(&message, &dir.path(planted), "owned by uid 65534");
        e.close();
    }
}

#[test]
fn a_directory_of_another_user_is_refused() {
    if !is_root() {
        eprintln!("not root: cannot chown; the foreign-owner case is left out");
        return;
    }
    let dir = Dir::new("foreign-dir");
    chown_nobody(&dir.0);
    let err = Election::open(&dir.uri(), "job", None).expect_err("opened");
    assert_eq!(err.code(), ErrorCode::Permission, "{err}");
    assert_names(err.message(), &dir.0, "owned by uid 65534");
}

#[test]
fn a_directory_others_can_write_to_is_refused_unless_sticky() {
    let dir = Dir::new("world");
    fs::set_permissions(&dir.0, fs::Permissions::from_mode(0o777)).unwrap();
    let err = Election::open(&dir.uri(), "job", None).expect_err("opened");
    assert_eq!(err.code(), ErrorCode::Permission, "{err}");
    assert_names(err.message(), &dir.0, "writable by other users (mode 777)");

    // Sticky, like /tmp: others may add files but not replace ours, so it is accepted, and
    // what elect creates there is for its own user only.
    fs::set_permissions(&dir.0, fs::Permissions::from_mode(0o1777)).unwrap();
    let (e, rx) = open_recording(&dir.uri(), "job");
    e.start().unwrap();
    expect_within(&rx, Duration::from_secs(10), |ev| {
        matches!(ev, Event::Elected { .. })
    });
    for f in ["job.lock", "job.leader", "job.members"] {
        let mode = fs::metadata(dir.path(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{f}: mode {mode:o}");
    }
    e.close();
}

#[test]
fn a_pre_created_file_elect_cannot_use_is_a_clear_error() {
    // A directory where the lock file goes, and a FIFO where the record goes (opening a FIFO
    // would block forever without O_NONBLOCK).
    let dir = Dir::new("unusable");
    fs::create_dir(dir.path("job.lock")).unwrap();
    let (e, _rx, message) = first_error(&dir);
    assert_names(&message, &dir.path("job.lock"), "");
    e.close();

    let dir = Dir::new("fifo");
    let status = Command::new("mkfifo")
        .arg(dir.path("job.leader"))
        .status()
        .unwrap();
    assert!(status.success());
    let (e, _rx, message) = first_error(&dir);
    assert_names(&message, &dir.path("job.leader"), "not a regular file");
    e.close();
}

#[test]
fn an_oversized_record_is_refused_not_read_into_memory() {
    let dir = Dir::new("big");
    let f = fs::File::create(dir.path("job.leader")).unwrap();
    f.set_len(1 << 30).unwrap(); // sparse: 1 GiB that takes no disk
    let (e, _rx, message) = first_error(&dir);
    assert_names(&message, &dir.path("job.leader"), "larger than");
    e.close();
}
