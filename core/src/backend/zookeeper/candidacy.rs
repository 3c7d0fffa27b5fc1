//! One candidate: an ephemeral sequential node, waiting behind its predecessor only.
//!
//! Curator's LeaderLatch recipe: the lowest sequence leads; everyone else watches the node just
//! before its own, so a departure wakes exactly one waiter (no herd). The fencing token is the
//! leader node's czxid, which only grows across the ensemble's life.
//!
//! First in line, a candidate also waits for a hold-off marker naming another node to go, and
//! one that asks for a hold-off creates its own before it leads ([`super::hold`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use zookeeper_client as zk;

use super::acl::AclMode;
use super::connect::{self, Session};
use super::hold::{self, Held};
use super::keepalive::Link;
use super::layout;
use crate::backend::{Candidacy, Grant, Renewal};
use crate::error::{Error, ErrorCode, Result};

/// Candidates of this process now watching their predecessor.
pub static WAITING: AtomicUsize = AtomicUsize::new(0);
/// Predecessor watches that fired (candidates woken), since the process started.
pub static WAKEUPS: AtomicU64 = AtomicU64::new(0);

/// What we know of our node.
#[derive(Debug, Clone)]
enum Node {
    None,
    /// A create was sent but its reply was lost: the node may or may not exist.
    Unknown,
    Known {
        name: String,
        czxid: i64,
    },
}

/// The watch on our own node. In a `Mutex` only to make the candidacy `Sync` (it is only ever
/// reached through `&mut`, with `get_mut`, so the lock is never taken).
type Deleted = std::sync::Mutex<Pin<Box<dyn Future<Output = zk::WatchedEvent> + Send>>>;

fn deleted(watcher: zk::OneshotWatcher) -> Deleted {
    std::sync::Mutex::new(Box::pin(watcher.changed()))
}

struct Leading {
    /// The disconnection count when the leadership was last verified against the server.
    verified_epoch: u64,
    /// The send time last reported to the engine.
    reported: Instant,
    /// Fires if our node is deleted under us (an admin, or the session ending).
    deleted: Deleted,
}

pub struct ZkCandidacy {
    session: Arc<Session>,
    dir: String,
    prefix: String,
    data: Vec<u8>,
    acl: AclMode,
    node: Node,
    /// The watch on our node (by name), set right after the node is created so that claiming
    /// the leadership later costs no extra round trip.
    own_watch: Option<(String, Deleted)>,
    leading: Option<Leading>,
    /// The backend and our `holdoff` window, when we ask for one.
    hold: Option<(Arc<super::Shared>, Duration)>,
    /// Our hold-off marker, from before we lead to a release or a loss.
    marker: Option<Held>,
}

/// Counts a candidate as watching its predecessor for as long as it lives.
struct Waiting;
impl Waiting {
    fn start() -> Waiting {
        WAITING.fetch_add(1, Ordering::Relaxed);
        Waiting
    }
}
impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING.fetch_sub(1, Ordering::Relaxed);
    }
}

fn not_leader(why: &str) -> Error {
    Error::new(ErrorCode::NotLeader, why.to_string())
}

impl ZkCandidacy {
    pub fn new(
        session: Arc<Session>,
        dir: String,
        data: Vec<u8>,
        acl: AclMode,
        hold: Option<(Arc<super::Shared>, Duration)>,
    ) -> ZkCandidacy {
        ZkCandidacy {
            session,
            dir,
            prefix: layout::protected_prefix(),
            data,
            acl,
            node: Node::None,
            own_watch: None,
            leading: None,
            hold,
            marker: None,
        }
    }

