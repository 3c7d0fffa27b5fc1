//! One candidate in one election: a key on the shared lease, waiting for the key ahead of it
//! (and, first in line, for the hold-off markers of a lost leader: see [`super::holdoff`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use etcd_client::{
    Compare, CompareOp, EventType, GetOptions, PutOptions, SortOrder, SortTarget, Txn, TxnOp,
    TxnOpResponse,
};

use super::connect::{bounded, map_err};
use super::holdoff::{self, MarkerLease, Markers, Names};
use super::keepalive::SharedLease;
use super::layout::encode_value;
use super::Inner;
use crate::backend::{Candidacy, CandidateSpec, Grant, Renewal};
use crate::error::{Error, ErrorCode, Result};

pub struct EtcdCandidacy {
    inner: Arc<Inner>,
    lease: Option<Arc<SharedLease>>,
    /// `<prefix>/<election>/`
    dir: String,
    /// `<dir><lease id hex>-<n>`: fixed for the life of the candidacy, so a retried create
    /// finds the key an earlier, unanswered attempt may have made.
    key: String,
    /// The candidate id, and `<id>\t<value>` as stored in the key.
    id: String,
    value: String,
    /// Create revision of our key, while we believe it exists.
    rev: Option<i64>,
    /// A revision we gave up (released) but whose key may still exist because the delete did
    /// not go through. It must not be reused: a new term needs a new, higher revision.
    stale: Option<i64>,
    /// A create may have reached the server (sent, answer not seen, or key not yet deleted).
    /// Leaving then deletes the key by name: a campaign cancelled mid-request must not leave
    /// a ghost in line for as long as the shared lease lives.
    maybe_exists: bool,
    /// Send time of the last renewal reported to the engine.
    last_sent: Instant,
    /// The hold-off and sticky marker keys of the election, and our windows (`holdoff`,
    /// `sticky`; zero: no marker of that kind).
    names: Names,
    windows: [Duration; 2],
    /// The leases of the markers we wrote, while leading on them.
    markers: Vec<MarkerLease>,
}

/// Where a candidate stands, read at one revision.
struct Position {
    /// Our key still exists at the revision we stood in line with.
    exists: bool,
    /// The keys ahead of ours, the nearest last (all of them only when `all` was asked).
    ahead: Vec<etcd_client::KeyValue>,
    markers: Markers,
}

/// What a candidate waits for: a key ahead of it to go, or a marker to change.
enum Until {
    /// Gone, or no longer created before our key (created at this revision).
    Gone(i64),
    /// Deleted or rewritten since this mod revision.
    Changed(i64),
}

impl EtcdCandidacy {
    pub fn new(inner: Arc<Inner>, lease: Arc<SharedLease>, spec: &CandidateSpec) -> EtcdCandidacy {
        let dir = inner.dir(&spec.election);
        let key = format!("{dir}{}", lease.key_name());
        let names = Names::of(&inner.prefix, &spec.election);
        EtcdCandidacy {
            inner,
            dir,
            key,
            id: spec.id.clone(),
            value: encode_value(spec),
            rev: None,
            stale: None,
            maybe_exists: false,
            last_sent: Instant::now(),
            lease: Some(lease),
            names,
            windows: [spec.holdoff, spec.sticky],
            markers: Vec::new(),
        }
    }

    fn lease(&self) -> Result<&Arc<SharedLease>> {
        self.lease.as_ref().ok_or_else(Error::closed)
    }

