//! Drives several agent processes (`elect agent --stamp`) as candidates of one election: the
//! demo, the failover benchmarks and the store-contract tests all use it, so all measure the
//! same thing in the same way.
//!
//! Each agent runs in a process group of its own; it exits when its stdin closes (the driver
//! is gone), and [`Fleet::tie`] can make it die with the driver too. A reader thread per
//! agent sends replies to that agent's own queue and events, with the agent's `CLOCK_MONOTONIC`
//! stamp, to one queue for the whole fleet, so the driver sees all events in arrival order.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::{Duration, Instant};

use crate::clock;

/// How long an agent may take to answer a request. Requests that wait on a store are bounded
/// by its `connect_timeout`, far below this.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// An event of one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentEvent {
    Elected(u64),
    Revoked(u64, String),
    Leader(Option<(String, u64)>),
    Error(String),
    /// An event of one shard of the agent's group (`event shard <i> <event>`).
    Shard(usize, Box<AgentEvent>),
    /// A group agent's sampler: it believed it led with `term` from `at_ns` (`began`) or until
    /// `at_ns` (`ended`, the start of the last true sample), `CLOCK_MONOTONIC`.
    Sampled {
        began: bool,
        term: u64,
        at_ns: u64,
    },
    /// The agent's stdout ended: it exited.
    Gone,
    /// The driver was asked to stop (a signal forwarded with [`Fleet::interrupter`]).
    Interrupted,
}

#[derive(Debug, Clone)]
pub struct Note {
    /// Index of the agent in the fleet.
    pub member: usize,
    pub event: AgentEvent,
    /// `CLOCK_MONOTONIC` nanoseconds at which the agent delivered the event.
    pub at_ns: u64,
}

struct Member {
    id: String,
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<String>,
    alive: bool,
}

pub struct Fleet {
    program: PathBuf,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    tie: fn(&mut Command),
    members: Vec<Member>,
    /// Who each agent last reported as the leader (events may arrive before anyone waits).
    views: Vec<Option<String>>,
    tx: Sender<Note>,
    rx: Receiver<Note>,
}

pub type Result<T> = std::result::Result<T, String>;

/// The error of a wait cut short by [`Fleet::interrupter`].
pub const INTERRUPTED: &str = "interrupted";

impl Fleet {
    /// A fleet whose agents run `program args...` (which must speak the agent protocol with
    /// stamps, e.g. `elect agent --stamp`).
    pub fn new(program: PathBuf, args: Vec<String>) -> Fleet {
        let (tx, rx) = channel();
        Fleet {
            program,
            args,
            envs: Vec::new(),
            tie: |_| {},
            members: Vec::new(),
            views: Vec::new(),
            tx,
            rx,
        }
    }

    /// Runs `prepare` on every agent's command before it starts (the CLI makes its agents die
    /// with it).
    pub fn tie(mut self, prepare: fn(&mut Command)) -> Fleet {
        self.tie = prepare;
        self
    }

    /// Sets an environment variable of every agent started from now on.
    pub fn env(mut self, key: &str, value: &str) -> Fleet {
        self.envs.push((key.to_string(), value.to_string()));
        self
    }

