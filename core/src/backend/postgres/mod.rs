//! The postgres store: a lease row per election on the server's clock, LISTEN/NOTIFY handover,
//! fencing by a `term` column.
//!
//! - **Lease**: one row per election in the `table` (default `elect_leases`, created if
//!   missing). Acquire is one conditional upsert that takes the row when its `expires_at` has
//!   passed (or it is already ours) and bumps `term` in the same statement; `expires_at` is
//!   always `now() + ttl` computed by the server. The client never sends or compares a wall-clock
//!   time: it keeps its deadline from when it *sent* the statement plus the granted ttl.
//! - **Connections**: two dedicated sessions per store connection (shared by all elections of
//!   the process on the same URI): one for statements, one for LISTEN. Not a pool: nothing can
//!   swap a session under an election. TCP keepalive is on.
//! - **Renewals**: batched (see [`keepalive`]): one statement per renewal period renews every lease,
//!   membership and observed leader of the connection, so idle traffic does not grow with the
//!   number of elections.
//! - **Handover**: release sets `expires_at` to `-infinity` and NOTIFYs the election's channel in
//!   the same statement; waiting candidates LISTEN on it and try at once. A crashed leader sends
//!   nothing: waiters retry when its lease runs out (ttl after its last renewal).
//! - **Members**: rows in `<table>_members`, heartbeated by the rounds; live = not expired.
//! - **Observers**: read the lease row on NOTIFY and on every round.
//!
//! `docs/stores/postgres.md` has the user-facing side (tables, privileges, PgBouncer, TLS).

mod candidacy;
mod connect;
mod keepalive;
mod layout;
mod notify;
mod options;
mod sql;
mod tls;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::types::Type;

use super::registry::Driver;
use super::rounds::RoundConfig;
use super::sql::{SqlBackend, SqlStore};
use super::Backend;
use crate::error::{Error, ErrorCode, Result};
use crate::uri::Config;
use connect::{Params, Session};
use layout::Names;
use notify::Listener;
#[cfg(feature = "testing")]
pub use notify::NOTIFICATIONS;
use sql::Statements;

/// How the registry reaches this store.
pub(crate) static DRIVER: Driver = Driver {
    options: options::NAMES,
    parse: options::parse,
    open: |config| Box::pin(open(config)),
};

/// What every part of one store connection shares.
pub(crate) struct Shared {
    params: Params,
    names: Names,
    sql: Statements,
    lease: Session,
    listener: Arc<Listener>,
    retry: Duration,
    /// The rounds; their clock is the server's `now()`.
    round: RoundConfig,
}

impl Shared {
    fn ttl_ms(&self) -> i64 {
        self.round.ttl.as_millis() as i64
    }
}

/// Connects, creates the tables if needed and checks that notifications come through.
/// Wrong passwords, missing databases and missing privileges fail here, clearly.
async fn open(config: &Config) -> Result<Arc<dyn Backend>> {
    let started = std::time::Instant::now();
    let params = Params::from_config(config)?;
    let names = Names::new(&config.store_options::<options::PgOptions>()?.table);
    let client = params.open_statements().await?;
    names.ensure(&client, &params).await?;
    let listener = Listener::new(params.clone());
    let shared = Arc::new(Shared {
        sql: Statements::new(&names),
        lease: Session::new(params.clone(), client),
        params,
        names,
        listener,
        retry: config.retry,
        round: RoundConfig::new("postgres", config),
    });
    // The whole open is bounded by connect_timeout (backend::connect); the probe gets what
    // is left, less a little so that its own, clearer error wins the race.
    let left = (config.connect_timeout * 9 / 10).saturating_sub(started.elapsed());
    check_notifications(&shared, left).await?;
    Ok(SqlBackend::start(shared))
}

/// NOTIFYs a private channel from the statement session and waits for it on the LISTEN
/// session. Through PgBouncer in transaction (or statement) pooling mode the LISTEN lands on a
/// server connection that is handed to someone else after the statement, so the notification
/// never arrives: refuse that setup now rather than hand over leadership by timeouts only.
async fn check_notifications(shared: &Shared, limit: Duration) -> Result<()> {
    let channel = format!(
        "{}:probe-{:016x}",
        shared.names.leases,
        crate::random::u64()
    );
    let probe = async {
        let mut sub = shared.listener.subscribe(&channel).await?;
        sub.mark_seen();
        let client = shared.lease.client().await?;
        client
            .query_typed("SELECT pg_notify($1, 'probe')", &[(&channel, Type::TEXT)])
            .await
            .map_err(|e| shared.params.error(e, "NOTIFY"))?;
        sub.notified().await;
        Ok(())
    };
    // Bounded as a whole: through transaction pooling, the LISTEN itself may never complete.
    tokio::time::timeout(limit, probe)
        .await
        .unwrap_or_else(|_| {
            Err(Error::new(
                ErrorCode::Unsupported,
                format!(
                    "postgres {}@{}/{}: LISTEN/NOTIFY does not work on this connection (a NOTIFY \
                 did not reach our LISTEN session within {}): elect needs session-level state; \
                 through PgBouncer use pool_mode=session, not transaction or statement \
                 (see docs/stores/postgres.md)",
                    shared.params.user,
                    shared.params.hosts,
                    shared.params.database,
                    crate::uri::fmt_duration(limit)
                ),
            ))
        })
}

impl SqlStore for Shared {
    const NAME: &'static str = "postgres";
}