    /// Makes sure our key exists and returns its create revision. Create-if-absent, so a retry
    /// after an unanswered attempt finds the key that attempt made instead of making a second.
    async fn create(&mut self) -> Result<i64> {
        let lease_id = self.lease()?.id;
        if let Some(stale) = self.stale {
            self.delete_if(stale).await?;
            self.stale = None;
        }
        let txn = Txn::new()
            .when([Compare::create_revision(
                self.key.as_str(),
                CompareOp::Equal,
                0,
            )])
            .and_then([TxnOp::put(
                self.key.as_str(),
                self.value.as_str(),
                Some(PutOptions::new().with_lease(lease_id)),
            )])
            .or_else([TxnOp::get(self.key.as_str(), None)]);
        self.maybe_exists = true;
        let mut kv = self.inner.client.kv_client();
        let resp = match bounded(self.inner.op_timeout, "campaign", kv.txn(txn)).await {
            Ok(resp) => resp,
            Err(e) => {
                if e.code() == ErrorCode::NotLeader {
                    self.lease()?.mark_lost(); // "requested lease not found"
                }
                return Err(e);
            }
        };
        if resp.succeeded() {
            return resp
                .header()
                .map(|h| h.revision())
                .ok_or_else(|| Error::store("etcd campaign: the answer has no header"));
        }
        match resp.op_responses().into_iter().next() {
            Some(TxnOpResponse::Get(get)) if !get.kvs().is_empty() => {
                Ok(get.kvs()[0].create_revision())
            }
            // Deleted between the compare and the read cannot happen in one txn; an empty
            // answer means the key is gone again: the caller simply tries once more.
            _ => Err(Error::store("etcd campaign: our key vanished; retrying")),
        }
    }

    /// Whether our key still exists at `rev`, the key just ahead of it in line (every key
    /// ahead if `all`), and the markers, read at one revision.
    async fn position(&self, rev: i64, all: bool) -> Result<Position> {
        let order = if all {
            SortOrder::Ascend
        } else {
            SortOrder::Descend
        };
        let mut ahead = GetOptions::new()
            .with_prefix()
            .with_max_create_revision(rev - 1)
            .with_sort(SortTarget::Create, order)
            .with_keys_only();
        if !all {
            ahead = ahead.with_limit(1);
        }
        let [hold, sticky] = self.names.gets();
        let txn = Txn::new().and_then([
            TxnOp::get(self.key.as_str(), Some(GetOptions::new().with_keys_only())),
            TxnOp::get(self.dir.as_str(), Some(ahead)),
            hold,
            sticky,
        ]);
        let mut kv = self.inner.client.kv_client();
        let resp = bounded(self.inner.op_timeout, "campaign", kv.txn(txn)).await?;
        let mut ops = resp.op_responses().into_iter();
        let (Some(TxnOpResponse::Get(mine)), Some(TxnOpResponse::Get(mut ahead))) =
            (ops.next(), ops.next())
        else {
            return Err(Error::store("etcd campaign: unexpected transaction answer"));
        };
        let markers = Markers::read(ops.next(), ops.next())?;
        let exists = mine.kvs().iter().any(|kv| kv.create_revision() == rev);
        Ok(Position {
            exists,
            ahead: ahead.take_kvs(),
            markers,
        })
    }

    /// Waits until `key` changes as `until` says (any event on it, or a cancelled watch, calls
    /// for a fresh look), or until our lease is lost.
    ///
    /// The watch starts at the current revision rather than at `at + 1`: etcd serves a watch
    /// that starts in the past from a loop that runs every 100 ms, which would add up to that
    /// much to a handover. For the same reason, once the watch exists, one read checks that
    /// the key is still there: etcd 3.4 reads the current revision a moment before it
    /// registers a watch, and a write in between (such as this very delete) also lands the
    /// watch in that slow loop.
    async fn wait_for(&self, key: Vec<u8>, until: Until) -> Result<()> {
        let lease = self.lease()?.clone();
        let mut wc = self.inner.client.watch_client();
        let mut stream =
            bounded(self.inner.op_timeout, "watch", wc.watch(key.clone(), None)).await?;
        loop {
            let msg = tokio::select! {
                m = stream.message() => m,
                _ = lease.lost() => return Err(lost_while_waiting()),
            };
            match msg {
                Ok(Some(resp)) => {
                    let deleted = resp
                        .events()
                        .iter()
                        .any(|e| e.event_type() == EventType::Delete);
                    if resp.canceled() || deleted {
                        return Ok(());
                    }
                    if matches!(until, Until::Changed(_)) && !resp.events().is_empty() {
                        return Ok(());
                    }
                    if resp.created() && !self.unchanged(&key, &until).await? {
                        return Ok(());
                    }
                }
                Ok(None) => {
                    return Err(Error::unreachable(
                        "etcd watch: the server closed the stream",
                    ))
                }
                Err(e) => return Err(map_err(e, "watch")),
            }
        }
    }

