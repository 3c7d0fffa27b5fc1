//! The ZooKeeper store: `zk://h1:2181,h2:2181/chroot`, ephemeral sequential nodes.
//!
//! - One session per store connection ([`connect`]), its timeout asked from `ttl` less the
//!   servers' tick ([`tick`]), so a crashed leader's session ends within `ttl`; the timeout the
//!   server grants is what leaders' deadlines use. One heartbeat per session confirms
//!   contact for all its elections ([`keepalive`]).
//! - Each candidate: an ephemeral sequential node under `/<chroot>/<election>/`, named with a
//!   unique protection part so an ambiguous create is reconciled ([`candidacy`], [`layout`]).
//!   The lowest sequence leads; the others watch only their predecessor. Token: the leader
//!   node's czxid.
//! - Observers and members read the children ([`watch`]); digest credentials and ACLs
//!   ([`acl`]).
//!
//! - `holdoff`: a marker node beside the line, ephemeral in a second session that outlives the
//!   leader's by the window ([`hold`]).
//!
//! Options: `acl=open|read|private` (see [`acl`]).

mod acl;
mod candidacy;
mod connect;
mod hold;
mod keepalive;
mod layout;
mod options;
mod tick;
mod tls_probe;
mod watch;

use std::collections::HashMap;
#[cfg(feature = "testing")]
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::task::AbortHandle;
use zookeeper_client as zk;

use self::acl::AclMode;
use self::connect::{Lasting, Session};
use self::options::ZkOptions;
use super::registry::Driver;
use super::{Backend, Candidacy, CandidateSpec, LeaderStream, MemberStream};
use crate::error::{Error, ErrorCode, Result};
use crate::event::{LeaderInfo, Member};
use crate::uri::Config;

/// How the registry reaches this store.
pub(crate) static DRIVER: Driver = Driver {
    options: options::NAMES,
    parse: options::parse,
    open: |config| Box::pin(ZkBackend::open(config)),
};

/// How many candidates of this process wait on their predecessor's node now, and how many such
/// waits have been woken since the process started. Lets tests and operators check that a
/// handover wakes one waiter, not all of them.
#[cfg(feature = "testing")]
pub fn wait_stats() -> (usize, u64) {
    (
        candidacy::WAITING.load(Ordering::Relaxed),
        candidacy::WAKEUPS.load(Ordering::Relaxed),
    )
}

/// Every session this process opened: the servers' tick it learned (`None` if the probe
/// failed), the session timeout it asked for and the one granted.
#[cfg(feature = "testing")]
pub fn sessions() -> Vec<(Option<Duration>, Duration, Duration)> {
    tick::SESSIONS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// What the backend's tasks share: the configuration and the current session.
pub(crate) struct Shared {
    config: Config,
    chroot: String,
    acl: AclMode,
    retry: Duration,
    current: tokio::sync::Mutex<Option<Arc<Session>>>,
    /// The hold-off sessions, one per window (see [`hold`]).
    holds: tokio::sync::Mutex<HashMap<Duration, Arc<Session>>>,
    tasks: Mutex<Vec<AbortHandle>>,
    followers: watch::Followers<Option<LeaderInfo>>,
    member_followers: watch::Followers<Vec<Member>>,
}

impl Shared {
    /// The live session, or a new one when the last has expired (its nodes are gone; candidates
    /// holding the old one are told `NotLeader` and join again on this one).
    async fn session(&self) -> Result<Arc<Session>> {
        let mut current = self.current.lock().await;
        if let Some(s) = current.as_ref().filter(|s| !s.ended()) {
            return Ok(s.clone());
        }
        let fresh = self
            .connect(Lasting::AtMost(self.config.ttl), "new")
            .await?;
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// The live hold-off session for a window of `window`, or a new one; refused when the
    /// servers grant a shorter timeout than it asks. It lasts `ttl + window + renew` after its
    /// last contact: its last heartbeat before a crash may precede the main session's by up to
    /// `renew`, whose candidate node goes at most `ttl` after, so the marker outlives that node
    /// by the window.
    async fn hold_session(&self, window: Duration) -> Result<Arc<Session>> {
        let mut holds = self.holds.lock().await;
        if let Some(s) = holds.get(&window).filter(|s| !s.ended()) {
            return Ok(s.clone());
        }
        let lasting = self.config.ttl + window + self.config.renew();
        let fresh = self.connect(Lasting::AtLeast(lasting), "hold-off").await?;
        hold::check_granted(lasting, fresh.timeout, window)?;
        holds.insert(window, fresh.clone());
        Ok(fresh)
    }

    /// A session lasting as `lasting` says, within `connect_timeout`.
    async fn connect(&self, lasting: Lasting, what: &str) -> Result<Arc<Session>> {
        tokio::time::timeout(
            self.config.connect_timeout,
            Session::connect_for(&self.config, lasting),
        )
        .await
        .map_err(|_| {
            Error::unreachable(format!(
                "{}: no {what} ZooKeeper session within connect_timeout",
                self.config
            ))
        })?
    }

    fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(task).abort_handle();
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        tasks.retain(|t| !t.is_finished());
        tasks.push(handle);
    }

    fn dir(&self, election: &str) -> String {
        layout::election_dir(&self.chroot, election)
    }
}

pub struct ZkBackend {
    shared: Arc<Shared>,
}

impl ZkBackend {
    pub async fn open(config: &Config) -> Result<Arc<dyn super::Backend>> {
        let chroot = layout::chroot(&config.path)?;
        let acl = config.store_options::<ZkOptions>()?.acl;
        let session = Session::connect(config).await?;
        prepare_chroot(&session, config, &chroot, acl).await?;
        let shared = Arc::new(Shared {
            config: config.clone(),
            chroot,
            acl,
            retry: config.retry,
            current: tokio::sync::Mutex::new(Some(session)),
            holds: tokio::sync::Mutex::default(),
            tasks: Mutex::new(Vec::new()),
            followers: watch::Followers::leaders(),
            member_followers: watch::Followers::members(),
        });
        if !config.holdoff.is_zero() {
            // A window the servers cannot keep fails here, not at the first election.
            shared.hold_session(config.holdoff).await?;
        }
        Ok(Arc::new(ZkBackend { shared }))
    }
}

impl Drop for ZkBackend {
    fn drop(&mut self) {
        for t in self
            .shared
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            t.abort();
        }
    }
}

