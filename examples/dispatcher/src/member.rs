//! One member: campaigns, dispatches while it leads, and always consumes its own share.
//!
//! The leader of term T assigns every item not yet done to the live members, stamped with T.
//! It never takes an item from a live member (that member may be working on it), only from
//! members that left (a killed leader's share), and never assigns a done item. A member adopts
//! an assignment whose token is at least that of the one it holds, and rejects an older one
//! (a deposed leader writing late): so no item is done twice, and none is lost.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use elect_core::{Election, Result, Term};

use crate::board::{Assignment, Board};

/// How long one item's work takes (the example's stand-in for real work).
const WORK: Duration = Duration::from_millis(30);
/// How often the leader looks at the members and the ledger.
const DISPATCH_EVERY: Duration = Duration::from_millis(100);

/// The leader's plan for its term: who has which items.
struct Plan {
    token: u64,
    shares: BTreeMap<String, BTreeSet<u32>>,
}

pub fn run(uri: &str, name: &str, id: &str, dir: &Path) -> Result<()> {
    let board = Board::open(dir);
    let election = Election::open(&crate::with_id(uri, id), name, None)?;
    election.start()?;
    let mut plan: Option<Plan> = None;
    let mut share = Share::default();
    let mut next_dispatch = Instant::now();
    while !board.stopped() {
        if Instant::now() >= next_dispatch {
            next_dispatch = Instant::now() + DISPATCH_EVERY;
            if let Some(term) = election.term() {
                dispatch(&election, &board, &term, &mut plan)?;
            }
        }
        share.adopt(&board, id);
        match share.next(&board.done()) {
            Some((item, token)) => {
                std::thread::sleep(WORK); // the work itself
                board.complete(item, id, token).map_err(io_error)?;
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    election.close();
    Ok(())
}

/// What a member holds: the assignment it works from, and the stale tokens it rejected.
#[derive(Default)]
struct Share {
    held: Option<Assignment>,
    rejected: BTreeSet<u64>,
}

impl Share {
    /// Reads the member's file: an assignment with a token at least that of the held one
    /// replaces it; an older one is rejected (and logged once per token).
    fn adopt(&mut self, board: &Board, id: &str) {
        let Some(read) = board.assignment(id) else {
            return;
        };
        match &self.held {
            Some(h) if read.token < h.token => {
                if self.rejected.insert(read.token) {
                    println!(
                        "{id}: rejected an assignment of fencing token {} (it holds one of token {})",
                        read.token, h.token
                    );
                    let _ = board.reject(id, read.token, h.token);
                }
            }
            _ => self.held = Some(read),
        }
    }

    /// The next item to do and the token it is done under.
    fn next(&self, done: &BTreeSet<u32>) -> Option<(u32, u64)> {
        let h = self.held.as_ref()?;
        h.items
            .iter()
            .copied()
            .find(|i| !done.contains(i))
            .map(|i| (i, h.token))
    }
}

/// One round of the leader's work: at the start of its term it takes over the shares of the
/// live members from their files; then it drops done items, moves the shares of members that
/// left, hands out what nobody holds to the members with the fewest, and writes every share
/// that changed, stamped with its token.
fn dispatch(
    election: &Election,
    board: &Board,
    term: &Term,
    plan: &mut Option<Plan>,
) -> Result<()> {
    let Some(n) = board.items() else {
        return Ok(());
    };
    let live: BTreeSet<String> = election.members()?.into_iter().map(|m| m.id).collect();
    let done = board.done();
    let fresh = plan.as_ref().is_none_or(|p| p.token != term.token());
    let before = if fresh {
        // The files of the live members, the latest leader's first: an item listed twice (in a
        // file a deposed leader wrote late) stays with the member the latest leader gave it to.
        let mut files: Vec<(String, Assignment)> = live
            .iter()
            .filter_map(|m| Some((m.clone(), board.assignment(m)?)))
            .collect();
        files.sort_by_key(|(_, a)| std::cmp::Reverse(a.token));
        let mut taken = BTreeSet::new();
        let shares = files
            .into_iter()
            .map(|(m, a)| {
                let items = a.items.into_iter().filter(|i| taken.insert(*i)).collect();
                (m, items)
            })
            .collect();
        println!(
            "{}: leading with fencing token {}: dispatching to {} members",
            election.id(),
            term.token(),
            live.len()
        );
        Plan {
            token: term.token(),
            shares,
        }
    } else {
        plan.take().expect("checked above")
    };
    let kept = |m: &String| -> BTreeSet<u32> {
        let share = before.shares.get(m).cloned().unwrap_or_default();
        share.into_iter().filter(|i| !done.contains(i)).collect()
    };
    let mut shares: BTreeMap<String, BTreeSet<u32>> =
        live.iter().map(|m| (m.clone(), kept(m))).collect();
    let held: BTreeSet<u32> = shares.values().flatten().copied().collect();
    for item in (1..=n).filter(|i| !done.contains(i) && !held.contains(i)) {
        if let Some((_, share)) = shares.iter_mut().min_by_key(|(_, s)| s.len()) {
            share.insert(item);
        }
    }
    for (member, share) in &shares {
        let unchanged = !fresh && kept(member) == *share;
        if unchanged || term.is_cancelled() {
            continue;
        }
        let a = Assignment {
            token: term.token(),
            items: share.clone(),
        };
        board.assign(member, &a).map_err(io_error)?;
    }
    *plan = Some(Plan {
        token: term.token(),
        shares,
    });
    Ok(())
}

pub fn io_error(e: std::io::Error) -> elect_core::Error {
    elect_core::Error::internal(format!("the board: {e}"))
}