    /// Whether `key` is still as `until` waits for it to stop being.
    async fn unchanged(&self, key: &[u8], until: &Until) -> Result<bool> {
        let mut kv = self.inner.client.kv_client();
        let opts = GetOptions::new().with_keys_only();
        let resp = bounded(self.inner.op_timeout, "campaign", kv.get(key, Some(opts))).await?;
        Ok(resp.kvs().iter().any(|kv| match until {
            Until::Gone(rev) => kv.create_revision() < *rev,
            Until::Changed(rev) => kv.mod_revision() == *rev,
        }))
    }

    /// Deletes our key if it is still the one created at `rev`.
    async fn delete_if(&self, rev: i64) -> Result<()> {
        let mut kv = self.inner.client.kv_client();
        let txn = delete_txn(&self.key, rev);
        bounded(self.inner.op_timeout, "resign", kv.txn(txn)).await?;
        Ok(())
    }

    /// A confirmation of the lease good for a grant: the last one if its deadline is still
    /// ahead, otherwise a keep-alive sent now.
    async fn confirmation(&self) -> Result<Renewal> {
        let lease = self.lease()?;
        let last = lease.status().confirmed;
        if last.sent_at + last.ttl.saturating_sub(self.inner.margin) > Instant::now() {
            return Ok(last);
        }
        bounded_renewal(&self.inner, lease.renewed_after(Instant::now(), true)).await
    }
}

impl EtcdCandidacy {
    /// First in line and not held off: the grant. With no marker to write or clear, nothing
    /// to do (the line alone grants); otherwise one transaction checks the markers as seen
    /// and our key, and writes ours. Returns whether we were granted (else look again).
    async fn claim(&mut self, rev: i64, seen: &Markers) -> Result<bool> {
        if seen.is_empty() && self.windows.iter().all(|w| w.is_zero()) {
            return Ok(true);
        }
        let ttl = self.lease()?.status().confirmed.ttl;
        // Both leases at once: one round trip, not two, added to the grant.
        let (client, limit) = (&self.inner.client, self.inner.op_timeout);
        let grant = |window: Duration| async move {
            if window.is_zero() {
                return Ok(None);
            }
            let secs = holdoff::marker_secs(ttl, window);
            MarkerLease::grant(client, secs, limit).await.map(Some)
        };
        let (hold, sticky) = tokio::join!(grant(self.windows[0]), grant(self.windows[1]));
        let (hold, sticky) = match (hold, sticky) {
            (Ok(h), Ok(s)) => (h, s),
            (Err(e), other) | (other, Err(e)) => {
                self.drop_leases(other.ok().flatten().into_iter().collect())
                    .await;
                return Err(e);
            }
        };
        let ids = [hold.as_ref().map(|l| l.id), sticky.as_ref().map(|l| l.id)];
        let leases: Vec<MarkerLease> = hold.into_iter().chain(sticky).collect();
        let mut when = vec![Compare::create_revision(
            self.key.as_str(),
            CompareOp::Equal,
            rev,
        )];
        when.extend(holdoff::grant_compares(&self.names, seen));
        let value = holdoff::encode(&self.id, &self.key);
        let txn =
            Txn::new()
                .when(when)
                .and_then(holdoff::writes(&self.names, &value, ids[0], ids[1]));
        let mut kv = self.inner.client.kv_client();
        let granted = match bounded(self.inner.op_timeout, "campaign", kv.txn(txn)).await {
            Ok(resp) => resp.succeeded(),
            Err(e) => {
                self.drop_leases(leases).await;
                return Err(e);
            }
        };
        if granted {
            self.markers = leases;
        } else {
            self.drop_leases(leases).await;
        }
        Ok(granted)
    }