    /// First in line as `name` (`held`: the listing showed a marker): `Ok(true)` once no
    /// marker holds the election for another node, and ours (if we ask for a hold-off) stands;
    /// `Ok(false)` after waiting for a marker to go, or when one appeared meanwhile (look at
    /// the line again).
    async fn clear_to_lead(&mut self, name: &str, held: bool) -> Result<bool> {
        if self
            .marker
            .as_ref()
            .is_some_and(|m| !m.is_for(name) || m.check().is_err())
        {
            // Held for an earlier node of ours (deleted under us): that loss keeps its window.
            self.marker = None;
        }
        let path = layout::hold_marker(&self.dir);
        let blocking = match held {
            true => hold::blocking(self.client(), &path, name).await?,
            false => None,
        };
        if let Some(watcher) = blocking {
            let event = watcher.changed().await;
            if event.event_type == zk::EventType::Session && event.session_state.is_terminated() {
                return Err(not_leader(
                    "the ZooKeeper session ended while waiting for a hold-off to end",
                ));
            }
            return Ok(false);
        }
        let Some((shared, window)) = self.hold.clone() else {
            return Ok(true);
        };
        if self.marker.is_some() {
            return Ok(true);
        }
        let session = shared.hold_session(window).await?;
        self.marker = Held::take(session, &path, name, self.acl, window).await?;
        Ok(self.marker.is_some())
    }

    fn client(&self) -> &zk::Client {
        &self.session.client
    }

    fn path(&self, name: &str) -> String {
        format!("{}/{name}", self.dir)
    }

    fn check_session(&self) -> Result<()> {
        if self.session.ended() {
            return Err(not_leader(
                "the ZooKeeper session ended (expired or closed); joining again",
            ));
        }
        Ok(())
    }

    /// Makes sure our node exists: creates it, or after an ambiguous create finds it.
    async fn ensure_node(&mut self) -> Result<(String, i64)> {
        loop {
            match self.node.clone() {
                Node::Known { name, czxid } => return Ok((name, czxid)),
                Node::Unknown => self.reconcile().await?,
                Node::None => self.create().await?,
            }
        }
    }

    async fn create(&mut self) -> Result<()> {
        let prefix = self.path(&self.prefix);
        let options = zk::CreateMode::EphemeralSequential.with_acls(self.acl.acls());
        // Until the reply arrives, the node may exist: a cancelled or failed create is
        // reconciled before anything else is sent.
        self.node = Node::Unknown;
        let created = match self.client().create(&prefix, &self.data, &options).await {
            Err(zk::Error::NoNode) => {
                let dir_options = zk::CreateMode::Persistent.with_acls(self.acl.acls());
                self.client()
                    .mkdir(&self.dir, &dir_options)
                    .await
                    .map_err(connect::at(&self.dir))?;
                self.client().create(&prefix, &self.data, &options).await
            }
            other => other,
        };
        match created {
            Ok((stat, seq)) => {
                self.node = Node::Known {
                    name: format!("{}{seq}", self.prefix),
                    czxid: stat.czxid,
                };
                Ok(())
            }
            Err(zk::Error::ConnectionLoss) => Err(connect::map(zk::Error::ConnectionLoss)
                .context("creating the candidate node (will look for it after reconnecting)")),
            Err(e) => {
                // Any other answer is the server's: nothing was created.
                self.node = Node::None;
                Err(connect::at(&self.dir)(e))
            }
        }
    }

    /// After an ambiguous create: our node is the child carrying our protection prefix. `sync`
    /// first, so a server that lags behind the one that took the create cannot hide it.
    async fn reconcile(&mut self) -> Result<()> {
        let at = connect::at(&self.dir);
        self.client().sync(&self.dir).await.map_err(&at)?;
        let children = match self.client().list_children(&self.dir).await {
            Err(zk::Error::NoNode) => Vec::new(),
            other => other.map_err(&at)?,
        };
        let ours = layout::in_line(children)
            .into_iter()
            .find(|c| c.starts_with(&self.prefix));
        self.node = match ours {
            None => Node::None,
            Some(name) => match self.client().check_stat(&self.path(&name)).await {
                Ok(Some(stat)) => Node::Known {
                    name,
                    czxid: stat.czxid,
                },
                Ok(None) => Node::None,
                Err(e) => return Err(at(e)),
            },
        };
        Ok(())
    }

    /// Deletes any other node with our protection prefix (a create that was retried after an
    /// ambiguous one may have left two): it would otherwise stand in line forever.
    fn delete_orphans(&self, line: &[String], ours: &str) {
        for orphan in line
            .iter()
            .filter(|c| c.starts_with(&self.prefix) && c.as_str() != ours)
        {
            // The request is sent now; its answer does not matter.
            drop(self.client().delete(&self.path(orphan), None));
        }
    }