    /// A function that makes the next [`Fleet::next`] return [`AgentEvent::Interrupted`].
    pub fn interrupter(&self) -> impl Fn() + Send + 'static {
        let tx = self.tx.clone();
        move || {
            let _ = tx.send(Note {
                member: usize::MAX,
                event: AgentEvent::Interrupted,
                at_ns: clock::monotonic_ns(),
            });
        }
    }

    /// Starts an agent, opens the election `name` on `uri` in it and starts campaigning.
    /// Returns the agent's index.
    pub fn join(&mut self, uri: &str, name: &str, id: &str) -> Result<usize> {
        let index = self.launch(id)?;
        self.request(index, &format!("open {} {name}", with_id(uri, id)))?;
        self.request(index, "start")?;
        Ok(index)
    }

    /// Starts an agent that joins group `name` of `shards` elections on `uri` with candidate
    /// id `id` and at most `cap` leaderships (see `elect agent`'s `group` request). Returns the
    /// agent's index.
    pub fn join_group(
        &mut self,
        uri: &str,
        name: &str,
        id: &str,
        shards: usize,
        cap: Option<usize>,
    ) -> Result<usize> {
        let index = self.launch(id)?;
        let cap = cap.map_or("-".to_string(), |c| c.to_string());
        self.request(
            index,
            &format!("group {} {name} {shards} {cap}", with_id(uri, id)),
        )?;
        Ok(index)
    }

    /// Starts an agent process that has not opened anything yet; returns its index.
    pub fn launch(&mut self, id: &str) -> Result<usize> {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0);
        (self.tie)(&mut cmd);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
        let (stdin, stdout) = match (child.stdin.take(), child.stdout.take()) {
            (Some(i), Some(o)) => (i, o),
            _ => return Err("agent started without pipes".into()),
        };
        let index = self.members.len();
        let (reply_tx, replies) = channel();
        let events = self.tx.clone();
        std::thread::Builder::new()
            .name(format!("fleet-{index}"))
            .spawn(move || read_agent(index, BufReader::new(stdout), reply_tx, events))
            .map_err(|e| format!("cannot start a reader thread: {e}"))?;
        self.members.push(Member {
            id: id.to_string(),
            child,
            stdin,
            replies,
            alive: true,
        });
        self.views.push(None);
        Ok(index)
    }

    /// Sends one request and returns the text after `ok` (`Err` with the agent's `err` line).
    pub fn request(&mut self, member: usize, line: &str) -> Result<String> {
        let m = &mut self.members[member];
        writeln!(m.stdin, "{line}")
            .and_then(|()| m.stdin.flush())
            .map_err(|e| format!("{}: cannot send `{line}`: {e}", m.id))?;
        let reply = m
            .replies
            .recv_timeout(REPLY_TIMEOUT)
            .map_err(|_| format!("{}: no answer to `{line}`", m.id))?;
        match reply.strip_prefix("ok") {
            Some(rest) => Ok(rest.trim_start().to_string()),
            None => Err(format!("{}: `{line}` failed: {reply}", m.id)),
        }
    }

    /// Sends `resign` to the agent and returns the `CLOCK_MONOTONIC` time just before.
    pub fn resign(&mut self, member: usize) -> Result<u64> {
        let at = clock::monotonic_ns();
        self.request(member, "resign")?;
        Ok(at)
    }

    /// SIGKILLs the agent and returns the `CLOCK_MONOTONIC` time just before.
    pub fn kill(&mut self, member: usize) -> u64 {
        let m = &mut self.members[member];
        let at = clock::monotonic_ns();
        let _ = m.child.kill();
        let _ = m.child.wait();
        m.alive = false;
        at
    }

    /// Sends `sig` (`STOP`, `CONT`, ...) to the agent.
    pub fn signal(&self, member: usize, sig: &str) -> Result<()> {
        let pid = self.pid(member).to_string();
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &pid])
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(())
            .ok_or_else(|| format!("kill -{sig} {pid} failed"))
    }

    /// Waits for the next note that `pred` accepts, dropping the others.
    pub fn wait_for(&mut self, timeout: Duration, pred: impl Fn(&Note) -> bool) -> Result<Note> {
        let end = Instant::now() + timeout;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let note = self
                .next(left)
                .ok_or_else(|| format!("no awaited event within {timeout:?}"))?;
            if note.event == AgentEvent::Interrupted {
                return Err(INTERRUPTED.into());
            }
            if pred(&note) {
                return Ok(note);
            }
        }
    }

    pub fn id(&self, member: usize) -> &str {
        &self.members[member].id
    }

    pub fn pid(&self, member: usize) -> u32 {
        self.members[member].child.id()
    }

    /// The next event of any agent, or `None` after `timeout`.
    pub fn next(&mut self, timeout: Duration) -> Option<Note> {
        let note = self.rx.recv_timeout(timeout).ok()?;
        if let (AgentEvent::Leader(l), Some(view)) = (&note.event, self.views.get_mut(note.member))
        {
            *view = l.as_ref().map(|(id, _)| id.clone());
        }
        Some(note)
    }

    /// Waits until an agent other than `except` is elected; returns it and the event.
    /// Events of other kinds are passed to `seen` with the agent's id (the demo prints some).
    pub fn wait_elected(
        &mut self,
        except: Option<usize>,
        timeout: Duration,
        mut seen: impl FnMut(&str, &Note),
    ) -> Result<(usize, u64, u64)> {
        let end = Instant::now() + timeout;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let note = self
                .next(left)
                .ok_or_else(|| format!("no new leader within {timeout:?}"))?;
            match note.event {
                AgentEvent::Interrupted => return Err(INTERRUPTED.into()),
                AgentEvent::Elected(term) if Some(note.member) != except => {
                    return Ok((note.member, term, note.at_ns))
                }
                _ => {
                    let id = self.members.get(note.member).map_or("?", |m| m.id.as_str());
                    seen(id, &note)
                }
            }
        }
    }

    /// Waits until every live agent in `members` has reported `leader` as the leader.
    pub fn wait_seen(&mut self, members: &[usize], leader: &str, timeout: Duration) -> Result<()> {
        let end = Instant::now() + timeout;
        let agrees = |f: &Fleet| {
            members
                .iter()
                .all(|m| f.views[*m].as_deref() == Some(leader))
        };
        while !agrees(self) {
            let left = end.saturating_duration_since(Instant::now());
            let note = self.next(left).ok_or_else(|| {
                format!("not every candidate saw `{leader}` lead within {timeout:?}")
            })?;
            if note.event == AgentEvent::Interrupted {
                return Err(INTERRUPTED.into());
            }
        }
        Ok(())
    }

    /// Closes every live agent (`quit`: resign and leave), killing those that do not exit.
    pub fn shutdown(&mut self) {
        for i in 0..self.members.len() {
            if !self.members[i].alive {
                continue;
            }
            let _ = writeln!(self.members[i].stdin, "quit");
            let _ = self.members[i].stdin.flush();
        }
        let end = Instant::now() + Duration::from_secs(10);
        for m in self.members.iter_mut().filter(|m| m.alive) {
            loop {
                match m.child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() >= end => {
                        let _ = m.child.kill();
                        let _ = m.child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            m.alive = false;
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// `uri` with `id=<id>` added to its query (a later option overrides an earlier one).
pub fn with_id(uri: &str, id: &str) -> String {
    with_option(uri, "id", id)
}

/// `uri` with `key=value` added to its query.
pub fn with_option(uri: &str, key: &str, value: &str) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{key}={value}")
}

fn read_agent(member: usize, stdout: impl BufRead, replies: Sender<String>, events: Sender<Note>) {
    for line in stdout.lines() {
        let Ok(line) = line else { break };
        match line.strip_prefix("event ") {
            // A test binary re-executed as the agent prints libtest's banner first.
            None if !(line.starts_with("ok") || line.starts_with("err ")) => {}
            Some(rest) => {
                let (event, at_ns) = parse_event(rest);
                let _ = events.send(Note {
                    member,
                    event,
                    at_ns,
                });
            }
            None => {
                let _ = replies.send(line);
            }
        }
    }
    let _ = events.send(Note {
        member,
        event: AgentEvent::Gone,
        at_ns: clock::monotonic_ns(),
    });
}

/// Parses `<kind> <args...> @<ns>` (the text after `event `).
fn parse_event(rest: &str) -> (AgentEvent, u64) {
    let (body, at_ns) = match rest.rsplit_once(" @") {
        Some((body, ns)) => match ns.parse() {
            Ok(ns) => (body, ns),
            Err(_) => (rest, clock::monotonic_ns()),
        },
        None => (rest, clock::monotonic_ns()),
    };
    (parse_body(body), at_ns)
}

/// Parses an event line's body, `<kind> <args...>`.
fn parse_body(body: &str) -> AgentEvent {
    let words: Vec<&str> = body.split(' ').collect();
    if let (["shard", shard, ..], Some((_, rest))) = (&words[..], body.split_once(' ')) {
        if let (Ok(shard), Some((_, inner))) = (shard.parse(), rest.split_once(' ')) {
            return AgentEvent::Shard(shard, Box::new(parse_body(inner)));
        }
    }
    let term = |i: usize| words.get(i).and_then(|t| t.parse::<u64>().ok());
    match (words[0], term(1)) {
        ("elected", Some(t)) => AgentEvent::Elected(t),
        ("began" | "ended", Some(t)) if term(2).is_some() => AgentEvent::Sampled {
            began: words[0] == "began",
            term: t,
            at_ns: term(2).unwrap_or_default(),
        },
        ("revoked", Some(t)) => AgentEvent::Revoked(t, words.get(2).unwrap_or(&"").to_string()),
        ("leader", _) if words.get(1) == Some(&"-") => AgentEvent::Leader(None),
        ("leader", _) => match (words.get(1), term(2)) {
            (Some(id), Some(t)) => AgentEvent::Leader(Some((id.to_string(), t))),
            _ => AgentEvent::Error(format!("unreadable event: {body}")),
        },
        _ => AgentEvent::Error(body.strip_prefix("error ").unwrap_or(body).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stamped_events() {
        assert_eq!(parse_event("elected 3 @42"), (AgentEvent::Elected(3), 42));
        assert_eq!(
            parse_event("revoked 3 resigned @7"),
            (AgentEvent::Revoked(3, "resigned".into()), 7)
        );
        assert_eq!(
            parse_event("leader node-1 4 @9"),
            (AgentEvent::Leader(Some(("node-1".into(), 4))), 9)
        );
        assert_eq!(parse_event("leader - @1"), (AgentEvent::Leader(None), 1));
        assert_eq!(
            parse_event("shard 11 elected 4 @3"),
            (AgentEvent::Shard(11, Box::new(AgentEvent::Elected(4))), 3)
        );
        let began = AgentEvent::Sampled {
            began: true,
            term: 4,
            at_ns: 77,
        };
        assert_eq!(
            parse_event("shard 2 began 4 77 @3"),
            (AgentEvent::Shard(2, Box::new(began)), 3)
        );
        assert_eq!(
            parse_event("error boom @ home @5"),
            (AgentEvent::Error("boom @ home".into()), 5)
        );
    }
}
