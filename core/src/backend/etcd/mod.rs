//! The etcd v3 store: leases, create-if-absent transactions, ordered waiters and watches, the
//! way etcd's own `concurrency.Election` works.
//!
//! Layout under the URI's path (the prefix, default `elect`):
//!
//! ```text
//! <prefix>/<election>/<lease id hex>-<n>   value: "<candidate id>\t<value>", attached to the lease
//! ```
//!
//! The election name is percent-encoded (`/` and `%`), so that election `a` never sees the keys
//! of election `a/b`. Candidates stand in line in order of their key's create revision; the
//! first leads, and its create revision is the fencing token (revisions only grow, across
//! candidates and restarts of the store). Each waiter watches only the key just ahead of it, so
//! a departure wakes one candidate, not all of them.
//!
//! One lease per connection ([`lease::SharedLease`]) carries the keys of every election of the
//! process on that store, so keep-alive traffic does not grow with the number of elections.

mod candidacy;
mod connect;
mod lease;
mod observe;

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use etcd_client::{Client, GetOptions, KeyValue, SortOrder, SortTarget};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use super::{Backend, Candidacy, CandidateSpec, LeaderStream, MemberStream};
use crate::error::{Error, Result};
use crate::event::{LeaderInfo, Member};
use crate::uri::Config;
use connect::bounded;
use lease::SharedLease;

/// `ca`: PEM file of the CA that signed the servers' certificates (switches to TLS);
/// `cert` and `key`: PEM client certificate and key, for servers that require them.
pub const OPTIONS: &[&str] = &["ca", "cert", "key"];

/// The prefix used when the URI has no path.
const DEFAULT_PREFIX: &str = "elect";

/// Characters escaped in election names so that a name is exactly one key segment.
const SEGMENT: &AsciiSet = &CONTROLS.add(b'/').add(b'%');

pub struct EtcdBackend {
    inner: Arc<Inner>,
}

/// What candidacies and watches share with the backend.
pub(crate) struct Inner {
    client: Client,
    prefix: String,
    /// TTL asked for the shared lease, in seconds (see [`lease::lease_secs`]). `ttl`, `renew`
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
        .map_err(|e| connect::at_open(config, connect::map_err(e, "open")))?;
        Ok(Inner {
            client,
            prefix,
            lease_secs: lease::lease_secs(config.ttl, config.renew(), config.margin()),
            interval: config.renew(),
            margin: config.margin(),
            op_timeout: config.connect_timeout,
            retry: config.retry,
            lease: Default::default(),
        })
    }
}

/// The URI's path as a key prefix: no trailing `/`, no empty segments, no control characters.
fn prefix_of(path: &str) -> Result<String> {
    let prefix = path.strip_suffix('/').unwrap_or(path);
    if prefix.is_empty() {
        return Ok(DEFAULT_PREFIX.to_string());
    }
    let bad = |why: &str| Err(Error::invalid(format!("path `{path}`: {why}")));
    if prefix.chars().any(char::is_control) {
        return bad("control characters are not allowed in the etcd key prefix");
    }
    if prefix.split('/').any(str::is_empty) {
        return bad("empty segments (`//`) are not allowed in the etcd key prefix");
    }
    if prefix.len() > 512 {
        return bad("the etcd key prefix is longer than 512 bytes");
    }
    Ok(prefix.to_string())
}

impl Inner {
    /// `<prefix>/<election>/`: the range every candidate key of `election` lives in.
    fn dir(&self, election: &str) -> String {
        format!(
            "{}/{}/",
            self.prefix,
            utf8_percent_encode(election, SEGMENT)
        )
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

    /// The candidate keys of `election` in line order, with the revision they were read at.
    async fn line(&self, election: &str, limit: i64) -> Result<(Vec<KeyValue>, i64)> {
        let mut kv = self.client.kv_client();
        let opts = GetOptions::new()
            .with_prefix()
            .with_sort(SortTarget::Create, SortOrder::Ascend)
            .with_limit(limit);
        let mut resp = bounded(
            self.op_timeout,
            "range",
            kv.get(self.dir(election), Some(opts)),
        )
        .await?;
        let rev = resp.header().map(|h| h.revision()).unwrap_or(0);
        Ok((resp.take_kvs(), rev))
    }
}

/// A candidate key's value: `id\tvalue` (ids and values never contain control characters).
fn encode_value(spec: &CandidateSpec) -> String {
    format!("{}\t{}", spec.id, spec.value)
}

fn decode(kv: &KeyValue) -> LeaderInfo {
    let text = String::from_utf8_lossy(kv.value());
    let (id, value) = text.split_once('\t').unwrap_or((&text, ""));
    LeaderInfo {
        id: id.to_string(),
        value: value.to_string(),
        term: kv.create_revision() as u64,
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
        Ok(observe::spawn(self.inner.clone(), election.to_string()))
    }

    async fn leader(&self, election: &str) -> Result<Option<LeaderInfo>> {
        let (kvs, _) = self.inner.line(election, 1).await?;
        Ok(kvs.first().map(decode))
    }

    async fn watch_members(&self, election: &str) -> Result<MemberStream> {
        Ok(observe::spawn_members(
            self.inner.clone(),
            election.to_string(),
        ))
    }

    async fn members(&self, election: &str) -> Result<Vec<Member>> {
        let (kvs, _) = self.inner.line(election, 0).await?;
        Ok(kvs
            .iter()
            .map(decode)
            .map(|l| Member {
                id: l.id,
                value: l.value,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(prefix_of("").unwrap(), "elect");
        assert_eq!(prefix_of("svc/jobs/").unwrap(), "svc/jobs");
        for bad in ["a//b", "/a", "a\u{1}b"] {
            let e = prefix_of(bad).unwrap_err();
            assert!(e.message().starts_with("path `"), "{e:?}");
        }
    }
}