    /// The line, read now. A read may come from a server that lags the ensemble, or is cut off
    /// from it, so it confirms nothing about the session: deadlines come from the session's
    /// confirmed contact. (A stale line can only show fewer nodes before ours: sequence numbers
    /// only grow, and our node lives as long as the session.)
    async fn line(&self) -> Result<Vec<String>> {
        Ok(self.listing().await?.0)
    }

    /// [`Self::line`], and whether a hold-off marker stood beside it. The listing that shows
    /// a lost leader's node gone shows its marker too (created before it led, in the same
    /// directory), so a candidate first in line that sees none need not read one.
    async fn listing(&self) -> Result<(Vec<String>, bool)> {
        let children = match self.client().list_children(&self.dir).await {
            Err(zk::Error::NoNode) => Vec::new(),
            other => other.map_err(connect::at(&self.dir))?,
        };
        let held = children.iter().any(|c| c == layout::HOLD);
        Ok((layout::in_line(children), held))
    }

    /// An `exists` watch on `path`; `None` when the node is gone already.
    async fn watch_node(&self, path: &str) -> Result<Option<zk::OneshotWatcher>> {
        let (stat, watcher) = self
            .client()
            .check_and_watch_stat(path)
            .await
            .map_err(connect::at(path))?;
        Ok(stat.map(|_| watcher))
    }

    /// Waits until the session confirms a contact later than `sent_at`.
    async fn contact_after(&self, sent_at: Instant) -> Result<()> {
        let mut contact = self.session.contact();
        loop {
            let c = *contact.borrow_and_update();
            if c.link == Link::Ended {
                return Err(not_leader("the ZooKeeper session ended"));
            }
            if c.sent_at > sent_at {
                return Ok(());
            }
            if contact.changed().await.is_err() {
                return Err(not_leader("the ZooKeeper session ended"));
            }
        }
    }

    async fn delete_node(&mut self) -> Result<()> {
        self.leading = None;
        let node = std::mem::replace(&mut self.node, Node::None);
        let name = match node {
            Node::None => return Ok(()),
            Node::Known { name, .. } => name,
            Node::Unknown => {
                self.node = Node::Unknown;
                self.reconcile().await?;
                match std::mem::replace(&mut self.node, Node::None) {
                    Node::Known { name, .. } => name,
                    _ => return Ok(()),
                }
            }
        };
        if self.session.ended() {
            return Ok(()); // the server deleted it with the session (the marker stays)
        }
        if let Some(marker) = self.marker.take() {
            // The marker goes only with a node that still exists: a release, not a loss.
            let path = self.path(&name);
            let mut w = self.client().new_multi_writer();
            marker.add_delete(&mut w)?;
            w.add_delete(&path, None).map_err(connect::at(&path))?;
            match w.commit().await {
                Ok(_) => {
                    marker.released();
                    return Ok(());
                }
                // The marker went with its session: delete the node alone, below.
                Err(zk::MultiWriteError::OperationFailed { index: 0, .. }) => drop(marker),
                // Our node is gone (lost): the marker stays for its window.
                Err(zk::MultiWriteError::OperationFailed { .. }) => return Ok(()),
                Err(e) => return Err(connect::at(&path)(zk::Error::from(e))),
            }
        }
        match self.client().delete(&self.path(&name), None).await {
            Ok(()) | Err(zk::Error::NoNode) => Ok(()),
            Err(e) if connect::is_terminal(&e) => Ok(()),
            Err(e) => Err(connect::at(&self.path(&name))(e)),
        }
    }
}

