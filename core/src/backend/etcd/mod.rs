//! The etcd v3 store: leases, create-if-absent transactions, ordered waiters and watches, the
//! way etcd's own `concurrency.Election` works.
//!
//! Keys live under the URI's path (see [`layout`]). Candidates stand in line in order of their
//! key's create revision; the first leads, and its create revision is the fencing token
//! (revisions only grow, across candidates and restarts of the store). Each waiter watches only the key just ahead of it, so
//! a departure wakes one candidate, not all of them.
//!
//! One lease per connection ([`keepalive::SharedLease`]) carries the keys of every election of the
//! process on that store, so keep-alive traffic does not grow with the number of elections.

mod candidacy;
mod connect;
mod holdoff;
mod keepalive;
mod layout;
mod options;
mod watch;

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use etcd_client::{Client, GetOptions, KeyValue, SortOrder, SortTarget, Txn, TxnOp, TxnOpResponse};

use super::registry::Driver;
use super::{Backend, Candidacy, CandidateSpec, LeaderStream, MemberStream};
use crate::backend::limits::{self, MAX_MEMBERS};
use crate::error::{Error, ErrorCode, Result};
use crate::event::{LeaderInfo, Member};
use crate::uri::Config;
use connect::bounded;
use holdoff::{Markers, Names};
use keepalive::SharedLease;
use layout::{decode, prefix_of};

/// How the registry reaches this store.
pub(crate) static DRIVER: Driver = Driver {
    options: options::NAMES,
    parse: options::parse,
    open: |config| Box::pin(EtcdBackend::open(config)),
};

pub struct EtcdBackend {
    inner: Arc<Inner>,
}

/// What candidacies and watches share with the backend.
pub(crate) struct Inner {
    client: Client,
    prefix: String,
    /// TTL asked for the shared lease, in seconds (see [`keepalive::lease_secs`]). `ttl`, `renew`
    /// and `margin` are part of the store key, so every election on this connection has them.
    lease_secs: i64,
    /// Keep-alive interval of the shared lease: the elections' `renew`.
    interval: Duration,
    /// Subtracted from a confirmation's TTL to decide whether it is still worth granting on.
    margin: Duration,
    /// Limit on one request to etcd (the connection's `connect_timeout`).
    op_timeout: Duration,
    /// Pause before re-opening a broken observer watch.
    retry: Duration,
    /// The connection's lease while any candidacy holds it.
    lease: tokio::sync::Mutex<Weak<SharedLease>>,
}

impl EtcdBackend {
    pub async fn open(config: &Config) -> Result<Arc<dyn Backend>> {
        Ok(Arc::new(EtcdBackend {
            inner: Arc::new(Inner::open(config).await?),
        }))
    }
}

impl Inner {
    async fn open(config: &Config) -> Result<Inner> {
        let prefix = prefix_of(&config.path)?;
        let client = connect::client(config).await?;
        // The channel connects lazily: one small read proves that a server answers and that
        // the credentials may read the prefix, so that `open` fails now rather than later.
        let mut kv = client.kv_client();
        kv.get(
            format!("{prefix}/"),
            Some(GetOptions::new().with_prefix().with_count_only()),
        )
        .await
        .map_err(|e| connect::at_open(config, needs(&prefix, connect::map_err(e, "open"))))?;
        Ok(Inner {
            client,
            prefix,
            lease_secs: keepalive::lease_secs(config.ttl, config.renew(), config.margin()),
            interval: config.renew(),
            margin: config.margin(),
            op_timeout: config.connect_timeout,
            retry: config.retry,
            lease: Default::default(),
        })
    }
}

/// A `permission` error with what the user lacks (etcd itself says only "permission denied").
fn needs(prefix: &str, e: Error) -> Error {
    if e.code() != ErrorCode::Permission {
        return e;
    }
    Error::new(
        ErrorCode::Permission,
        format!(
            "{}: the user needs readwrite on the key prefix `{prefix}/` (`etcdctl role \
             grant-permission <role> readwrite {prefix}/ --prefix`)",
            e.message()
        ),
    )
}

impl Inner {
    /// `<prefix>/<election>/`: the range every candidate key of `election` lives in.
    fn dir(&self, election: &str) -> String {
        layout::dir(&self.prefix, election)
    }

