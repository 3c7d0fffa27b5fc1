//! The agent's group requests: `group <uri> <name> <shards> <cap|->` joins a group of
//! `<shards>` elections (and campaigns at once), `leading` answers `ok <shard>,<shard>,...`.
//! Each event of the group is written as `event shard <i> <event>`, `<event>` being the line of
//! a single election's event without its `event ` (e.g. `event shard 3 elected 17`).
//!
//! A sampler thread reads `is_leader(shard)` and the token of every shard every millisecond
//! and reports each term this process believed in: `event shard <i> began <token> <t1_ns>`
//! (the end of the first sample that was true) and `event shard <i> ended <token> <t0_ns>` (the
//! start of the last one), `CLOCK_MONOTONIC`. Between the two the process certainly believed
//! it led, so two such intervals of one shard that intersect are two leaders at once; event
//! delivery times, which lag by the event threads' scheduling, never enter that check.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use elect_core::{Error, ErrorCode, Event, Group};

use super::{err, event_line, Output};
use crate::clock::monotonic_ns;

const SAMPLE_EVERY: Duration = Duration::from_millis(1);

/// An open group and its sampler.
pub(super) struct Sampled {
    group: Arc<Group>,
    sampler: JoinHandle<()>,
}

impl Sampled {
    /// Closes the group, then waits for the sampler's last `ended` lines (it stops once the
    /// group is gone), so that they are written before the agent answers `quit`.
    pub(super) fn close(self) {
        self.group.close();
        drop(self.group);
        let _ = self.sampler.join();
    }
}

/// Opens the group of a `group` request and starts its sampler.
pub(super) fn open(out: &Arc<Output>, args: &[&str]) -> Result<Sampled, String> {
    let bad = |what: &str, v: &str| {
        err(&Error::invalid(format!(
            "group: {what} `{v}` is not a whole number"
        )))
    };
    let shards = args[2]
        .parse::<usize>()
        .map_err(|_| bad("shards", args[2]))?;
    let cap = match args[3] {
        "-" => None,
        c => Some(c.parse::<usize>().map_err(|_| bad("cap", c))?),
    };
    let events = out.clone();
    let handler = Box::new(move |shard: usize, ev: &Event| {
        let line = event_line(ev);
        let body = line.strip_prefix("event ").unwrap_or(&line);
        events.event_text(&format!("event shard {shard} {body}"));
    });
    let group =
        Arc::new(Group::open(args[0], args[1], shards, cap, Some(handler)).map_err(|e| err(&e))?);
    let (sampled, out) = (Arc::downgrade(&group), out.clone());
    let sampler = std::thread::spawn(move || sample(&sampled, &out, shards));
    Ok(Sampled { group, sampler })
}

/// The sampler: runs until the group is dropped.
fn sample(group: &std::sync::Weak<Group>, out: &Output, shards: usize) {
    // Per shard: the token believed in, and the start of its last true sample.
    let mut held: Vec<Option<(u64, u64)>> = vec![None; shards];
    while let Some(g) = group.upgrade() {
        for (shard, slot) in held.iter_mut().enumerate() {
            let t0 = monotonic_ns();
            let leading = g.is_leader(shard);
            let token = g.fencing_token(shard).unwrap_or(0);
            let t1 = monotonic_ns();
            match *slot {
                Some((t, _)) if leading && t == token => *slot = Some((t, t0)),
                Some((t, last)) => {
                    out.line(&format!("event shard {shard} ended {t} {last}"));
                    *slot = None;
                }
                None => {}
            }
            if leading && slot.is_none() && token > 0 {
                out.line(&format!("event shard {shard} began {token} {t1}"));
                *slot = Some((token, t0));
            }
        }
        drop(g);
        std::thread::sleep(SAMPLE_EVERY);
    }
    for (shard, slot) in held.iter().enumerate() {
        if let Some((t, last)) = slot {
            out.line(&format!("event shard {shard} ended {t} {last}"));
        }
    }
}

/// `leading`: the shards this instance leads.
pub(super) fn leading(group: Option<&Sampled>) -> String {
    match group.map(|s| &s.group) {
        Some(g) => {
            let shards: Vec<String> = g.leading().iter().map(ToString::to_string).collect();
            format!("ok {}", shards.join(","))
        }
        None => err(&Error::new(
            ErrorCode::WrongState,
            "request `leading`: no group; send `group <uri> <name> <shards> <cap|->` first",
        )),
    }
}
