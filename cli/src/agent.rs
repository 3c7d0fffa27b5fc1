//! `elect agent`: the Rust scenario agent. The orchestrator of `tests/scenarios/` (and the demo
//! and the benchmarks) drive one election through it, one request line on stdin, one reply line
//! on stdout, with events written whenever they happen:
//!
//! ```text
//! requests: open <uri> <name> | start | observe | is_leader | token | wait_leader <timeout_ms>
//!           | resign | proclaim <value> | leader | members | work <host:port> <interval_ms> <label>
//!           | close | quit | group <uri> <name> <shards> <cap|-> | leading
//! replies:  ok | ok true|false | ok <n> | ok <id> <term> | ok - | ok <id>,<id>,...
//!           | err <code_name> <message>
//! events:   event elected <term> | event revoked <term> <reason>
//!           | event leader <id> <term> [<value>] (the value when not empty) | event leader -
//!           | event error <message> | event member_joined <id> [<value>]
//!           | event member_left <id> [<value>]
//!           | event sample <true|false> <token> <t0_ns> <t1_ns>
//!           | event write <token> <ok|stale|error> <t0_ns> <t1_ns>
//!           | event shard <i> <event> | event shard <i> began|ended <token> <ns>
//!             (a group's shard, see agent/group.rs)
//! ```
//!
//! Lines are written under one lock and flushed one by one, so replies and events never
//! interleave within a line. `quit` and the end of stdin close the election and exit 0.
//! With the hidden flag `--stamp` each event line ends with ` @<ns>`, the `CLOCK_MONOTONIC` time
//! at which the event was delivered, so that a driver can measure failover across processes.

use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod group;
mod work;

use elect_core::{Election, Error, ErrorCode, Event};

use crate::clock;

/// Runs the agent on stdin/stdout until `quit` or the end of stdin. Returns the exit code.
pub fn main(stamp: bool) -> i32 {
    let out = Arc::new(Output { stamp });
    let mut agent = Agent {
        out: out.clone(),
        election: None,
        group: None,
    };
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let reply = agent.handle(line);
        out.line(&reply);
        if line == "quit" {
            return 0;
        }
    }
    agent.close();
    0
}

/// Serialized, flushed, one-line writes to stdout.
struct Output {
    stamp: bool,
}

static STDOUT: Mutex<()> = Mutex::new(());

impl Output {
    fn line(&self, text: &str) {
        let text = text.replace(['\n', '\r'], " ");
        let _guard = STDOUT.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = std::io::stdout().lock();
        // A closed stdout means the driver is gone; stdin's end then stops the agent.
        let _ = writeln!(out, "{text}").and_then(|()| out.flush());
    }

    fn event(&self, ev: &Event) {
        self.event_text(&event_line(ev));
    }

    /// An event line, stamped when asked to.
    fn event_text(&self, text: &str) {
        let at = clock::monotonic_ns();
        if self.stamp {
            self.line(&format!("{text} @{at}"));
        } else {
            self.line(text);
        }
    }
}

/// The protocol's line for an event.
pub fn event_line(ev: &Event) -> String {
    match ev {
        Event::Elected { term } => format!("event elected {term}"),
        Event::Revoked { term, reason } => format!("event revoked {term} {reason}"),
        Event::LeaderChanged { leader: Some(l) } if l.value.is_empty() => {
            format!("event leader {} {}", l.id, l.term)
        }
        Event::LeaderChanged { leader: Some(l) } => {
            format!("event leader {} {} {}", l.id, l.term, l.value)
        }
        Event::LeaderChanged { leader: None } => "event leader -".to_string(),
        Event::Error { message } => format!("event error {message}"),
        Event::MemberJoined { member } => member_line("member_joined", member),
        Event::MemberLeft { member } => member_line("member_left", member),
    }
}

/// `event member_joined <id> [<value>]`, the value when it is not empty.
fn member_line(kind: &str, m: &elect_core::Member) -> String {
    if m.value.is_empty() {
        format!("event {kind} {}", m.id)
    } else {
        format!("event {kind} {} {}", m.id, m.value)
    }
}

struct Agent {
    out: Arc<Output>,
    election: Option<Arc<Election>>,
    group: Option<group::Sampled>,
}

fn err(e: &Error) -> String {
    format!("err {} {}", e.code().name(), e.message())
}