/// Checks the credentials against the nearest existing node on the chroot's path, then creates
/// the chroot (and its parents) with our ACL, so that a bad chroot fails at open.
async fn prepare_chroot(
    session: &Session,
    config: &Config,
    chroot: &str,
    acl: AclMode,
) -> Result<()> {
    let mut probe = Some(chroot);
    while let Some(path) = probe {
        match session.client.check_stat(path).await {
            Ok(Some(_)) => {
                acl::check_access(session, config, path).await?;
                break;
            }
            Ok(None) => probe = layout::parent(path),
            Err(e) => return Err(connect::at(path)(e)),
        }
    }
    let options = zk::CreateMode::Persistent.with_acls(acl.acls());
    session
        .client
        .mkdir(chroot, &options)
        .await
        .map_err(|e| match e {
            zk::Error::NoChildrenForEphemerals => Error::invalid(format!(
                "path `{chroot}`: bad ZooKeeper chroot: it lies under an ephemeral node"
            )),
            zk::Error::NoAuth => Error::new(
                ErrorCode::Permission,
                format!("path `{chroot}`: ZooKeeper's ACL does not let us create the chroot"),
            ),
            other => connect::at(chroot)(other),
        })
}

#[async_trait]
impl Backend for ZkBackend {
    async fn join(&self, spec: &CandidateSpec) -> Result<Box<dyn Candidacy>> {
        let session = self.shared.session().await?;
        Ok(Box::new(candidacy::ZkCandidacy::new(
            session,
            self.shared.dir(&spec.election),
            watch::encode(&spec.id, &spec.value),
            self.shared.acl,
            (!spec.holdoff.is_zero()).then(|| (self.shared.clone(), spec.holdoff)),
        )))
    }

    async fn watch(&self, election: &str) -> Result<LeaderStream> {
        Ok(self
            .shared
            .followers
            .subscribe(&self.shared, self.shared.dir(election)))
    }

    async fn leader(&self, election: &str) -> Result<Option<LeaderInfo>> {
        let session = self.shared.session().await?;
        watch::leader(&session, &self.shared.dir(election)).await
    }

    async fn members(&self, election: &str) -> Result<Vec<Member>> {
        let session = self.shared.session().await?;
        watch::members(&session, &self.shared.dir(election)).await
    }

    async fn watch_members(&self, election: &str) -> Result<MemberStream> {
        Ok(self
            .shared
            .member_followers
            .subscribe(&self.shared, self.shared.dir(election)))
    }
}