    /// A sticky candidate passes the line: every key ahead of ours is deleted, if the sticky
    /// marker `m` naming our id is unchanged and the key it names is gone. Returns whether it
    /// was done.
    async fn jump(&self, rev: i64, m: &holdoff::Marker) -> Result<bool> {
        let pos = self.position(rev, true).await?;
        if pos.markers.sticky.as_ref() != Some(m) {
            return Ok(false);
        }
        let txn = holdoff::jump_txn(&self.names, m, &self.key, rev, &pos.ahead);
        let mut kv = self.inner.client.kv_client();
        let resp = bounded(self.inner.op_timeout, "campaign", kv.txn(txn)).await?;
        Ok(resp.succeeded())
    }

    /// Revokes marker leases whose markers were not written, or were deleted.
    async fn drop_leases(&self, leases: Vec<MarkerLease>) {
        for l in leases {
            l.revoke(&self.inner.client, self.inner.op_timeout).await;
        }
    }

    /// Deletes our key if it is still the one created at `rev`, with our markers (`when` and
    /// `extra`: more compares and operations for the same transaction); then revokes the
    /// markers' leases. A key already
    /// gone (our lease expired) leaves the markers to run out: that was a loss, not a release.
    async fn give_up(
        &mut self,
        rev: i64,
        (when, extra): (Vec<Compare>, Vec<TxnOp>),
        op: &str,
    ) -> Result<bool> {
        let mut ops = vec![TxnOp::delete(self.key.as_str(), None)];
        ops.extend(extra);
        if !self.markers.is_empty() {
            ops.extend(self.names.deletes());
        }
        let mut all = vec![Compare::create_revision(
            self.key.as_str(),
            CompareOp::Equal,
            rev,
        )];
        all.extend(when);
        let mine = TxnOp::get(self.key.as_str(), Some(GetOptions::new().with_keys_only()));
        let txn = Txn::new().when(all).and_then(ops).or_else([mine]);
        let mut kv = self.inner.client.kv_client();
        let resp = bounded(self.inner.op_timeout, op, kv.txn(txn)).await?;
        if resp.succeeded() {
            let leases = std::mem::take(&mut self.markers);
            self.drop_leases(leases).await;
            return Ok(true);
        }
        let still_ours = match resp.op_responses().first() {
            Some(TxnOpResponse::Get(g)) => g.kvs().iter().any(|kv| kv.create_revision() == rev),
            _ => false,
        };
        if !still_ours {
            // Lost with our lease: the markers' leases run out on their own.
            self.markers.clear();
        }
        Ok(false)
    }
}

/// Deletes `key` if it is still the one created at `rev` (never a later incarnation).
fn delete_txn(key: &str, rev: i64) -> Txn {
    Txn::new()
        .when([Compare::create_revision(key, CompareOp::Equal, rev)])
        .and_then([TxnOp::delete(key, None)])
}

fn lost_while_waiting() -> Error {
    Error::new(
        ErrorCode::NotLeader,
        "the etcd lease expired while waiting in line",
    )
}

async fn bounded_renewal(
    inner: &Inner,
    fut: impl std::future::Future<Output = Result<Renewal>>,
) -> Result<Renewal> {
    tokio::time::timeout(inner.op_timeout, fut)
        .await
        .unwrap_or_else(|_| {
            Err(Error::new(
                ErrorCode::Timeout,
                "etcd lease keep-alive: no confirmation in time",
            ))
        })
}

#[async_trait]
impl Candidacy for EtcdCandidacy {
    async fn acquire(&mut self) -> Result<Grant> {
        loop {
            if self.lease()?.is_lost() {
                return Err(lost_while_waiting());
            }
            let rev = match self.rev {
                Some(rev) => rev,
                None => {
                    let rev = self
                        .create()
                        .await
                        .map_err(|e| super::needs(&self.inner.prefix, e))?;
                    self.rev = Some(rev);
                    rev
                }
            };
            let pos = self.position(rev, false).await?;
            if !pos.exists {
                // Deleted behind our back (by hand, with the lease, or by a hand-off or a
                // sticky candidate passing us): stand in line again.
                self.rev = None;
                continue;
            }
            let sticky = pos.markers.sticky_for(&self.id, self.key.as_bytes());
            match (pos.ahead.last(), sticky) {
                // Our previous incarnation led and was lost: pass the line once its key is gone.
                (Some(_), Some(m)) => {
                    if !self.jump(rev, m).await? {
                        self.wait_for(m.key.clone(), Until::Gone(rev)).await?;
                    }
                }
                (Some(kv), None) => self.wait_for(kv.key().to_vec(), Until::Gone(rev)).await?,
                (None, _) => {
                    if let Some(m) = pos.markers.blocking(&self.id) {
                        self.wait_for(m.name.clone(), Until::Changed(m.mod_rev))
                            .await?;
                        continue;
                    }
                    if !self.claim(rev, &pos.markers).await? {
                        continue;
                    }
                    let renewal = self.confirmation().await?;
                    self.last_sent = renewal.sent_at;
                    return Ok(Grant {
                        term: rev as u64,
                        renewal,
                    });
                }
            }
        }
    }

