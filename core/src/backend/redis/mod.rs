//! The Redis store: `redis://[user:pass@]host:6379/db`, `rediss://` for TLS.
//!
//! - Leadership is a key taken with `SET lock <candidate token> NX PX ttl` inside one Lua
//!   script that, only when the `SET` succeeds, bumps the election's fencing counter and
//!   publishes `elected` ([`scripts::ACQUIRE`]). Renewal and release compare the candidate
//!   token before they act, so nobody extends or deletes a lock it does not hold.
//! - Handover: a release publishes on the election's channel; waiting candidates of every
//!   process are subscribed (one pattern subscription per process and store) and try at once.
//!   A crashed leader's lock expires after ttl; waiters also try on a timer (`retry`, or sooner
//!   when the lock's remaining ttl is shorter), so crash handover takes at most ttl + retry.
//! - One multiplexed connection per store carries every election's commands, plus one
//!   connection for the subscription. One keep-alive script per interval renews every lock and
//!   member heartbeat of the process ([`keepalive`]).
//! - Fencing tokens never go backwards, even when a Redis without persistence restarts: see
//!   [`scripts::ACQUIRE`] for how the counter is combined with the server clock, and for the
//!   restart guard that keeps a restarted server from granting a lock while the previous leader
//!   may still believe it leads.
//!
//! What Redis cannot promise (a failover to a replica that missed the lock) is in
//! `docs/stores/redis.md`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::aio::PubSubStream;
use redis::ScriptInvocation;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::registry::Driver;
use super::server_clock::ClockCheck;
use super::{Backend, Candidacy, CandidateSpec, LeaderStream, MemberStream};
use crate::error::{Error, Result};
use crate::event::{LeaderInfo, Member};
use crate::uri::Config;

mod candidacy;
mod connect;
mod keepalive;
mod layout;
mod members;
mod notify;
mod options;
mod scripts;
mod watch;

#[cfg(feature = "testing")]
pub use notify::{stats, WakeStats};

/// How the registry reaches this store.
pub(crate) static DRIVER: Driver = Driver {
    options: options::NAMES,
    parse: options::parse,
    open: |config| Box::pin(RedisBackend::open(config)),
};

/// What every election on one store shares.
pub(crate) struct Shared {
    conn: connect::Conn,
    keys: layout::Keys,
    ttl: Duration,
    ttl_ms: u64,
    /// The longest ttl (ms) this process has seen in use under the prefix, its own included.
    /// Kept here as well as on the server, because a restarted server may have lost it; the
    /// acquire script's restart guard holds grants that long after the server started.
    max_ttl: AtomicU64,
    retry: Duration,
    /// The server's clock as the keep-alives read it.
    clock: ClockCheck,
    /// The send time of the keep-alive that found the server's clock jumped, and the message
    /// for the leaders it stepped down.
    clock_jump: std::sync::Mutex<Option<(Instant, String)>>,
    /// Half the renewal period of the config that opened the store. Elections that share the
    /// connection (same URI and ttl) but set a different `renew` or `margin` still use it.
    keepalive_every: Duration,
    registry: keepalive::Registry,
    /// Woken by messages on the election channels.
    wakers: Arc<notify::Wakers>,
    /// Woken by the keep-alive when a watched election's term changed.
    tick_wakers: notify::Wakers,
}

impl Shared {
    /// Reads the server's time from a keep-alive reply: when the server's clock ran ahead by
    /// more than the margin, returns the message for the leaders, who then step down.
    fn check_clock(
        &self,
        sent_at: Instant,
        received_at: Instant,
        server_ms: u64,
    ) -> Option<String> {
        let message = self.clock.check(sent_at, received_at, server_ms as f64)?;
        *self.clock_jump.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((sent_at, message.clone()));
        Some(message)
    }

    /// The clock message of the keep-alive sent at `sent_at`, if it found the clock jumped.
    fn clock_jump_at(&self, sent_at: Instant) -> Option<String> {
        let jump = self.clock_jump.lock().unwrap_or_else(|e| e.into_inner());
        jump.as_ref()
            .filter(|(at, _)| *at == sent_at)
            .map(|(_, m)| m.clone())
    }

    fn max_ttl_ms(&self) -> u64 {
        self.max_ttl.load(Ordering::Relaxed)
    }

    /// Remembers `ttl_ms` if it is the longest seen in use under the prefix.
    fn learn_max_ttl(&self, ttl_ms: u64) {
        self.max_ttl.fetch_max(ttl_ms, Ordering::Relaxed);
    }

    /// Runs a script on the shared connection.
    async fn invoke<T: redis::FromRedisValue>(&self, inv: &ScriptInvocation<'_>) -> Result<T> {
        let mut c = self.conn.get().await?;
        match inv.invoke_async(&mut c).await {
            Ok(v) => Ok(v),
            Err(e) => Err(self.conn.failed(e).await),
        }
    }

