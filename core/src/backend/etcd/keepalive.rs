//! One etcd lease per store connection, shared by every election on it.
//!
//! A background task on the runtime sends one keep-alive per `renew` interval on one gRPC
//! stream, however many elections use the lease, and publishes each confirmation with the time
//! its request was *sent* and the TTL the server granted. Candidacies only read what it
//! publishes, so keep-alive traffic does not grow with the number of elections and a slow user
//! callback can never delay a renewal.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use etcd_client::Client;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use super::connect::{bounded, map_err};
use crate::backend::Renewal;
use crate::error::{Error, ErrorCode, Result};

/// What the keeper knows about the lease.
#[derive(Clone)]
pub struct Status {
    /// The last keep-alive the server confirmed (or the grant itself).
    pub confirmed: Renewal,
    /// The server says the lease is gone (expired or revoked): so is every key on it.
    pub lost: bool,
    /// The last failed keep-alive and when it failed; cleared by the next confirmation.
    pub failure: Option<(Instant, Error)>,
}

/// How often etcd's lessor looks for expired leases (`lessor.runLoop`, every 500 ms in etcd
/// 3.4 to 3.6): a lease is deleted between its TTL and its TTL plus this after the last
/// keep-alive the server received.
pub const EXPIRY_SWEEP: Duration = Duration::from_millis(500);

/// The lease TTL to ask etcd for, in whole seconds (etcd's unit), for an election whose `ttl`
/// promises that a crashed leader is replaced within `ttl`: the largest whole number of
/// seconds that etcd's sweep cannot push past `ttl`, i.e. `floor(ttl - sweep)`. A TTL of
/// `ttl` itself would let the handover take up to `ttl + 500 ms`. Falls back to `ttl` rounded
/// up when the shorter lease leaves no room for a keep-alive (`renew + margin`): the leader
/// would otherwise lose its deadline between two keep-alives. The cost of the shorter lease
/// is that a leader cut off from etcd steps down up to 1.5 s sooner than `ttl`; that errs on
/// the safe side.
pub fn lease_secs(ttl: Duration, renew: Duration, margin: Duration) -> i64 {
    let short = ttl.saturating_sub(EXPIRY_SWEEP).as_secs();
    let secs = if short >= 1 && renew + margin < Duration::from_secs(short) {
        short
    } else {
        ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0)
    };
    secs.max(1) as i64
}

pub struct SharedLease {
    pub id: i64,
    client: Client,
    status: watch::Receiver<Status>,
    /// The keeper's sender too, for [`SharedLease::mark_lost`].
    lost_tx: watch::Sender<Status>,
    /// Asks the keeper for a keep-alive now rather than at the next interval.
    kick: Arc<Notify>,
    keeper: JoinHandle<()>,
    /// Numbers the keys of the candidacies on this lease (several elections, or several
    /// candidates of one election, may share it).
    next_key: AtomicU64,
    op_timeout: Duration,
    revoked: AtomicBool,
}

impl SharedLease {
    /// Grants a lease of `secs` seconds (see [`lease_secs`]) and starts keeping it alive every
    /// `interval`. The server may grant more than asked (it enforces a minimum); the granted
    /// TTL is what deadlines are computed from.
    pub async fn grant(
        client: &Client,
        secs: i64,
        interval: Duration,
        op_timeout: Duration,
    ) -> Result<Arc<SharedLease>> {
        let sent_at = Instant::now();
        let resp = grant(client, secs, op_timeout, "lease grant").await?;
        let granted = Duration::from_secs(resp.ttl() as u64);
        let (tx, rx) = watch::channel(Status {
            confirmed: Renewal {
                sent_at,
                ttl: granted,
            },
            lost: false,
            failure: None,
        });
        let kick = Arc::new(Notify::new());
        let keeper = tokio::spawn(keep_alive(Keeper {
            client: client.clone(),
            id: resp.id(),
            ttl: granted,
            interval,
            status: tx.clone(),
            kick: kick.clone(),
        }));
        tracing::debug!(lease = resp.id(), ttl = ?granted, "etcd lease granted");
        Ok(Arc::new(SharedLease {
            id: resp.id(),
            client: client.clone(),
            status: rx,
            lost_tx: tx,
            kick,
            keeper,
            next_key: AtomicU64::new(0),
            op_timeout,
            revoked: AtomicBool::new(false),
        }))
    }

    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    pub fn is_lost(&self) -> bool {
        self.status.borrow().lost
    }

