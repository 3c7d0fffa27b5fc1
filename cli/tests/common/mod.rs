//! Helpers for the integration tests: the built `elect` binary as a child process whose stdout
//! lines arrive on a channel (so tests await output instead of sleeping), and temporary
//! directories. Every child is killed and reaped on drop, also when a test fails.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(20);

pub fn elect() -> Command {
    Command::new(env!("CARGO_BIN_EXE_elect"))
}

pub fn unique() -> String {
    use std::hash::{BuildHasher, Hasher};
    let r = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{}-{r:x}", std::process::id())
}

/// A temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let d = std::env::temp_dir().join(format!("elect-cli-test-{}", unique()));
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
    /// `file://<dir>` plus `query` (e.g. `?ttl=1s`).
    pub fn uri(&self, query: &str) -> String {
        format!("file://{}{query}", self.0.display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `elect` with its stdout lines on a channel and its stderr collected.
pub struct Proc {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<(Mutex<String>, Condvar)>,
}

impl Proc {
    pub fn spawn(args: &[&str]) -> Proc {
        Proc::spawn_cmd(elect().args(args))
    }

    pub fn spawn_cmd(cmd: &mut Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start elect");
        let (tx, lines) = channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new((Mutex::new(String::new()), Condvar::new()));
        let sink = stderr.clone();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                let mut s = sink.0.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
                sink.1.notify_all();
            }
        });
        let stdin = child.stdin.take();
        Proc {
            child,
            stdin,
            lines,
            stderr,
        }
    }

    /// The next stdout line; panics (with stderr) if none comes within `WAIT`.
    pub fn line(&self) -> String {
        match self.lines.recv_timeout(WAIT) {
            Ok(l) => l,
            Err(e) => panic!("no line from elect ({e:?}); stderr:\n{}", self.stderr()),
        }
    }

    /// Every stdout line that arrives within `d`.
    pub fn lines_within(&self, d: Duration) -> Vec<String> {
        let end = Instant::now() + d;
        let mut got = Vec::new();
        while let Ok(l) = self
            .lines
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            got.push(l);
        }
        got
    }

    /// The remaining stdout lines, until stdout ends (or `WAIT` passes).
    pub fn rest(&self) -> Vec<String> {
        self.lines_within(WAIT)
    }

    /// Whether stdout ends (every writer, CMD included, is gone) within `WAIT`, skipping lines.
    pub fn stdout_closes(&self) -> bool {
        let end = Instant::now() + WAIT;
        loop {
            match self
                .lines
                .recv_timeout(end.saturating_duration_since(Instant::now()))
            {
                Ok(_) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return true,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return false,
            }
        }
    }

    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    pub fn stderr(&self) -> String {
        self.stderr.0.lock().unwrap().clone()
    }

    /// Waits until stderr contains `needle` (it is read by a thread of its own, so it may lag
    /// behind stdout and the exit); panics with stderr if it does not within `WAIT`.
    pub fn await_stderr(&self, needle: &str) {
        let (text, changed) = &*self.stderr;
        let (text, timeout) = changed
            .wait_timeout_while(text.lock().unwrap(), WAIT, |t| !t.contains(needle))
            .unwrap();
        assert!(!timeout.timed_out(), "`{needle}` not in stderr:\n{}", *text);
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid; no memory involved.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Waits for the exit; panics if it takes longer than `WAIT`.
    pub fn wait(&mut self) -> ExitStatus {
        let end = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < end,
                "elect did not exit; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A shell job for `elect run` that reports on stdout when it starts (with the variables elect
/// sets) and when it gets SIGTERM, and otherwise runs until stopped.
pub const JOB: &str = r#"echo "started $ELECT_ID $ELECT_NAME $ELECT_TERM $ELECT_FENCING_TOKEN"; trap 'echo stopped; exit 0' TERM; while :; do sleep 0.02; done"#;
