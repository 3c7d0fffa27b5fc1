//! Reading an election from outside: who leads, who is in line, and a leader watch shared by
//! every election of the process that follows the same name (one ZooKeeper watch per election
//! and process, however many local elections follow it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use zookeeper_client as zk;

use super::connect::{self, Session};
use super::layout;
use super::Shared;
use crate::backend::limits;
use crate::error::{Error, Result};
use crate::event::{LeaderInfo, Member};

/// The store's name in the messages of `limits` (which name the election by its node path).
const STORE: &str = "zookeeper";

/// Candidate node data: `id \n value` (neither may contain control characters).
pub fn encode(id: &str, value: &str) -> Vec<u8> {
    format!("{id}\n{value}").into_bytes()
}

pub(super) fn decode(data: &[u8]) -> Member {
    let s = String::from_utf8_lossy(data);
    let (id, value) = s.split_once('\n').unwrap_or((&s, ""));
    Member {
        id: id.to_string(),
        value: value.to_string(),
    }
}

/// The leader in `dir` now: the first node in line, with its czxid as the term, unless a
/// hold-off marker names another node (see [`super::hold`]): then nobody.
pub async fn leader(session: &Session, dir: &str) -> Result<Option<LeaderInfo>> {
    Ok(head(session, dir, false).await?.0)
}

/// The leader, and with `watch` a data watch on its node, which fires when the leader
/// proclaims a new value (or its node goes away).
async fn head(
    session: &Session,
    dir: &str,
    watch: bool,
) -> Result<(Option<LeaderInfo>, Option<zk::OneshotWatcher>)> {
    let at = connect::at(dir);
    loop {
        let children = match session.client.list_children(dir).await {
            Err(zk::Error::NoNode) => return Ok((None, None)),
            other => other.map_err(&at)?,
        };
        let held = children.iter().any(|c| c == layout::HOLD);
        let Some(first) = layout::in_line(children).into_iter().next() else {
            return Ok((None, None));
        };
        if held {
            // The children watch (set before this listing) fires when the marker goes.
            let marker = layout::hold_marker(dir);
            match session.client.get_data(&marker).await {
                Ok((data, _)) if !super::hold::admits(Some(&data), &first) => {
                    return Ok((None, None))
                }
                Ok(_) | Err(zk::Error::NoNode) => {}
                Err(e) => return Err(at(e)),
            }
        }
        let path = format!("{dir}/{first}");
        let read = if watch {
            session
                .client
                .get_and_watch_data(&path)
                .await
                .map(|(d, s, w)| (d, s, Some(w)))
        } else {
            session
                .client
                .get_data(&path)
                .await
                .map(|(d, s)| (d, s, None))
        };
        match read {
            Ok((data, stat, watcher)) => {
                let m = decode(&data);
                let leader = LeaderInfo {
                    id: m.id,
                    value: m.value,
                    term: stat.czxid as u64,
                };
                return Ok((Some(limits::leader(STORE, dir, leader)?), watcher));
            }
            Err(zk::Error::NoNode) => continue, // left meanwhile: read the line again
            Err(e) => return Err(at(e)),
        }
    }
}

/// Everyone in line, leader first, read in one multi-read.
pub async fn members(session: &Session, dir: &str) -> Result<Vec<Member>> {
    let at = connect::at(dir);
    let children = match session.client.list_children(dir).await {
        Err(zk::Error::NoNode) => return Ok(Vec::new()),
        other => other.map_err(&at)?,
    };
    let line = layout::in_line(children);
    limits::count(STORE, dir, line.len())?;
    if line.is_empty() {
        return Ok(Vec::new());
    }
    let mut reader = session.client.new_multi_reader();
    for name in &line {
        reader.add_get_data(&format!("{dir}/{name}")).map_err(&at)?;
    }
    let results = reader.commit().await.map_err(&at)?;
    let members = results
        .into_iter()
        .filter_map(|r| match r {
            zk::MultiReadResult::Data { data, .. } => Some(decode(&data)),
            _ => None, // left between the listing and the read
        })
        .collect();
    limits::members(STORE, dir, members)
}