    /// Records what a request on the lease learnt before the keeper did: etcd no longer knows
    /// it. Every candidacy on it ends, and the next join grants a new lease.
    pub fn mark_lost(&self) {
        self.keeper.abort();
        self.lost_tx.send_modify(|s| s.lost = true);
    }

    /// A fresh key name on this lease: `<lease id hex>-<n>`. The lease id makes it ours
    /// across retries; `n` separates candidacies of this process.
    pub fn key_name(&self) -> String {
        let n = self.next_key.fetch_add(1, Ordering::Relaxed);
        format!("{:x}-{n}", self.id)
    }

    /// Resolves when the lease is lost; never otherwise.
    pub async fn lost(&self) {
        let mut rx = self.status.clone();
        while !rx.borrow_and_update().lost {
            if rx.changed().await.is_err() {
                // Unreachable while `self` lives (it holds a sender); never claim a loss.
                std::future::pending::<()>().await;
            }
        }
    }

    /// The first keep-alive confirmed after `after`. Fails with `NotLeader` when the lease is
    /// gone, or with the keeper's error when a keep-alive fails after this call began (the
    /// engine then retries until its deadline: a failed keep-alive is not yet a lost lease).
    pub async fn renewed_after(&self, after: Instant, kick: bool) -> Result<Renewal> {
        let began = Instant::now();
        if kick {
            self.kick.notify_one();
        }
        let mut rx = self.status.clone();
        loop {
            {
                let s = rx.borrow_and_update();
                if s.lost {
                    return Err(lost());
                }
                if s.confirmed.sent_at > after {
                    return Ok(s.confirmed);
                }
                if let Some((at, e)) = &s.failure {
                    if *at >= began {
                        return Err(Error::store(e.message().to_string()));
                    }
                }
            }
            if rx.changed().await.is_err() {
                return Err(Error::closed());
            }
        }
    }

    /// Revokes the lease now, deleting every key still on it. Called when the last election on
    /// the connection leaves, so nothing waits for the TTL.
    pub async fn revoke(&self) -> Result<()> {
        self.keeper.abort();
        if self.revoked.swap(true, Ordering::SeqCst) || self.is_lost() {
            return Ok(());
        }
        let mut lc = self.client.lease_client();
        match bounded(self.op_timeout, "lease revoke", lc.revoke(self.id)).await {
            Err(e) if e.code() != ErrorCode::NotLeader => Err(e),
            _ => Ok(()),
        }
    }
}

impl Drop for SharedLease {
    /// The last candidacy went away without `leave` (a timeout, or the lease was lost): stop
    /// the keeper and revoke in the background so the lease does not linger for its TTL.
    fn drop(&mut self) {
        self.keeper.abort();
        if self.revoked.load(Ordering::SeqCst) || self.is_lost() {
            return;
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let (mut lc, id, limit) = (self.client.lease_client(), self.id, self.op_timeout);
            rt.spawn(async move {
                let _ = tokio::time::timeout(limit, lc.revoke(id)).await;
            });
        }
    }
}

/// Grants a lease of `secs` seconds (`op` names the request in errors); a refusal (TTL 0) is
/// an error.
pub async fn grant(
    client: &Client,
    secs: i64,
    limit: Duration,
    op: &str,
) -> Result<etcd_client::LeaseGrantResponse> {
    let resp = bounded(limit, op, client.lease_client().grant(secs, None)).await?;
    if resp.ttl() <= 0 {
        return Err(Error::store(format!(
            "etcd {op}: refused: {}",
            resp.error()
        )));
    }
    Ok(resp)
}

fn lost() -> Error {
    Error::new(
        ErrorCode::NotLeader,
        "the etcd lease expired: this candidate's keys are gone",
    )
}

struct Keeper {
    client: Client,
    id: i64,
    ttl: Duration,
    interval: Duration,
    status: watch::Sender<Status>,
    kick: Arc<Notify>,
}

impl Keeper {
    fn confirm(&self, sent_at: Instant, ttl: Duration) {
        self.status.send_modify(|s| {
            if sent_at > s.confirmed.sent_at {
                s.confirmed = Renewal { sent_at, ttl };
            }
            s.failure = None;
        });
    }