    /// The leader of `election`, read from the store.
    async fn leader(&self, election: &str) -> Result<Option<LeaderInfo>> {
        let mut inv = scripts::LEADER.prepare_invoke();
        inv.key(self.keys.lock(election))
            .key(self.keys.leader(election))
            .arg(crate::backend::limits::MAX_FIELD + 1);
        // Bytes: a cut may fall inside a character.
        let fields: Vec<Vec<u8>> = self.invoke(&inv).await?;
        let [id, value, term] = fields.as_slice() else {
            return Ok(None);
        };
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let term = text(term).parse().map_err(|_| {
            Error::store(format!(
                "election `{election}`: malformed term `{}`",
                text(term)
            ))
        })?;
        let leader = LeaderInfo {
            id: text(id),
            value: text(value),
            term,
        };
        crate::backend::limits::leader("redis", election, leader).map(Some)
    }
}

pub struct RedisBackend {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl RedisBackend {
    /// Connects (command connection and subscription) and fails at once, with one clear error,
    /// on a wrong password, a missing db, or an unreachable server.
    pub async fn open(config: &Config) -> Result<Arc<dyn Backend>> {
        let keys = layout::Keys::new(&config.store_options::<options::RedisOptions>()?.prefix);
        let conn = connect::Conn::new(config)?;
        let what = format!("redis at {config}");
        let mut c = match conn.get().await {
            Ok(c) => c,
            Err(e) => return Err(connect::explain(e, config).await),
        };
        if let Err(e) = check_info(&mut c, &conn).await {
            return Err(connect::explain(e, config).await);
        }
        let subscription = notify::subscribe(conn.client(), &keys, &what).await?;
        let shared = Arc::new(Shared {
            conn,
            keys,
            ttl: config.ttl,
            ttl_ms: config.ttl.as_millis() as u64,
            max_ttl: AtomicU64::new(config.ttl.as_millis() as u64),
            retry: config.retry,
            clock: ClockCheck::new("redis", config.margin()),
            clock_jump: Default::default(),
            keepalive_every: (config.renew() / 2).max(Duration::from_millis(10)),
            registry: keepalive::Registry::default(),
            wakers: Arc::default(),
            tick_wakers: notify::Wakers::default(),
        });
        // One read through the scripts, so that a user who may not run them (ACL) learns it
        // here, once, rather than from every campaign. `/` cannot start an election name.
        shared.leader("/probe").await?;
        let tasks = vec![
            tokio::spawn(keepalive::run(shared.clone())),
            tokio::spawn(listen(subscription, &shared, config.retry, what)),
        ];
        Ok(Arc::new(RedisBackend { shared, tasks }))
    }
}

fn listen(
    stream: PubSubStream,
    shared: &Shared,
    retry: Duration,
    what: String,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    notify::listen(
        stream,
        shared.conn.client().clone(),
        shared.keys.clone(),
        shared.wakers.clone(),
        retry,
        what,
    )
}

/// The restart guard reads the server's uptime (`INFO server`) in the acquire script: a user
/// who may not run INFO learns it here, at open, rather than from every campaign.
async fn check_info(c: &mut redis::aio::MultiplexedConnection, conn: &connect::Conn) -> Result<()> {
    let info: redis::RedisResult<String> = redis::cmd("INFO").arg("server").query_async(c).await;
    match info {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = conn.error(e);
            Err(Error::new(
                e.code(),
                format!(
                    "{} (elect needs `INFO server` for its restart guard)",
                    e.message()
                ),
            ))
        }
    }
}

impl Drop for RedisBackend {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

#[async_trait]
impl Backend for RedisBackend {
    async fn join(&self, spec: &CandidateSpec) -> Result<Box<dyn Candidacy>> {
        Ok(Box::new(
            candidacy::RedisCandidacy::join(self.shared.clone(), spec).await?,
        ))
    }

    async fn watch(&self, election: &str) -> Result<LeaderStream> {
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(watch::follow(
            self.shared.clone(),
            election.to_string(),
            tx,
            |s, e| async move { s.leader(&e).await },
        ));
        Ok(rx)
    }

    async fn leader(&self, election: &str) -> Result<Option<LeaderInfo>> {
        self.shared.leader(election).await
    }

    async fn members(&self, election: &str) -> Result<Vec<Member>> {
        members::read(&self.shared, election).await
    }

    async fn watch_members(&self, election: &str) -> Result<MemberStream> {
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(watch::follow(
            self.shared.clone(),
            election.to_string(),
            tx,
            |s, e| async move { members::read(&s, &e).await },
        ));
        Ok(rx)
    }
}
