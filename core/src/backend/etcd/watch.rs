//! Following the leader of an election: a watch on the election's key range and its hold-off
//! markers ([`super::layout::view_range`]).
//!
//! The follower reads the whole line and the markers once, then keeps its own copy up to date
//! from the watch's events (a put adds a candidate, a delete removes one), so that a change
//! costs etcd no extra read however many candidates and observers follow the election.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use etcd_client::{EventType, KeyValue, WatchOptions};
use tokio::sync::mpsc;

use super::connect::{bounded, map_err};
use super::holdoff::{Markers, Names};
use super::layout::{decode, view_range};
use super::Inner;
use crate::backend::limits::{self, MAX_MEMBERS};
use crate::backend::{LeaderStream, MemberStream};
use crate::error::{Error, Result};
use crate::event::{LeaderInfo, Member};

type Sender<T> = mpsc::Sender<Result<T>>;

/// Starts following the leader of `election`; the task ends when the receiver is dropped.
pub fn spawn(inner: Arc<Inner>, election: String) -> LeaderStream {
    spawn_view(inner, election, Line::head)
}

/// Starts following the candidates of `election` (everyone in line, in line order).
pub fn spawn_members(inner: Arc<Inner>, election: String) -> MemberStream {
    spawn_view(inner, election, Line::members)
}

/// Follows the line and sends `view` of it whenever that changes.
fn spawn_view<T: PartialEq + Clone + Send + 'static>(
    inner: Arc<Inner>,
    election: String,
    view: fn(&Line) -> T,
) -> mpsc::Receiver<Result<T>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let closed = tx.clone();
        tokio::select! {
            _ = closed.closed() => {}
            _ = follow(&inner, &election, &tx, view) => {}
        }
    });
    rx
}

/// The candidates of one election in line order, and its markers, as last seen.
#[derive(Default)]
struct Line {
    by_rev: BTreeMap<i64, (Vec<u8>, LeaderInfo)>,
    rev_of: HashMap<Vec<u8>, i64>,
    markers: Markers,
}

impl Line {
    /// Adds or replaces a candidate; an id or value, or a line, longer than elect writes is
    /// refused (`limits`): a hostile writer must not grow the copy without bound.
    fn put(&mut self, kv: &KeyValue, election: &str) -> Result<()> {
        let candidate = limits::leader("etcd", election, decode(kv))?;
        self.delete(kv.key());
        limits::count("etcd", election, self.by_rev.len() + 1)?;
        self.rev_of.insert(kv.key().to_vec(), kv.create_revision());
        self.by_rev
            .insert(kv.create_revision(), (kv.key().to_vec(), candidate));
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) {
        if let Some(rev) = self.rev_of.remove(key) {
            self.by_rev.remove(&rev);
        }
    }

    /// The head of the line, unless a lost leader's markers still hold the election.
    fn head(&self) -> Option<LeaderInfo> {
        let (key, head) = self.by_rev.values().next()?;
        self.markers.admits(key).then(|| head.clone())
    }

    fn members(&self) -> Vec<Member> {
        self.by_rev
            .values()
            .map(|(_, l)| Member {
                id: l.id.clone(),
                value: l.value.clone(),
            })
            .collect()
    }
}

/// Reads the line, then follows it through the watch. A broken watch is reported and
/// re-opened after `retry`, with a fresh read so that nothing that happened meanwhile is missed.
async fn follow<T: PartialEq + Clone>(
    inner: &Inner,
    election: &str,
    tx: &Sender<T>,
    view: fn(&Line) -> T,
) {
    let mut last: Option<T> = None;
    loop {
        if let Err(e) = watch_once(inner, election, tx, &mut last, view).await {
            if tx.send(Err(e)).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(inner.retry).await;
    }
}

async fn watch_once<T: PartialEq + Clone>(
    inner: &Inner,
    election: &str,
    tx: &Sender<T>,
    last: &mut Option<T>,
    view: fn(&Line) -> T,
) -> Result<()> {
    // The watch first, from the current revision, and the line read once it exists: nothing
    // is missed in between. Not a read first and a watch from its revision: etcd serves
    // watches that start in the past from a loop that runs every 100 ms, and etcd 3.4 takes
    // the revision a new watch starts at a moment before registering it, so a write in
    // between also lands it there; its events then arrive, late, after the read.
    let (mut line, mut at) = (Line::default(), i64::MAX);
    let (dir, names) = (inner.dir(election), Names::of(&inner.prefix, election));
    let (from, to) = view_range(&inner.prefix, election);
    let mut wc = inner.client.watch_client();
    let opts = WatchOptions::new().with_range(to);
    let mut stream = bounded(inner.op_timeout, "watch", wc.watch(from, Some(opts))).await?;
    loop {
        let resp = match stream.message().await {
            Ok(Some(resp)) => resp,
            Ok(None) => {
                return Err(Error::unreachable(
                    "etcd watch: the server closed the stream",
                ))
            }
            Err(e) => return Err(map_err(e, "watch")),
        };
        if resp.canceled() {
            return Err(Error::store(format!(
                "etcd watch cancelled: {}",
                resp.cancel_reason()
            )));
        }
        if resp.created() {
            (line, at) = read(inner, election).await?;
        } else {
            // Events up to `at` are already in what was read.
            for ev in resp.events() {
                let Some(kv) = ev.kv() else { continue };
                let put = ev.event_type() == EventType::Put;
                if kv.mod_revision() <= at {
                } else if !kv.key().starts_with(dir.as_bytes()) {
                    // A marker, or another election's key in the range (ignored).
                    line.markers.apply(&names, kv.key(), put.then_some(kv))?;
                } else if put {
                    line.put(kv, election)?;
                } else {
                    line.delete(kv.key());
                }
            }
        }
        publish(view(&line), tx, last).await;
    }
}

/// The whole line and the markers, and the revision they were read at.
async fn read(inner: &Inner, election: &str) -> Result<(Line, i64)> {
    let (kvs, markers, at) = inner.view(election, MAX_MEMBERS as i64 + 1).await?;
    let mut line = Line {
        markers,
        ..Line::default()
    };
    for kv in &kvs {
        line.put(kv, election)?;
    }
    Ok((line, at))
}

/// Sends the view of the line if it changed.
async fn publish<T: PartialEq + Clone>(now: T, tx: &Sender<T>, last: &mut Option<T>) {
    if last.as_ref() != Some(&now) {
        *last = Some(now.clone());
        // A closed receiver ends the task through `spawn_view`'s select.
        let _ = tx.send(Ok(now)).await;
    }
}
