//! `elect demo`: the README's first command. Three candidate processes (this same binary, as
//! `elect agent --stamp`) compete on the embedded `file://` store in a temporary directory; the
//! demo SIGKILLs the leader, then has the next one resign, and shows each takeover with its
//! measured failover time and the fencing token of every term.
//!
//! Failover time = from just before the kill (or the resign request) to the moment the new
//! leader's process delivered its `Elected` event, both read on `CLOCK_MONOTONIC`, which all
//! processes of a machine share.

use std::path::PathBuf;
use std::time::Duration;

use elect_core::uri::Scheme;
use elect_core::Error;

use elect_testkit::fleet::{with_option, AgentEvent, Fleet, Note, INTERRUPTED};

use crate::child::detach_but_tie;
use crate::{clock, exit, options, signals};

const CANDIDATES: usize = 3;

pub fn main(uri: Option<String>, name: &str) -> i32 {
    let stop_signals = match signals::block() {
        Ok(s) => s,
        Err(e) => return exit::fail(&Error::internal(format!("cannot block signals: {e}"))),
    };
    let temp = match uri {
        Some(_) => None,
        None => match TempDir::new() {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("elect: cannot create a temporary directory: {e}");
                return exit::IOERR;
            }
        },
    };
    let uri = match (uri, &temp) {
        (Some(u), _) => u,
        (None, Some(t)) => format!("file://{}", t.0.display()),
        (None, None) => unreachable!("a temporary directory exists when no URI is given"),
    };
    let config = match options::config(&uri, name) {
        Ok(c) => c,
        Err(e) => return exit::fail(&e),
    };
    // A resigned leader stays out of the next election for a moment, so that the graceful
    // hand-over visibly goes to another process.
    let uri = if config.silence.is_zero() {
        with_option(&uri, "silence", "1s")
    } else {
        uri
    };
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("elect: cannot find my own executable: {e}");
            return exit::SOFTWARE;
        }
    };
    let mut fleet = Fleet::new(exe, vec!["agent".into(), "--stamp".into()]).tie(detach_but_tie);
    let interrupt = fleet.interrupter();
    signals::forward(stop_signals, move |_| interrupt());
    let show = Show {
        store: config.to_string(),
        name: name.to_string(),
        file: config.scheme == Scheme::File,
        // A crashed leader on a server store is replaced only when its lease expires.
        patience: config.ttl * 2 + Duration::from_secs(10),
    };
    let result = show.play(&mut fleet, &uri);
    fleet.shutdown();
    let cleaned = match &temp {
        Some(t) => format!(", removed {}", t.0.display()),
        None => String::new(),
    };
    drop(temp);
    match result {
        Ok(()) => {
            println!("\nDone: every candidate stopped{cleaned}.");
            exit::OK
        }
        Err(e) => {
            eprintln!("elect demo: {e} (stopped every candidate{cleaned})");
            if e == INTERRUPTED {
                exit::INTERRUPTED
            } else {
                exit::SOFTWARE
            }
        }
    }
}

