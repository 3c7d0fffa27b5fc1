//! The SQL guard on PostgreSQL: a fence row per resource, raised in the write's transaction.

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Transaction};

use crate::error::{check_token, Error, Stale};

/// The fence table; create it in your migrations.
pub const CREATE_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS elect_fence (resource text PRIMARY KEY, token bigint NOT NULL)";

/// Raises the fence of `resource` to `token` in `tx`. [`Error::Stale`] when a higher token has
/// been seen (roll back: dropping `tx` does). Otherwise the fence row stays locked until `tx`
/// ends, so the statements that follow in `tx` are the write the token guards.
pub async fn fence(tx: &Transaction<'_>, resource: &str, token: u64) -> Result<(), Error> {
    let t = check_token(token)?;
    let raised = tx
        .query_opt(
            "INSERT INTO elect_fence (resource, token) VALUES ($1, $2) \
             ON CONFLICT (resource) DO UPDATE SET token = EXCLUDED.token \
             WHERE elect_fence.token <= EXCLUDED.token RETURNING token",
            &[&resource, &t],
        )
        .await
        .map_err(Error::Postgres)?;
    if raised.is_some() {
        return Ok(());
    }
    let highest = tx
        .query_opt(
            "SELECT token FROM elect_fence WHERE resource = $1",
            &[&resource],
        )
        .await
        .map_err(Error::Postgres)?
        .map(|row| row.get::<_, i64>(0) as u64);
    Err(Error::Stale(Stale {
        resource: resource.to_string(),
        token,
        highest,
    }))
}

/// Runs `statement` under the fence of `resource` in a transaction of its own; returns the rows
/// it affected. Nothing is written for a stale token.
pub async fn execute(
    client: &mut Client,
    resource: &str,
    token: u64,
    statement: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, Error> {
    check_token(token)?;
    let tx = client.transaction().await.map_err(Error::Postgres)?;
    fence(&tx, resource, token).await?;
    let n = tx
        .execute(statement, params)
        .await
        .map_err(Error::Postgres)?;
    tx.commit().await.map_err(Error::Postgres)?;
    Ok(n)
}