    /// The shared lease's next confirmation, then one keep-alive of each of our markers'
    /// leases: sent after the leader's, so a marker always outlives the leader's key.
    async fn renew(&mut self) -> Result<Renewal> {
        let renewal = self.lease()?.renewed_after(self.last_sent, false).await?;
        for m in &mut self.markers {
            m.refresh(&self.inner.client, self.inner.op_timeout).await?;
        }
        self.last_sent = renewal.sent_at;
        Ok(renewal)
    }

    /// One transaction: rewrite our key (same lease, so same create revision and term) only if
    /// it is still the one created at our leading revision.
    async fn proclaim(&mut self, value: &str) -> Result<()> {
        let not_leader = || Error::new(ErrorCode::NotLeader, "etcd proclaim: our key is gone");
        let rev = self.rev.ok_or_else(not_leader)?;
        let lease_id = self.lease()?.id;
        let encoded = encode_value(&CandidateSpec {
            id: self.id.clone(),
            value: value.to_string(),
            ..Default::default()
        });
        let txn = Txn::new()
            .when([Compare::create_revision(
                self.key.as_str(),
                CompareOp::Equal,
                rev,
            )])
            .and_then([TxnOp::put(
                self.key.as_str(),
                encoded.as_str(),
                Some(PutOptions::new().with_lease(lease_id)),
            )]);
        let mut kv = self.inner.client.kv_client();
        let resp = bounded(self.inner.op_timeout, "proclaim", kv.txn(txn)).await?;
        if !resp.succeeded() {
            return Err(not_leader());
        }
        self.value = encoded;
        Ok(())
    }

    async fn release(&mut self) -> Result<()> {
        if let Some(rev) = self.rev.take() {
            // Until the delete is confirmed the key may live on; never lead on it again.
            self.stale = Some(rev);
            self.give_up(rev, Default::default(), "resign").await?;
            self.stale = None;
            self.maybe_exists = false;
        }
        Ok(())
    }

    /// One transaction: our key is still the one we lead on and the successor's key still
    /// exists; then our key and every key in line between ours and the successor's are deleted
    /// (their candidates, finding their key gone, stand in line again at its end, with new
    /// and higher revisions). The successor, woken by its predecessor's deletion, is then
    /// first in line, and its term (its key's create revision) is above ours.
    async fn hand_over(&mut self, successor: &str) -> Result<()> {
        let rev = self
            .rev
            .ok_or_else(|| Error::new(ErrorCode::NotLeader, "etcd hand-over: not leading"))?;
        let mut kv = self.inner.client.kv_client();
        let opts = GetOptions::new()
            .with_prefix()
            .with_sort(SortTarget::Create, SortOrder::Ascend)
            .with_min_create_revision(rev + 1);
        let behind = bounded(
            self.inner.op_timeout,
            "hand-over",
            kv.get(self.dir.as_str(), Some(opts)),
        )
        .await?;
        let kvs = behind.kvs();
        let Some(k) = kvs
            .iter()
            .position(|kv| super::layout::decode(kv).id == successor)
        else {
            return Err(Error::invalid(format!(
                "hand-over: `{successor}` is not in line in `{}`",
                self.dir
            )));
        };
        let passed = kvs[..k].iter().map(|kv| TxnOp::delete(kv.key(), None));
        let successor_there =
            Compare::create_revision(kvs[k].key(), CompareOp::Equal, kvs[k].create_revision());
        self.stale = Some(rev);
        let handed = (vec![successor_there], passed.collect());
        if !self.give_up(rev, handed, "hand-over").await? {
            return Err(Error::new(
                ErrorCode::NotLeader,
                "etcd hand-over: our key or the successor's changed meanwhile",
            ));
        }
        self.rev = None;
        self.stale = None;
        self.maybe_exists = false;
        Ok(())
    }