    /// The connection's lease, granted if there is none or the last one was lost.
    async fn lease(&self) -> Result<Arc<SharedLease>> {
        let mut slot = self.lease.lock().await;
        if let Some(lease) = slot.upgrade().filter(|l| !l.is_lost()) {
            return Ok(lease);
        }
        let lease = SharedLease::grant(
            &self.client,
            self.lease_secs,
            self.interval,
            self.op_timeout,
        )
        .await?;
        *slot = Arc::downgrade(&lease);
        Ok(lease)
    }

    /// Hands back a candidacy's use of the lease; the last user revokes it, so that nothing of
    /// this process is left on the server.
    async fn release_lease(&self, lease: Arc<SharedLease>) -> Result<()> {
        // Under the slot lock no `lease()` can take a new reference meanwhile, and the slot is
        // emptied before the lock is let go, so nobody joins on a lease being revoked.
        let mut slot = self.lease.lock().await;
        if Arc::strong_count(&lease) == 1 {
            *slot = Weak::new();
            lease.revoke().await?;
        }
        Ok(())
    }

    /// How the line of `election` is read: in line order, at most `limit` keys.
    fn line_options(limit: i64) -> GetOptions {
        GetOptions::new()
            .with_prefix()
            .with_sort(SortTarget::Create, SortOrder::Ascend)
            .with_limit(limit)
    }

    /// The candidate keys of `election` in line order, with the revision they were read at.
    async fn line(&self, election: &str, limit: i64) -> Result<(Vec<KeyValue>, i64)> {
        let mut kv = self.client.kv_client();
        let opts = Self::line_options(limit);
        let mut resp = bounded(
            self.op_timeout,
            "range",
            kv.get(self.dir(election), Some(opts)),
        )
        .await?;
        let rev = resp.header().map(|h| h.revision()).unwrap_or(0);
        Ok((resp.take_kvs(), rev))
    }

    /// The line (as [`Inner::line`]) and the hold-off markers of `election`, read at one
    /// revision, with that revision.
    async fn view(&self, election: &str, limit: i64) -> Result<(Vec<KeyValue>, Markers, i64)> {
        let [hold, sticky] = Names::of(&self.prefix, election).gets();
        let line = TxnOp::get(self.dir(election), Some(Self::line_options(limit)));
        let txn = Txn::new().and_then([line, hold, sticky]);
        let mut kv = self.client.kv_client();
        let resp = bounded(self.op_timeout, "range", kv.txn(txn)).await?;
        let rev = resp.header().map(|h| h.revision()).unwrap_or(0);
        let mut ops = resp.op_responses().into_iter();
        let Some(TxnOpResponse::Get(mut line)) = ops.next() else {
            return Err(Error::store("etcd range: unexpected transaction answer"));
        };
        let markers = Markers::read(ops.next(), ops.next())?;
        Ok((line.take_kvs(), markers, rev))
    }
}

#[async_trait]
impl Backend for EtcdBackend {
    async fn join(&self, spec: &CandidateSpec) -> Result<Box<dyn Candidacy>> {
        let lease = self.inner.lease().await?;
        Ok(Box::new(candidacy::EtcdCandidacy::new(
            self.inner.clone(),
            lease,
            spec,
        )))
    }

    async fn watch(&self, election: &str) -> Result<LeaderStream> {
        Ok(watch::spawn(self.inner.clone(), election.to_string()))
    }

    async fn leader(&self, election: &str) -> Result<Option<LeaderInfo>> {
        // The head of the line leads unless a lost leader's markers still hold the election.
        let (kvs, markers, _) = self.inner.view(election, 1).await?;
        kvs.first()
            .filter(|kv| markers.admits(kv.key()))
            .map(|kv| limits::leader("etcd", election, decode(kv)))
            .transpose()
    }

    async fn watch_members(&self, election: &str) -> Result<MemberStream> {
        Ok(watch::spawn_members(
            self.inner.clone(),
            election.to_string(),
        ))
    }

    async fn members(&self, election: &str) -> Result<Vec<Member>> {
        // One more than the bound: a longer line is refused without being read whole.
        let (kvs, _) = self.inner.line(election, MAX_MEMBERS as i64 + 1).await?;
        let members = kvs
            .iter()
            .map(decode)
            .map(|l| Member {
                id: l.id,
                value: l.value,
            })
            .collect();
        limits::members("etcd", election, members)
    }
}
