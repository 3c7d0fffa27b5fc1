//! The interface every store implements, and the choice of store from a connection string.
//!
//! A store is one [`Backend`] per connection (shared by every election of the process that uses
//! the same store URI) and one [`Candidacy`] per campaigning election. The engine drives them:
//! `acquire` until elected, `renew` while leading, `release` to hand over, `leave` on close.
//! Backends never decide *when* a leader stops believing it leads: they report confirmed
//! renewals ([`Renewal`]) and the engine keeps the deadline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::event::{LeaderInfo, Member};
use crate::fork::PerProcess;
use crate::uri::Config;
pub use registry::Scheme;

#[cfg(feature = "etcd")]
pub mod etcd;
pub mod file;
pub mod limits;
#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "redis")]
pub mod redis;
pub mod registry;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod rounds;
#[cfg(any(feature = "redis", feature = "postgres", feature = "mysql"))]
mod server_clock;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod sql;
mod stable_hash;
#[cfg(any(
    feature = "etcd",
    feature = "zookeeper",
    feature = "redis",
    feature = "postgres",
    feature = "mysql"
))]
mod tls;
#[cfg(feature = "zookeeper")]
pub mod zookeeper;

/// A confirmed renewal: the store accepted a request sent at `sent_at` and granted `ttl`.
/// The leader may believe it leads until `sent_at + ttl - margin`.
#[derive(Debug, Clone, Copy)]
pub struct Renewal {
    pub sent_at: Instant,
    pub ttl: Duration,
}

/// Leadership granted with fencing token `term`, and the renewal that confirmed it.
#[derive(Debug, Clone, Copy)]
pub struct Grant {
    pub term: u64,
    pub renewal: Renewal,
}

/// Who is campaigning in which election.
#[derive(Debug, Clone, Default)]
pub struct CandidateSpec {
    pub election: String,
    pub id: String,
    /// The value as the store keeps it (with the candidate's rank, see [`crate::succession`]).
    pub value: String,
    /// The `holdoff` option: after this candidate's leadership is lost without a release, the
    /// store grants nobody for this long (stores that support it keep it with the lease).
    pub holdoff: Duration,
    /// The `sticky` option: after this candidate's leadership is lost without a release, the
    /// store grants it to this candidate's id alone for this long.
    pub sticky: Duration,
}

/// Leader changes of one election; the first item is the current leader. The backend stops
/// its watch when the receiver is dropped. Errors are reported and the watch carries on.
pub type LeaderStream = mpsc::Receiver<Result<Option<LeaderInfo>>>;

/// The live candidates of one election, sent whenever they may have changed (the first item is
/// the current list). Same rules as [`LeaderStream`].
pub type MemberStream = mpsc::Receiver<Result<Vec<Member>>>;

/// One store connection, shared by all elections on it.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Enters the election as a candidate (registers it as a member). Does not wait in line.
    async fn join(&self, spec: &CandidateSpec) -> Result<Box<dyn Candidacy>>;
    /// Follows the leader of `election`.
    async fn watch(&self, election: &str) -> Result<LeaderStream>;
    /// Who leads `election` now, read from the store.
    async fn leader(&self, election: &str) -> Result<Option<LeaderInfo>>;
    /// The live candidates of `election`, in line order where the store has one.
    async fn members(&self, election: &str) -> Result<Vec<Member>>;
    /// Follows the live candidates of `election`: joins at once, departures by close at once,
    /// crashed candidates once the store expires their record.
    async fn watch_members(&self, election: &str) -> Result<MemberStream>;
}