    async fn leave(mut self: Box<Self>) -> Result<()> {
        self.release().await?;
        if self.maybe_exists {
            let mut kv = self.inner.client.kv_client();
            bounded(
                self.inner.op_timeout,
                "leave",
                kv.delete(self.key.as_str(), None),
            )
            .await?;
            self.maybe_exists = false;
        }
        if let Some(lease) = self.lease.take() {
            self.inner.release_lease(lease).await?;
        }
        Ok(())
    }
}

impl Drop for EtcdCandidacy {
    /// Dropped without `leave` (the engine gave up waiting, or the lease was lost): delete the
    /// key in the background rather than leave it in line until the lease expires.
    fn drop(&mut self) {
        if !self.maybe_exists || self.lease.as_ref().is_none_or(|l| l.is_lost()) {
            return; // nothing made, or the key went with the lease
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let (mut kv, key, limit) = (
                self.inner.client.kv_client(),
                self.key.clone(),
                self.inner.op_timeout,
            );
            rt.spawn(async move {
                let _ = tokio::time::timeout(limit, kv.delete(key, None)).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    //! Reconciliation against a real etcd (`scripts/servers/etcd`), driving a candidacy's
    //! private steps directly: what a retried or re-run campaign leaves in the store.

    use super::*;
    use crate::uri::Config;

    struct Server(String);

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = std::process::Command::new(script())
                .args(["destroy", &self.0])
                .status();
        }
    }

    fn script() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/servers/etcd")
    }

    #[test]
    fn a_retried_create_finds_its_own_key_and_a_new_term_gets_a_new_key() {
        let name = format!("u{}-reconcile", std::process::id());
        let out = std::process::Command::new(script())
            .args(["start", &name])
            .output()
            .unwrap();
        let _server = Server(name);
        let out = String::from_utf8_lossy(&out.stdout);
        let endpoints = out
            .lines()
            .find_map(|l| l.strip_prefix("export ELECT_ETCD_ENDPOINTS="))
            .expect("the script prints the endpoints")
            .to_string();
        crate::runtime::block_on(async move {
            let config = Config::parse(&format!("etcd://{endpoints}/unit?ttl=5s")).unwrap();
            let inner = Arc::new(Inner::open(&config).await.unwrap());
            let spec = CandidateSpec {
                election: "job".into(),
                id: "a".into(),
                ..Default::default()
            };
            let keys = |inner: Arc<Inner>| async move { inner.line("job", 0).await.unwrap().0 };
            let lease = inner.lease().await.unwrap();
            let mut c = EtcdCandidacy::new(inner.clone(), lease, &spec);

            // An attempt whose answer was lost, then the retry: one key, one revision.
            let first = c.create().await.unwrap();
            let again = c.create().await.unwrap();
            assert_eq!(first, again, "the retry found its own key");
            assert_eq!(keys(inner.clone()).await.len(), 1);

            // A released term whose delete was not confirmed: the next term is a new key.
            c.stale = Some(first);
            let next = c.create().await.unwrap();
            assert!(
                next > first,
                "a new term, a new revision: {first} then {next}"
            );
            let now = keys(inner.clone()).await;
            assert_eq!(now.len(), 1);
            assert_eq!(now[0].create_revision(), next);

            // A campaign cancelled before its answer arrived: leaving removes the key anyway.
            c.rev = None;
            Box::new(c).leave().await.unwrap();
            assert!(
                keys(inner.clone()).await.is_empty(),
                "no ghost left in line"
            );
        })
        .unwrap();
    }
}