    fn fail(&self, e: Error) {
        tracing::warn!(lease = self.id, "etcd keep-alive: {e}");
        self.status
            .send_modify(|s| s.failure = Some((Instant::now(), e)));
    }

    fn lose(&self) {
        tracing::warn!(lease = self.id, "etcd lease lost");
        self.status.send_modify(|s| s.lost = true);
    }

    /// How long to wait for one keep-alive answer before the stream is presumed dead and
    /// reopened (through the balancer, possibly to another member).
    fn answer_limit(&self) -> Duration {
        self.interval.max(Duration::from_millis(500))
    }
}

/// Keeps the lease alive until it is lost or the task is aborted. A broken stream is reopened
/// at once and then every quarter interval; each failure is published so that waiting renewals
/// can report it, but only the server saying the lease is gone counts as losing it.
async fn keep_alive(k: Keeper) {
    let mut lc = k.client.lease_client();
    let pause = (k.interval / 4).clamp(Duration::from_millis(100), Duration::from_secs(1));
    let mut failures = 0u32;
    loop {
        if failures > 0 {
            tokio::time::sleep(pause).await;
        }
        let sent_at = Instant::now();
        let opened = tokio::time::timeout(k.answer_limit(), lc.keep_alive(k.id)).await;
        let (mut keeper, mut stream) = match opened {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => {
                let e = map_err(e, "lease keep-alive");
                if e.code() == ErrorCode::NotLeader {
                    return k.lose();
                }
                failures += 1;
                k.fail(e);
                continue;
            }
            Err(_) => {
                failures += 1;
                k.fail(Error::new(
                    ErrorCode::Timeout,
                    "etcd lease keep-alive: no answer",
                ));
                continue;
            }
        };
        // Opening the stream sent a first keep-alive and waited for its answer.
        failures = 0;
        k.confirm(sent_at, k.ttl);
        let mut next = sent_at + k.interval;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(next.into()) => {}
                _ = k.kick.notified() => {}
            }
            let sent_at = Instant::now();
            if let Err(e) = keeper.keep_alive().await {
                k.fail(map_err(e, "lease keep-alive"));
                break;
            }
            match tokio::time::timeout(k.answer_limit(), stream.message()).await {
                Ok(Ok(Some(resp))) if resp.ttl() <= 0 => return k.lose(),
                Ok(Ok(Some(resp))) => {
                    k.confirm(sent_at, Duration::from_secs(resp.ttl() as u64));
                    next = sent_at + k.interval;
                }
                Ok(Ok(None)) => {
                    k.fail(Error::unreachable(
                        "etcd lease keep-alive: the server closed the stream",
                    ));
                    break;
                }
                Ok(Err(e)) => {
                    k.fail(map_err(e, "lease keep-alive"));
                    break;
                }
                Err(_) => {
                    k.fail(Error::new(
                        ErrorCode::Timeout,
                        "etcd lease keep-alive: no answer",
                    ));
                    break;
                }
            }
        }
        failures += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::lease_secs;
    use std::time::Duration;

    fn secs(ttl_ms: u64, renew_ms: u64, margin_ms: u64) -> i64 {
        let ms = Duration::from_millis;
        lease_secs(ms(ttl_ms), ms(renew_ms), ms(margin_ms))
    }

    #[test]
    fn the_lease_leaves_room_for_the_expiry_sweep() {
        // Defaults: renew = ttl/3, margin = ttl/10.
        assert_eq!(secs(10_000, 3_333, 1_000), 9);
        assert_eq!(secs(3_000, 1_000, 300), 2);
        assert_eq!(secs(2_000, 667, 200), 1);
        assert_eq!(secs(2_500, 833, 250), 2);
        assert_eq!(secs(60_000, 20_000, 6_000), 59);
    }

    #[test]
    fn a_lease_too_short_for_a_keep_alive_falls_back_to_ttl() {
        // renew 8 s + margin 1 s leaves no keep-alive inside a 9 s lease.
        assert_eq!(secs(10_000, 8_000, 1_000), 10);
        assert_eq!(secs(1_200, 400, 120), 2);
        assert_eq!(secs(1_000, 333, 100), 1);
        assert_eq!(secs(300, 100, 30), 1);
    }
}
