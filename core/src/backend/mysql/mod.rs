//! The mysql store (MySQL and MariaDB, `mysql://` or `mariadb://`): a lease row per election on
//! the server's clock, a named lock per election as the line, fencing by a `term` column.
//!
//! - **Lease**: one InnoDB row per election in the `table` (default `elect_leases`, created if
//!   missing). Acquire is one conditional UPDATE that takes the row when its `expires_at` has
//!   passed (or it is already this candidacy's) and bumps `term` in the same statement, handing
//!   the new term back as `LAST_INSERT_ID()`; `expires_at` is always `UTC_TIMESTAMP(6) + ttl`
//!   computed by the server. The client never sends or compares a wall-clock time: it keeps
//!   its deadline from when it *sent* the statement plus the ttl.
//! - **Connections**: one statement session per store connection (shared by all elections of
//!   the process on the same URI), plus one session per campaigning candidacy for the line.
//!   Not a pool: nothing can swap a session under an election. TCP keepalive is on.
//! - **Renewals**: batched ([`crate::backend::rounds`], [`keepalive`]): one round trip per
//!   renewal period renews every lease, membership and observed leader of the connection.
//! - **Handover**: see [`candidacy`]: waiters block in `GET_LOCK` on the election's named lock,
//!   which the leader holds and releases right after its lease on resign; the server drops it
//!   when the leader's connection dies. A crashed leader's lease still runs out first (ttl
//!   after its last renewal): the lock cannot tell a dead process from a cut link.
//! - **Members**: rows in `<table>_members`, heartbeated by the rounds; live = not expired.
//! - **Observers**: read the lease row when they start and on every round.
//!
//! `docs/stores/mysql.md` has the user-facing side (server settings, privileges, TLS).

mod candidacy;
mod connect;
mod keepalive;
mod layout;
mod options;
mod watch;

use std::sync::Arc;

use mysql_async::prelude::Queryable;

use super::registry::Driver;
use super::rounds::RoundConfig;
use super::sql::{SqlBackend, SqlStore};
use super::Backend;
use crate::error::Result;
use crate::uri::Config;
#[cfg(feature = "testing")]
pub use candidacy::LOCK_WAKEUPS;
use connect::{Params, Session};
use layout::Names;

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
    lease: Session,
    /// Waiters line up on the named lock (`handover=lock`), else they poll through the rounds.
    lock_line: bool,
    /// The rounds; their clock is the server's `UTC_TIMESTAMP(6)`.
    round: RoundConfig,
}

/// Connects and creates the tables if needed. Wrong passwords, missing databases and missing
/// privileges fail here, clearly.
async fn open(config: &Config) -> Result<Arc<dyn Backend>> {
    let params = Params::from_config(config)?;
    let options = config.store_options::<options::MysqlOptions>()?;
    let names = Names::new(&options.table, &config.path);
    let mut conn = params.open().await?;
    names.ensure(&mut conn, &params).await?;
    warn_if_not_durable(&mut conn, &params).await;
    let shared = Arc::new(Shared {
        lease: Session::new(params.clone(), conn),
        params,
        names,
        lock_line: options.handover == options::Handover::Lock,
        round: RoundConfig::new("mysql", config),
    });
    Ok(SqlBackend::start(shared))
}

/// A commit acknowledged before it is on disk can be lost in a server crash, and its term
/// handed out again. Unlike PostgreSQL's `synchronous_commit`, InnoDB's setting is global, so
/// elect cannot raise it for its own session: it says so in the log.
async fn warn_if_not_durable(conn: &mut mysql_async::Conn, params: &Params) {
    let read: mysql_async::Result<Option<(i64, Option<i64>)>> = conn
        .query_first("SELECT @@innodb_flush_log_at_trx_commit, @@sync_binlog")
        .await;
    if let Ok(Some((flush, sync_binlog))) = read {
        if flush != 1 || sync_binlog.is_some_and(|s| s != 1) {
            tracing::warn!(
                "mysql {}@{}: innodb_flush_log_at_trx_commit={flush}, sync_binlog={}: a server \
                 crash can lose acknowledged lease grants (and reuse their terms); set both to 1 \
                 (see docs/stores/mysql.md)",
                params.user,
                params.host,
                sync_binlog.map_or("unset".into(), |s| s.to_string())
            );
        }
    }
}

impl SqlStore for Shared {
    const NAME: &'static str = "mysql";
}