#[async_trait]
impl Candidacy for ZkCandidacy {
    async fn acquire(&mut self) -> Result<Grant> {
        self.leading = None;
        loop {
            self.check_session()?;
            let (name, czxid) = self.ensure_node().await?;
            let own_watch = match self.own_watch.take() {
                Some((n, w)) if n == name => w,
                _ => {
                    let Some(watcher) = self.watch_node(&self.path(&name)).await? else {
                        self.node = Node::None;
                        continue;
                    };
                    deleted(watcher)
                }
            };
            let epoch = self.session.contact().borrow().epoch;
            let (line, held) = self.listing().await?;
            self.delete_orphans(&line, &name);
            let Some(pos) = line.iter().position(|c| *c == name) else {
                // Deleted under us while the session lives (an operator?): stand in line again.
                self.node = Node::None;
                continue;
            };
            if pos == 0 {
                if !self.clear_to_lead(&name, held).await? {
                    self.own_watch = Some((name, own_watch));
                    continue;
                }
                let sent_at = self.session.contact().borrow().sent_at;
                if sent_at + self.session.timeout * 2 / 3 <= Instant::now() {
                    // Heartbeats have not been confirmed for longer than their usual lag (a
                    // disconnection, a slow ensemble): a lease from that contact would be
                    // nearly over, or over. Wait for a fresher one, then read the line again.
                    self.own_watch = Some((name, own_watch));
                    self.contact_after(sent_at).await?;
                    continue;
                }
                self.leading = Some(Leading {
                    verified_epoch: epoch,
                    reported: sent_at,
                    deleted: own_watch,
                });
                return Ok(Grant {
                    term: czxid as u64,
                    renewal: Renewal {
                        sent_at,
                        ttl: self.session.timeout,
                    },
                });
            }
            self.own_watch = Some((name, own_watch));
            let predecessor = self.path(&line[pos - 1]);
            let Some(watcher) = self.watch_node(&predecessor).await? else {
                continue; // gone between the listing and the watch: look again
            };
            let waiting = Waiting::start();
            let event = watcher.changed().await;
            drop(waiting);
            WAKEUPS.fetch_add(1, Ordering::Relaxed);
            if event.event_type == zk::EventType::Session && event.session_state.is_terminated() {
                return Err(not_leader(
                    "the ZooKeeper session ended while waiting in line",
                ));
            }
            // Whatever happened, the line is read again before claiming anything: a hand-over
            // deletes our node together with our predecessor's, in one transaction.
        }
    }

    async fn renew(&mut self) -> Result<Renewal> {
        let timeout = self.session.timeout;
        let mut contact = self.session.contact();
        loop {
            if let Some(m) = &self.marker {
                m.check()?;
            }
            let Some(leading) = self.leading.as_mut() else {
                return Err(not_leader("not leading"));
            };
            let c = *contact.borrow_and_update();
            if c.link == Link::Ended {
                return Err(not_leader("the ZooKeeper session ended"));
            }
            if c.link == Link::Connected && c.epoch != leading.verified_epoch {
                // Reconnected in the same session: our node and its place in line are
                // checked against the server before the leadership is extended (by the next
                // confirmed heartbeat, below).
                let line = self.line().await?;
                let Node::Known { name, .. } = &self.node else {
                    return Err(not_leader("no candidate node"));
                };
                if line.first() != Some(name) {
                    return Err(not_leader(
                        "after reconnecting, our node no longer leads the line",
                    ));
                }
                self.leading.as_mut().expect("checked above").verified_epoch = c.epoch;
                continue;
            }
            if c.link == Link::Connected && c.sent_at > leading.reported {
                leading.reported = c.sent_at;
                return Ok(Renewal {
                    sent_at: c.sent_at,
                    ttl: timeout,
                });
            }
            // Nothing newer yet: wait for the next heartbeat, a state change, or our node
            // going away. While disconnected this waits, and the engine's deadline decides.
            tokio::select! {
                event = leading.deleted.get_mut().unwrap_or_else(|e| e.into_inner()) => {
                    if event.event_type == zk::EventType::NodeDeleted
                        || event.session_state.is_terminated()
                    {
                        self.leading = None;
                        self.node = Node::None;
                        return Err(not_leader("our candidate node was deleted"));
                    }
                    // A data change (our own proclaim): watch again.
                    let own = match &self.node {
                        Node::Known { name, .. } => self.path(name),
                        _ => return Err(not_leader("no candidate node")),
                    };
                    let Some(watcher) = self.watch_node(&own).await? else {
                        return Err(not_leader("our candidate node was deleted"));
                    };
                    if let Some(l) = self.leading.as_mut() {
                        l.deleted = deleted(watcher);
                    }
                }
                changed = contact.changed() => {
                    if changed.is_err() {
                        return Err(not_leader("the ZooKeeper session ended"));
                    }
                }
            }
        }
    }