fn invalid(message: String) -> String {
    err(&Error::invalid(message))
}

impl Agent {
    /// Answers one request line.
    fn handle(&mut self, line: &str) -> String {
        let words: Vec<&str> = line.split(' ').collect();
        let (command, args) = (words[0], &words[1..]);
        let expected = match command {
            "open" => 2,
            "wait_leader" | "proclaim" | "hand_over" => 1,
            "work" => 3,
            "group" => 4,
            "leading" => 0,
            "start" | "observe" | "is_leader" | "token" | "resign" | "leader" | "members"
            | "close" | "quit" => 0,
            _ => return invalid(format!("request `{command}`: unknown (expected open, start, observe, is_leader, token, wait_leader, resign, proclaim, hand_over, leader, members, work, group, leading, close or quit)")),
        };
        if args.len() != expected {
            return invalid(format!(
                "request `{command}`: expected {expected} argument(s), got {}",
                args.len()
            ));
        }
        match command {
            "open" => self.open(args[0], args[1]),
            "group" if self.group.is_some() => err(&Error::new(
                ErrorCode::WrongState,
                "request `group`: a group is open",
            )),
            "group" => match group::open(&self.out, args) {
                Ok(g) => {
                    self.group = Some(g);
                    "ok".to_string()
                }
                Err(e) => e,
            },
            "leading" => group::leading(self.group.as_ref()),
            "quit" => {
                self.close();
                "ok".to_string()
            }
            _ => match self.election.as_ref() {
                None => err(&Error::new(
                    ErrorCode::WrongState,
                    format!("request `{command}`: no election; send `open <uri> <name>` first"),
                )),
                Some(e) if command == "work" => work::start(e, &self.out, args),
                Some(e) => call(e, command, args),
            },
        }
    }

    fn open(&mut self, uri: &str, name: &str) -> String {
        if self
            .election
            .as_ref()
            .is_some_and(|e| e.state() != elect_core::State::Closed)
        {
            return err(&Error::new(
                ErrorCode::WrongState,
                "request `open`: an election is open; send `close` first",
            ));
        }
        let out = self.out.clone();
        let handler = Box::new(move |ev: &Event| out.event(ev));
        match Election::open(uri, name, Some(handler)) {
            Ok(e) => {
                self.election = Some(Arc::new(e));
                "ok".to_string()
            }
            Err(e) => err(&e),
        }
    }

    fn close(&mut self) {
        if let Some(e) = self.election.take() {
            e.close();
        }
        if let Some(g) = self.group.take() {
            g.close();
        }
    }
}

/// Calls the election for the requests that need one.
fn call(e: &Election, command: &str, args: &[&str]) -> String {
    let done = |r: elect_core::Result<()>| r.map_or_else(|e| err(&e), |()| "ok".to_string());
    match command {
        "start" => done(e.start()),
        "observe" => done(e.observe()),
        "resign" => done(e.resign()),
        "proclaim" => done(e.proclaim(args[0])),
        "hand_over" => done(e.hand_over_to(args[0])),
        "close" => {
            e.close();
            "ok".to_string()
        }
        "is_leader" => format!("ok {}", e.is_leader()),
        "token" => format!("ok {}", e.fencing_token().unwrap_or(0)),
        "wait_leader" => {
            let Ok(ms) = args[0].parse::<i64>() else {
                return invalid(format!(
                    "wait_leader: timeout `{}` is not a whole number of milliseconds",
                    args[0]
                ));
            };
            let timeout = u64::try_from(ms).ok().map(Duration::from_millis);
            e.wait_leader(timeout)
                .map_or_else(|e| err(&e), |led| format!("ok {led}"))
        }
        "leader" => match e.leader() {
            Ok(Some(l)) => format!("ok {} {}", l.id, l.term),
            Ok(None) => "ok -".to_string(),
            Err(e) => err(&e),
        },
        "members" => match e.members() {
            Ok(m) => {
                // `ok ` and an empty list when there are none (tests/scenarios/README.md).
                let ids: Vec<&str> = m.iter().map(|m| m.id.as_str()).collect();
                format!("ok {}", ids.join(","))
            }
            Err(e) => err(&e),
        },
        _ => unreachable!("checked in handle"),
    }
}
