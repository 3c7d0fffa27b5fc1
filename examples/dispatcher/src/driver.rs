//! The driver: starts the members, waits for them to join, publishes the items, SIGKILLs the
//! leader once a third of them are done, plays the deposed leader's late write, waits for the
//! rest and reports.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use elect_core::{Election, Error, Result};

use crate::board::{Assignment, Board};
use crate::member::io_error;

/// How long any step may take before the run fails.
const LIMIT: Duration = Duration::from_secs(60);

pub struct Options {
    uri: String,
    members: usize,
    items: u32,
}

impl Options {
    pub fn parse(args: &[String]) -> std::result::Result<Options, String> {
        let usage = "usage: dispatcher [--uri URI] [--members N (>= 2)] [--items N]";
        let mut o = Options {
            uri: String::new(),
            members: 3,
            items: 90,
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it.next().ok_or(usage)?;
            match flag.as_str() {
                "--uri" => o.uri = value.clone(),
                "--members" => o.members = value.parse().map_err(|_| usage)?,
                "--items" => o.items = value.parse().map_err(|_| usage)?,
                _ => return Err(format!("unknown argument `{flag}`\n{usage}")),
            }
        }
        if o.members < 2 || o.items == 0 {
            return Err(usage.into());
        }
        Ok(o)
    }
}

/// Runs the scenario; `Ok(true)` when every item was done exactly once and the late write of
/// the deposed leader was rejected.
pub fn run(o: &Options) -> Result<bool> {
    let dir = scratch_dir();
    let board = Board::create(&dir).map_err(io_error)?;
    let uri = if o.uri.is_empty() {
        format!("file://{}/election?ttl=2s", dir.display())
    } else {
        o.uri.clone()
    };
    let name = format!("dispatcher-{}", std::process::id());
    println!(
        "dispatcher: {} members, {} items, board {}",
        o.members,
        o.items,
        dir.display()
    );
    let observer = Election::open(&uri, &name, None)?;
    observer.observe()?;
    let mut members = Fleet::start(&uri, &name, o.members, &dir)?;
    let outcome = scenario(o, &board, &observer, &mut members);
    board.stop().map_err(io_error)?;
    members.wait();
    outcome?;
    let passed = report(o, &board)?;
    if passed {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(passed)
}

fn scenario(o: &Options, board: &Board, observer: &Election, members: &mut Fleet) -> Result<()> {
    until("every member to join", || {
        Ok(observer.members()?.len() == o.members)
    })?;
    board.set_items(o.items).map_err(io_error)?;
    until("a third of the items to be done", || {
        Ok(board.done().len() as u32 >= o.items / 3)
    })?;
    let leader = observer
        .leader()?
        .ok_or_else(|| Error::internal("nobody leads"))?;
    members.kill(&leader.id);
    println!(
        "dispatcher: SIGKILLed the leader {} (fencing token {}) with {} of {} items done",
        leader.id,
        leader.term,
        board.done().len(),
        o.items
    );
    let mut successor = None;
    until("a new leader", || {
        successor = observer.leader()?.filter(|l| l.id != leader.id);
        Ok(successor.is_some())
    })?;
    let successor = successor.expect("found above");
    println!(
        "dispatcher: {} leads now with fencing token {}",
        successor.id, successor.term
    );
    // The deposed leader's late write: everything to one survivor, under its old token. Played
    // once that survivor works under the new token (it has done an item under it).
    let survivor = successor.id.clone();
    until("the survivor to work under the new token", || {
        let done = board.completions();
        Ok(done
            .iter()
            .any(|c| c.member == survivor && c.token == successor.term)
            || done.len() as u32 >= o.items)
    })?;
    let stale = Assignment {
        token: leader.term,
        items: (1..=o.items).collect(),
    };
    board.assign(&survivor, &stale).map_err(io_error)?;
    println!(
        "dispatcher: wrote a late assignment of fencing token {} to {survivor}",
        leader.term
    );
    until("every item to be done", || {
        Ok(board.done().len() as u32 == o.items)
    })?;
    // The survivor reads its file between items and when idle: the rejection follows at once
    // (the report fails the run if it never comes).
    let _ = until("the late assignment to be rejected", || {
        Ok(!board.rejections().is_empty())
    });
    Ok(())
}

/// Prints who did what under which token, the duplicates and the lost items.
fn report(o: &Options, board: &Board) -> Result<bool> {
    let done = board.completions();
    let mut by_member: BTreeMap<String, BTreeMap<u64, usize>> = BTreeMap::new();
    let mut times: BTreeMap<u32, usize> = BTreeMap::new();
    for c in &done {
        *by_member
            .entry(c.member.clone())
            .or_default()
            .entry(c.token)
            .or_default() += 1;
        *times.entry(c.item).or_default() += 1;
    }
    println!("items processed: {} of {}", done.len(), o.items);
    for (member, tokens) in &by_member {
        let per: Vec<String> = tokens
            .iter()
            .map(|(t, n)| format!("{n} under token {t}"))
            .collect();
        println!("  {member}: {}", per.join(", "));
    }
    let duplicates: Vec<u32> = times
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(i, _)| *i)
        .collect();
    let lost: Vec<u32> = (1..=o.items).filter(|i| !times.contains_key(i)).collect();
    let rejected = board.rejections();
    println!("stale assignments rejected: {}", rejected.len());
    println!("duplicates: {} {:?}", duplicates.len(), duplicates);
    println!("lost: {} {:?}", lost.len(), lost);
    Ok(duplicates.is_empty() && lost.is_empty() && !rejected.is_empty())
}

/// Polls `f` (a store read or the board) until it holds, for at most [`LIMIT`].
fn until(what: &str, mut f: impl FnMut() -> Result<bool>) -> Result<()> {
    let end = Instant::now() + LIMIT;
    while !f()? {
        if Instant::now() > end {
            return Err(Error::internal(format!("timed out waiting for {what}")));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn scratch_dir() -> PathBuf {
    let base = std::env::var_os("TMPDIR").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    base.join(format!("elect-dispatcher-{}", std::process::id()))
}

/// The member processes, by id.
struct Fleet {
    children: BTreeMap<String, Child>,
}

impl Fleet {
    fn start(uri: &str, name: &str, n: usize, dir: &std::path::Path) -> Result<Fleet> {
        let exe = std::env::current_exe().map_err(io_error)?;
        let mut children = BTreeMap::new();
        for i in 0..n {
            let id = format!("member-{i}");
            let child = Command::new(&exe)
                .args(["member", uri, name, &id])
                .arg(dir)
                .spawn()
                .map_err(io_error)?;
            children.insert(id, child);
        }
        Ok(Fleet { children })
    }

    fn kill(&mut self, id: &str) {
        if let Some(mut child) = self.children.remove(id) {
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
        }
    }

    /// Waits for the members to leave (they watch the board's stop file); kills stragglers.
    fn wait(&mut self) {
        let end = Instant::now() + LIMIT;
        for child in self.children.values_mut() {
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