    /// Rewrites our own node's data. Only a leading candidacy does, and its node, first in
    /// line, lives exactly as long as its claim: gone (session ended, deleted) is `NotLeader`.
    async fn proclaim(&mut self, value: &str) -> Result<()> {
        self.check_session()?;
        let (Some(_), Node::Known { name, .. }) = (&self.leading, &self.node) else {
            return Err(not_leader("not leading"));
        };
        let path = self.path(name);
        let id = self.data.split(|b| *b == b'\n').next().unwrap_or_default();
        let data = super::watch::encode(&String::from_utf8_lossy(id), value);
        match self.client().set_data(&path, &data, None).await {
            Ok(_) => {
                self.data = data;
                Ok(())
            }
            Err(zk::Error::NoNode) => Err(not_leader("our candidate node is gone")),
            Err(e) => Err(connect::at(&path)(e)),
        }
    }

    async fn release(&mut self) -> Result<()> {
        self.delete_node().await
    }

    /// One `multi`: the successor's node still exists (a version check any version passes),
    /// the nodes in line between ours and the successor's are deleted (their candidates,
    /// finding their node gone, stand in line again at its end) and so is ours. The
    /// successor, woken by its predecessor's deletion, is then first in line.
    async fn hand_over(&mut self, successor: &str) -> Result<()> {
        self.check_session()?;
        let (Some(_), Node::Known { name, .. }) = (&self.leading, &self.node) else {
            return Err(not_leader("not leading"));
        };
        let name = name.clone();
        let at = connect::at(&self.dir);
        let line = self.line().await?;
        let Some(pos) = line.iter().position(|c| *c == name) else {
            return Err(not_leader("our candidate node is gone"));
        };
        let behind = &line[pos + 1..];
        let mut reader = self.client().new_multi_reader();
        for n in behind {
            reader.add_get_data(&self.path(n)).map_err(&at)?;
        }
        let read = reader.commit().await.map_err(&at)?;
        let Some(k) = read.iter().position(|r| {
            matches!(r, zk::MultiReadResult::Data { data, .. }
                if super::watch::decode(data).id == successor)
        }) else {
            return Err(Error::invalid(format!(
                "hand-over: `{successor}` is not in line in `{}`",
                self.dir
            )));
        };
        let mut w = self.client().new_multi_writer();
        w.add_check_version(&self.path(&behind[k]), -1)
            .map_err(&at)?;
        for n in &behind[..k] {
            w.add_delete(&self.path(n), None).map_err(&at)?;
        }
        w.add_delete(&self.path(&name), None).map_err(&at)?;
        // After the check, the deletes of the nodes in between and of ours.
        let marker_at = k + 2;
        if let Some(m) = &self.marker {
            m.add_delete(&mut w)?;
        }
        match w.commit().await {
            Ok(_) => {
                self.leading = None;
                self.node = Node::None;
                if let Some(m) = self.marker.take() {
                    m.released();
                }
                Ok(())
            }
            Err(zk::MultiWriteError::OperationFailed { index, .. })
                if index == marker_at && self.marker.is_some() =>
            {
                self.marker = None;
                Err(not_leader(
                    "hand-over refused: the hold-off marker went with its session",
                ))
            }
            Err(zk::MultiWriteError::OperationFailed { index, source }) => Err(if index == 0 {
                Error::invalid(format!("hand-over: `{successor}` left the line meanwhile"))
            } else {
                not_leader(&format!("hand-over refused by ZooKeeper: {source}"))
            }),
            Err(e) => Err(at(zk::Error::from(e))),
        }
    }

    async fn leave(mut self: Box<Self>) -> Result<()> {
        self.delete_node().await
    }
}

impl Drop for ZkCandidacy {
    /// A candidacy dropped without `leave` (the engine gave up on it) must not leave its node
    /// standing in line while the session lives on.
    fn drop(&mut self) {
        if self.session.ended() {
            return;
        }
        match &self.node {
            Node::None => {}
            Node::Known { name, .. } => drop(self.client().delete(&self.path(name), None)),
            Node::Unknown => {
                let mut orphan = ZkCandidacy {
                    session: self.session.clone(),
                    dir: self.dir.clone(),
                    prefix: self.prefix.clone(),
                    data: Vec::new(),
                    acl: self.acl,
                    node: Node::Unknown,
                    own_watch: None,
                    leading: None,
                    hold: None,
                    marker: None,
                };
                self.node = Node::None;
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    rt.spawn(async move {
                        let _ = orphan.delete_node().await;
                    });
                } else {
                    orphan.node = Node::None;
                }
            }
        }
    }
}