/// One candidate in one election.
///
/// Futures returned here may be dropped at any await point (the engine cancels `acquire` on
/// close and `renew` at the deadline); implementations stay consistent when that happens.
#[async_trait]
pub trait Candidacy: Send + 'static {
    /// Waits in line until this candidate leads. Errors are retried by the engine after `retry`.
    async fn acquire(&mut self) -> Result<Grant>;
    /// Confirms the leadership once more. `ErrorCode::NotLeader` when the store says someone
    /// else leads or the lease/session is gone; `ErrorCode::Unreachable` when the connection
    /// failed. Any other error is retried until the deadline.
    async fn renew(&mut self) -> Result<Renewal>;
    /// Publishes `value` as the leader's (and this member's) value for the current term, in one
    /// store operation that first checks this candidacy still holds the leadership
    /// (`ErrorCode::NotLeader` when it does not, and nothing is written). Observers see it as a
    /// leader change with the same term.
    async fn proclaim(&mut self, value: &str) -> Result<()>;
    /// Gives up the leadership so the next candidate takes over now; stays a member.
    async fn release(&mut self) -> Result<()>;
    /// **The hand-off primitive.** Gives up the leadership to the member `successor` (an id):
    /// one store operation checks that this candidacy still leads, gives the leadership up and
    /// makes `successor` the only candidate the store may grant it to next, so that it takes
    /// over at once (woken as by a release) while every other candidate keeps waiting. Lock
    /// stores (file, Redis, PostgreSQL, MySQL) keep a hand-off record naming the successor,
    /// checked in the same atomic step that grants; it lapses one ttl after the hand-off, and
    /// then anyone may be granted. Line stores (etcd, ZooKeeper) remove, in the same
    /// transaction as this candidate's own entry, the entries standing in line ahead of the
    /// successor (those candidates stand in line again at its end), so the successor is first;
    /// if it died meanwhile, its entry expires within one ttl like any leader's. Never two
    /// leaders; the gap is that of a graceful release. `NotLeader` when this candidacy does
    /// not lead, `InvalidArgument` when `successor` is not a member; in both cases nothing
    /// changed. Stays a member.
    async fn hand_over(&mut self, successor: &str) -> Result<()>;
    /// Leaves the election: releases and removes the membership.
    async fn leave(self: Box<Self>) -> Result<()>;
}

/// Sends `item` to a follower's receiver unless it is an `Ok` equal to the last one sent (an
/// unchanged leader or member list is no news; errors always go out). Returns `false` once the
/// receiver is gone.
pub(crate) async fn send_if_changed<T: PartialEq + Clone>(
    tx: &mpsc::Sender<Result<T>>,
    last: &mut Option<T>,
    item: Result<T>,
) -> bool {
    if let Ok(now) = &item {
        if last.as_ref() == Some(now) {
            return true;
        }
        *last = Some(now.clone());
    }
    tx.send(item).await.is_ok()
}

/// Open connections, so that elections on the same store share one (one etcd lease, one
/// ZooKeeper session, one Redis multiplexed connection). Weak: the last election to close a
/// store closes its connection. Per process: a forked child connects afresh, since the
/// parent's connections were served by the parent's runtime (see `fork`).
type Registry = Mutex<HashMap<String, Weak<dyn Backend>>>;
static OPEN: PerProcess<Registry> = PerProcess::new(Registry::default);

/// The shared connection for `config`'s store, opened (within `connect_timeout`) if needed.
pub async fn connect(config: &Config) -> Result<Arc<dyn Backend>> {
    let key = config.store_key();
    if let Some(b) = OPEN
        .get()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .and_then(Weak::upgrade)
    {
        return Ok(b);
    }
    let opened = tokio::time::timeout(config.connect_timeout, open(config))
        .await
        .map_err(|_| {
            Error::unreachable(format!(
                "{config}: no connection within connect_timeout ({})",
                crate::uri::fmt_duration(config.connect_timeout)
            ))
        })??;
    let mut map = OPEN.get().lock().unwrap_or_else(|e| e.into_inner());
    // Another election may have connected meanwhile; keep theirs so there is only one.
    if let Some(b) = map.get(&key).and_then(Weak::upgrade) {
        return Ok(b);
    }
    map.retain(|_, w| w.strong_count() > 0);
    map.insert(key, Arc::downgrade(&opened));
    Ok(opened)
}

async fn open(config: &Config) -> Result<Arc<dyn Backend>> {
    (config.scheme.driver()?.open)(config).await
}