/// A temporary directory for the file store, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let dir = std::env::temp_dir().join(format!(
            "elect-demo-{}-{}",
            std::process::id(),
            clock::monotonic_ns()
        ));
        std::fs::create_dir(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One leadership term as the demo saw it.
struct Term {
    leader: String,
    token: u64,
    ended_by: &'static str,
    failover_ns: Option<u64>,
}

struct Show {
    store: String,
    name: String,
    file: bool,
    patience: Duration,
}

impl Show {
    fn play(&self, fleet: &mut Fleet, uri: &str) -> Result<(), String> {
        println!(
            "elect demo: {CANDIDATES} processes compete to lead the election `{}` on {}.",
            self.name, self.store
        );
        println!(
            "Only the leader may do the job; it holds a fencing token that grows every term.\n"
        );
        for i in 1..=CANDIDATES {
            let m = fleet.join(uri, &self.name, &format!("node-{i}"))?;
            println!("  started candidate {} (pid {})", fleet.id(m), fleet.pid(m));
        }
        let all: Vec<usize> = (0..CANDIDATES).collect();
        let (first, token, _) = fleet.wait_elected(None, self.patience, |_, _| {})?;
        let first_id = fleet.id(first).to_string();
        fleet.wait_seen(&all, &first_id, self.patience)?;
        let members = fleet.request(first, "members")?;
        println!(
            "\n{} leads with fencing token {token}; every candidate sees it (members: {members}).",
            fleet.id(first)
        );
        let mut terms = vec![self.term(fleet, first, token)];

        println!(
            "\n1. Crash: SIGKILL the leader {} (pid {}), as if its machine lost power.",
            fleet.id(first),
            fleet.pid(first)
        );
        if !self.file {
            println!("   (on a server store the others must wait for its lease to expire)");
        }
        let killed_at = fleet.kill(first);
        let (second, token, at) = fleet.wait_elected(Some(first), self.patience, note)?;
        self.takeover(fleet, &mut terms, "SIGKILL", second, token, at - killed_at);

        println!(
            "\n2. Graceful hand-over: {} resigns, as during a redeploy.",
            fleet.id(second)
        );
        let resigned_at = fleet.resign(second)?;
        let (third, token, at) = fleet.wait_elected(Some(second), self.patience, note)?;
        self.takeover(fleet, &mut terms, "resign", third, token, at - resigned_at);
        if let Some(last) = terms.last_mut() {
            last.ended_by = "end of demo";
        }

        self.summary(&terms)
    }

    fn term(&self, fleet: &Fleet, member: usize, token: u64) -> Term {
        Term {
            leader: fleet.id(member).to_string(),
            token,
            ended_by: "",
            failover_ns: None,
        }
    }

    fn takeover(
        &self,
        fleet: &Fleet,
        terms: &mut Vec<Term>,
        how: &'static str,
        member: usize,
        token: u64,
        took_ns: u64,
    ) {
        println!(
            "   {} took over after {} with fencing token {token}.",
            fleet.id(member),
            ms(took_ns)
        );
        if let Some(last) = terms.last_mut() {
            last.ended_by = how;
            last.failover_ns = Some(took_ns);
        }
        terms.push(self.term(fleet, member, token));
    }

    fn summary(&self, terms: &[Term]) -> Result<(), String> {
        println!("\nTerms (failover = from the kill or resign to the new leader's Elected event):");
        println!(
            "  {:<6} {:<8} {:<14} {:<12} failover",
            "#", "leader", "fencing token", "ended by"
        );
        for (i, t) in terms.iter().enumerate() {
            let took = t.failover_ns.map(ms).unwrap_or_else(|| "-".into());
            println!(
                "  {:<6} {:<8} {:<14} {:<12} {took}",
                i + 1,
                t.leader,
                t.token,
                t.ended_by
            );
        }
        let tokens: Vec<String> = terms.iter().map(|t| t.token.to_string()).collect();
        if terms.windows(2).any(|w| w[0].token >= w[1].token) {
            return Err(format!(
                "fencing tokens did not increase: {}",
                tokens.join(", ")
            ));
        }
        println!(
            "\nThe fencing tokens only grow ({}): a resource that remembers the highest token it \
             has seen rejects a late write from an old leader.",
            tokens.join(" < ")
        );
        Ok(())
    }
}

/// Prints the events worth seeing while waiting for a takeover.
fn note(id: &str, n: &Note) {
    if let AgentEvent::Revoked(term, reason) = &n.event {
        println!("   {id} gave up term {term} ({reason}).");
    }
}

/// A duration for people: milliseconds, or seconds from one second on (server stores after
/// a crash).
fn ms(ns: u64) -> String {
    if ns >= 1_000_000_000 {
        format!("{:.2} s", ns as f64 / 1e9)
    } else {
        format!("{:.2} ms", ns as f64 / 1e6)
    }
}
