//! A file-store observer whose inotify queue overflows still learns of the change it missed.
//!
//! The kernel queues at most `fs.inotify.max_queued_events` events per watcher, then drops the
//! rest and queues one `IN_Q_OVERFLOW`. Here the observer's queue is filled for real: both
//! worker threads of the library's runtime are held busy, so that nobody reads it, while the
//! test creates more files in the election's directory than the queue holds. The leader (a
//! process of its own) is then killed: the events of its death are dropped, and only the
//! overflow tells the observer to look again.

use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::{Duration, Instant};

use elect_core::{Election, Event};

const WAIT: Duration = Duration::from_secs(20);
const DIR_VAR: &str = "ELECT_OVERFLOW_TEST_DIR";

/// The leader, run as a process of its own (this test binary again, see `leader_process`).
struct Leader(Child);

impl Drop for Leader {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The election's directory, removed when the test ends, passed or failed.
struct Dir(std::path::PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Not a test by itself: the body of the leader process, started by the test below.
#[test]
#[ignore = "run by an_overflowed_observer_reads_the_record_again as its leader process"]
fn leader_process() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        return;
    };
    let e = Election::open(&format!("file://{dir}?id=leader&ttl=3s"), "job", None).unwrap();
    e.start().unwrap();
    assert!(e.wait_leader(Some(WAIT)).unwrap(), "did not lead");
    println!("leading");
    // Lead until killed.
    let _ = std::io::stdin().read_line(&mut String::new());
}

fn leader(dir: &std::path::Path) -> Leader {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "leader_process",
            "--ignored",
            "--nocapture",
            "--quiet",
        ])
        .env(DIR_VAR, dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let leader = Leader(child);
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(out));
    assert!(
        lines.any(|l| l.is_ok_and(|l| l == "leading")),
        "the leader process did not lead"
    );
    leader
}

/// The next `LeaderChanged`, skipping other events.
fn next_leader(rx: &Receiver<Event>) -> Option<String> {
    let end = Instant::now() + WAIT;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Event::LeaderChanged { leader }) => return leader.map(|l| l.id),
            Ok(_) => continue,
            Err(_) => panic!("no leader change within {WAIT:?}"),
        }
    }
}

/// Holds both worker threads of the library's runtime until the returned sender is dropped.
fn hold_runtime() -> Sender<()> {
    let (release, released) = channel::<()>();
    let released = std::sync::Arc::new(std::sync::Mutex::new(released));
    let (held, all_held) = channel();
    for _ in 0..2 {
        let (released, held) = (released.clone(), held.clone());
        elect_core::runtime::handle().spawn(async move {
            held.send(()).unwrap();
            // Blocks this worker on purpose (no await): nothing else may run on it.
            let _ = released.lock().map(|r| r.recv());
        });
    }
    for _ in 0..2 {
        all_held
            .recv_timeout(WAIT)
            .expect("a worker thread was not held");
    }
    release
}

#[test]
fn an_overflowed_observer_reads_the_record_again() {
    let dir = Dir(std::env::temp_dir().join(format!("elect-overflow-{}", std::process::id())));
    let dir = &dir.0;
    std::fs::create_dir_all(dir).unwrap();
    let leader = leader(dir);

    let (tx, rx) = channel();
    let tx = std::sync::Mutex::new(tx);
    let handler = Box::new(move |ev: &Event| {
        let _ = tx.lock().unwrap().send(ev.clone());
    });
    let uri = format!("file://{}?id=observer", dir.display());
    let observer = Election::open(&uri, "job", Some(handler)).unwrap();
    observer.observe().unwrap();
    assert_eq!(next_leader(&rx).as_deref(), Some("leader"));

    let release = hold_runtime();
    let queue: usize = std::fs::read_to_string("/proc/sys/fs/inotify/max_queued_events")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    for i in 0..queue + 16 {
        // Each name is new, so the kernel cannot merge the events (it merges only repeats).
        std::fs::File::create(dir.join(format!("flood-{i}"))).unwrap();
    }
    let mut leader = leader;
    leader.0.kill().unwrap();
    leader.0.wait().unwrap(); // its files are closed and its lock released by now
    drop(release);

    assert_eq!(
        next_leader(&rx),
        None,
        "the observer missed the leader's death hidden by the overflow"
    );
    observer.close();
}