type Latest<T> = Option<std::result::Result<T, Error>>;

/// What a shared follower runs while it has subscribers: it publishes into the sender.
type Body<T> = fn(
    std::sync::Weak<Shared>,
    String,
    watch::Sender<Latest<T>>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// One follower task per election name and per kind (the leader, the members); subscribers
/// get its latest value, so that many local elections following the same name cost the server
/// one watch.
pub struct Followers<T> {
    map: Mutex<HashMap<String, watch::Sender<Latest<T>>>>,
    /// Where the backend keeps this registry (for the task to remove itself).
    this: fn(&Shared) -> &Followers<T>,
    body: Body<T>,
}

impl Followers<Option<LeaderInfo>> {
    pub fn leaders() -> Self {
        Followers {
            map: Mutex::default(),
            this: |s| &s.followers,
            body: |shared, dir, tx| {
                Box::pin(async move { follow_while_subscribed(&shared, &dir, &tx).await })
            },
        }
    }
}

impl Followers<Vec<Member>> {
    pub fn members() -> Self {
        Followers {
            map: Mutex::default(),
            this: |s| &s.member_followers,
            body: |shared, dir, tx| Box::pin(follow_members(shared, dir, tx)),
        }
    }
}

impl<T: Clone + PartialEq + Send + Sync + 'static> Followers<T> {
    pub fn subscribe(&self, shared: &Arc<Shared>, dir: String) -> mpsc::Receiver<Result<T>> {
        let rx = {
            let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            match map.get(&dir) {
                Some(tx) => tx.subscribe(),
                None => {
                    let (tx, rx) = watch::channel(None);
                    map.insert(dir.clone(), tx.clone());
                    shared.spawn(follow(
                        Arc::downgrade(shared),
                        dir,
                        tx,
                        self.this,
                        self.body,
                    ));
                    rx
                }
            }
        };
        let (out, stream) = mpsc::channel(16);
        tokio::spawn(forward(rx, out));
        stream
    }
}

/// Copies each new value of the shared follower to one subscriber, until either side is gone.
async fn forward<T: Clone>(mut rx: watch::Receiver<Latest<T>>, out: mpsc::Sender<Result<T>>) {
    loop {
        let latest = rx.borrow_and_update().clone();
        if let Some(item) = latest {
            if out.send(item).await.is_err() {
                return;
            }
        }
        tokio::select! {
            _ = out.closed() => return,
            r = rx.changed() => if r.is_err() { return },
        }
    }
}

/// Runs `body` while the follower has subscribers. Ends when the last subscriber is gone
/// (checked under the map's lock, so no new subscriber is stranded) or the backend closes.
async fn follow<T>(
    shared: std::sync::Weak<Shared>,
    dir: String,
    tx: watch::Sender<Latest<T>>,
    this: fn(&Shared) -> &Followers<T>,
    body: Body<T>,
) {
    loop {
        body(shared.clone(), dir.clone(), tx.clone()).await;
        let Some(s) = shared.upgrade() else { return };
        let mut map = this(&s).map.lock().unwrap_or_else(|e| e.into_inner());
        if tx.receiver_count() == 0 {
            map.remove(&dir);
            return;
        }
    }
}

