//! The SQL guard on MySQL and MariaDB (InnoDB): a fence row per resource, raised in the write's
//! transaction. `ON DUPLICATE KEY UPDATE` takes the row's exclusive lock and `GREATEST` never
//! lowers it; the locking read that follows sees the committed value.

use mysql_async::prelude::{Queryable, ToValue};
use mysql_async::{Conn, Params, Transaction, TxOpts, Value};

use crate::error::{check_token, Error, Stale};

/// The fence table; create it in your migrations.
pub const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS elect_fence \
     (resource varchar(255) PRIMARY KEY, token bigint NOT NULL) ENGINE=InnoDB";

/// Raises the fence of `resource` to `token` in `tx`. [`Error::Stale`] when a higher token has
/// been seen (roll back: dropping `tx` does). Otherwise the fence row stays locked until `tx`
/// ends, so the statements that follow in `tx` are the write the token guards.
pub async fn fence(tx: &mut Transaction<'_>, resource: &str, token: u64) -> Result<(), Error> {
    let t = check_token(token)?;
    tx.exec_drop(
        "INSERT INTO elect_fence (resource, token) VALUES (?, ?) \
         ON DUPLICATE KEY UPDATE token = GREATEST(token, ?)",
        (resource, t, t),
    )
    .await
    .map_err(Error::Mysql)?;
    let highest: Option<i64> = tx
        .exec_first(
            "SELECT token FROM elect_fence WHERE resource = ? FOR UPDATE",
            (resource,),
        )
        .await
        .map_err(Error::Mysql)?;
    match highest {
        Some(h) if h <= t => Ok(()),
        h => Err(Error::Stale(Stale {
            resource: resource.to_string(),
            token,
            highest: h.map(|h| h as u64),
        })),
    }
}

/// Runs `statement` with `params` under the fence of `resource` in a transaction of its own;
/// returns the rows it affected. Nothing is written for a stale token.
pub async fn execute(
    conn: &mut Conn,
    resource: &str,
    token: u64,
    statement: &str,
    params: &[&dyn ToValue],
) -> Result<u64, Error> {
    check_token(token)?;
    let mut tx = conn
        .start_transaction(TxOpts::default())
        .await
        .map_err(Error::Mysql)?;
    fence(&mut tx, resource, token).await?;
    let values: Vec<Value> = params.iter().map(|p| p.to_value()).collect();
    tx.exec_drop(statement, Params::Positional(values))
        .await
        .map_err(Error::Mysql)?;
    let n = tx.affected_rows();
    tx.commit().await.map_err(Error::Mysql)?;
    Ok(n)
}
