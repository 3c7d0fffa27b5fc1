//! Helpers of the Redis tests: a real server (`elect_testkit::Server`) with `redis-cli` for
//! direct access, and a child process that campaigns in an election of its own, for the faults
//! that need another process (SIGKILL, SIGSTOP).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use elect_testkit::Store;

pub mod child;

/// A redis-server of this test, on a random loopback port. Stopped when dropped.
pub struct Server {
    pub name: String,
    /// The connection string without options (a TLS server's CA is in `tls_ca`).
    pub uri: String,
    pub port: u16,
    pub tls_ca: Option<String>,
    server: elect_testkit::Server,
}

impl Server {
    pub fn start(tag: &str, extra: &[&str]) -> Server {
        let server = elect_testkit::Server::launch(Store::Redis, tag, "start", extra);
        let uri = server.uri();
        Server {
            name: server.name.clone(),
            uri: uri.split('?').next().unwrap().to_string(),
            port: server.var("ELECT_REDIS_PORT").parse().unwrap(),
            tls_ca: server.try_var("ELECT_REDIS_TLS_CA"),
            server,
        }
    }

    /// Stops and starts the server on the same port; every key is lost, unless it was started
    /// with persistence arguments (then it reloads its snapshot).
    pub fn restart(&self) {
        self.server.restart();
    }

    pub fn pid(&self) -> u32 {
        self.server.pid()
    }

    /// `redis-cli` against this server; returns its output.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("run redis-cli");
        assert!(out.status.success(), "redis-cli {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// How many scripts (EVAL and EVALSHA) the server has run since it started.
    pub fn script_calls(&self) -> u64 {
        self.cli(&["INFO", "commandstats"])
            .lines()
            .filter(|l| l.starts_with("cmdstat_evalsha:") || l.starts_with("cmdstat_eval:"))
            .filter_map(|l| {
                l.split("calls=")
                    .nth(1)?
                    .split(',')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum()
    }

    /// Writes `token` to a fenced resource (a key that only accepts tokens at least as high as
    /// the highest it has seen), the way a leader's storage would. True if accepted.
    pub fn fenced_write(&self, resource: &str, token: u64) -> bool {
        const FENCE: &str = "local cur = tonumber(redis.call('GET', KEYS[1]) or '0') \
             if tonumber(ARGV[1]) >= cur then redis.call('SET', KEYS[1], ARGV[1]) return 1 end \
             return 0";
        self.cli(&["EVAL", FENCE, "1", resource, &token.to_string()])
            .trim()
            .ends_with('1')
    }
}

/// Another process campaigning in an election, driven over the agent line protocol.
pub struct Agent {
    child: Child,
    stdin: ChildStdin,
    /// Reply lines (`ok ...`, `err ...`) and event lines (`event ...`), in order.
    lines: Receiver<String>,
    pub events: Vec<String>,
}

impl Agent {
    /// Starts this test binary again as the child agent (see `child::child_agent`).
    pub fn spawn() -> Agent {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "child_agent",
                "--exact",
                "--nocapture",
                "-q",
                "--test-threads=1",
            ])
            .env(child::ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
                // The test harness prints its banner first; the protocol's lines are these.
                let ours = ["ok", "err ", "event "].iter().any(|p| line.starts_with(p));
                if ours && tx.send(line).is_err() {
                    return;
                }
            }
        });
        Agent {
            child,
            stdin,
            lines,
            events: Vec::new(),
        }
    }

    /// A child that opened election `job` on `uri` as `child` with `opts`, campaigned and was
    /// elected; with the term of that leadership.
    pub fn leading(uri: &str, opts: &str) -> (Agent, u64) {
        let mut child = Agent::spawn();
        assert_eq!(child.ask(&format!("open {uri}?id=child&{opts} job")), "ok");
        assert_eq!(child.ask("start"), "ok");
        let elected = child.wait_event("event elected", Duration::from_secs(15));
        let term = elected.rsplit(' ').next().unwrap().parse().unwrap();
        (child, term)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends one request and returns its reply (events seen meanwhile are kept in `events`).
    pub fn ask(&mut self, request: &str) -> String {
        writeln!(self.stdin, "{request}").unwrap();
        self.stdin.flush().unwrap();
        loop {
            let line = self.next_line(Duration::from_secs(20));
            if line.starts_with("event ") {
                self.events.push(line);
            } else {
                return line;
            }
        }
    }

    /// Waits for an event line starting with `prefix` (seen before or arriving now).
    pub fn wait_event(&mut self, prefix: &str, within: Duration) -> String {
        if let Some(e) = self.events.iter().find(|e| e.starts_with(prefix)) {
            return e.clone();
        }
        let end = Instant::now() + within;
        loop {
            let line = self.next_line(end.saturating_duration_since(Instant::now()));
            if line.starts_with("event ") {
                self.events.push(line.clone());
                if line.starts_with(prefix) {
                    return line;
                }
            }
        }
    }

    fn next_line(&self, within: Duration) -> String {
        self.lines
            .recv_timeout(within)
            .expect("the agent answered in time")
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