async fn follow_while_subscribed(
    shared: &std::sync::Weak<Shared>,
    dir: &str,
    tx: &watch::Sender<Latest<Option<LeaderInfo>>>,
) {
    loop {
        let Some(s) = shared.upgrade() else { return };
        let retry = s.retry;
        let session = s.session().await;
        drop(s);
        let session = match session {
            Ok(session) => session,
            Err(e) => {
                tx.send_replace(Some(Err(e)));
                if pause_or_closed(tx, retry).await {
                    return;
                }
                continue;
            }
        };
        let watched = match session.client.list_and_watch_children(dir).await {
            Ok((_, watcher)) => Ok(watcher),
            // No election yet: wait for its directory to appear. If it appeared meanwhile, its
            // `exists` watch would not see children come and go: list it again instead.
            Err(zk::Error::NoNode) => match session.client.check_and_watch_stat(dir).await {
                Ok((Some(_), _)) => continue,
                Ok((None, watcher)) => Ok(watcher),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        match watched {
            Ok(watcher) => {
                let now = head(&session, dir, true).await;
                drop(session);
                let (now, data_watch) = match now {
                    Ok((l, w)) => (Ok(l), w),
                    Err(e) => (Err(e), None),
                };
                publish(tx, now);
                let proclaimed = async {
                    match data_watch {
                        Some(w) => drop(w.changed().await),
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = tx.closed() => return,
                    _ = watcher.changed() => {}
                    _ = proclaimed => {}
                }
            }
            Err(e) => {
                drop(session);
                publish(tx, Err(connect::at(dir)(e)));
                if pause_or_closed(tx, retry).await {
                    return;
                }
            }
        }
    }
}

/// Publishes a change (an unchanged leader is not news).
fn publish<T: PartialEq>(tx: &watch::Sender<Latest<T>>, now: Result<T>) {
    tx.send_if_modified(|latest| {
        let same = matches!((&*latest, &now), (Some(Ok(a)), Ok(b)) if a == b);
        if !same {
            *latest = Some(now);
        }
        !same
    });
}

async fn pause_or_closed<T>(tx: &watch::Sender<Latest<T>>, d: Duration) -> bool {
    tokio::select! {
        _ = tx.closed() => true,
        _ = tokio::time::sleep(d) => false,
    }
}

/// Publishes the members in `dir` after each change of its children (a candidate joined, left,
/// or its session expired), until the last subscriber is gone or the backend closes. Candidate
/// nodes are named once and never renamed, so each node's data is read once, when it appears.
async fn follow_members(
    shared: std::sync::Weak<Shared>,
    dir: String,
    tx: watch::Sender<Latest<Vec<Member>>>,
) {
    let mut known: HashMap<String, Member> = HashMap::new();
    loop {
        let Some(s) = shared.upgrade() else { return };
        let retry = s.retry;
        let session = s.session().await;
        drop(s);
        let read = match session {
            Ok(session) => members_watched(&session, &dir, &mut known).await,
            Err(e) => Err(e),
        };
        match read {
            Ok(None) => continue, // the directory appeared meanwhile: list it again
            Ok(Some((now, watcher))) => {
                publish(&tx, Ok(now));
                tokio::select! {
                    _ = tx.closed() => return,
                    _ = watcher.changed() => {}
                }
            }
            Err(e) => {
                publish(&tx, Err(e));
                if pause_or_closed(&tx, retry).await {
                    return;
                }
            }
        }
    }
}

/// The members in line order, read after setting a watch on the children of `dir` (or, while
/// it does not exist, on its creation); only nodes not in `known` are read. `None` when the
/// directory appeared between the two requests.
async fn members_watched(
    session: &Session,
    dir: &str,
    known: &mut HashMap<String, Member>,
) -> Result<Option<(Vec<Member>, zk::OneshotWatcher)>> {
    let at = connect::at(dir);
    let (children, watcher) = match session.client.list_and_watch_children(dir).await {
        Ok((children, watcher)) => (children, watcher),
        Err(zk::Error::NoNode) => match session.client.check_and_watch_stat(dir).await {
            Ok((Some(_), _)) => return Ok(None),
            Ok((None, watcher)) => (Vec::new(), watcher),
            Err(e) => return Err(at(e)),
        },
        Err(e) => return Err(at(e)),
    };
    let line = layout::in_line(children);
    limits::count(STORE, dir, line.len())?;
    known.retain(|name, _| line.contains(name));
    let mut members = Vec::with_capacity(line.len());
    for name in line {
        if let Some(m) = known.get(&name) {
            members.push(m.clone());
            continue;
        }
        match session.client.get_data(&format!("{dir}/{name}")).await {
            Ok((data, _)) => {
                let m = decode(&data);
                known.insert(name, m.clone());
                members.push(m);
            }
            Err(zk::Error::NoNode) => {} // left meanwhile; the watch fires for it
            Err(e) => return Err(at(e)),
        }
    }
    Ok(Some((limits::members(STORE, dir, members)?, watcher)))
}
