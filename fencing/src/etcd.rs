//! etcd writes guarded by a fence key compared in the same transaction.
//!
//! The fence key holds the highest token, zero-padded to 20 digits so that etcd's byte-wise
//! comparison of values is the numeric one. One `Txn`: if the fence is greater than the token,
//! read it (stale); else raise it and run the writes. A missing key compares false, so the first
//! write creates the fence.

use etcd_client::{Client, Compare, CompareOp, Txn, TxnOp, TxnOpResponse};

use crate::error::{check_token, Error, Stale};

fn padded(token: u64) -> String {
    format!("{token:020}")
}

/// Runs `ops` in one transaction with the fence `fence_key` raised to `token`, unless the fence
/// holds a higher token: then nothing is written and the result is [`Error::Stale`].
pub async fn txn(
    client: &mut Client,
    fence_key: &str,
    token: u64,
    ops: Vec<TxnOp>,
) -> Result<(), Error> {
    check_token(token)?;
    let mut writes = vec![TxnOp::put(fence_key, padded(token), None)];
    writes.extend(ops);
    let resp = client
        .txn(
            Txn::new()
                .when([Compare::value(fence_key, CompareOp::Greater, padded(token))])
                .and_then([TxnOp::get(fence_key, None)])
                .or_else(writes),
        )
        .await
        .map_err(Error::Etcd)?;
    if !resp.succeeded() {
        return Ok(());
    }
    let highest = match resp.op_responses().first() {
        Some(TxnOpResponse::Get(get)) => get
            .kvs()
            .first()
            .and_then(|kv| kv.value_str().ok()?.parse().ok()),
        _ => None,
    };
    Err(Error::Stale(Stale {
        resource: fence_key.to_string(),
        token,
        highest,
    }))
}

/// `put key value` guarded by the fence `fence_key` (see [`txn`]).
pub async fn put(
    client: &mut Client,
    fence_key: &str,
    token: u64,
    key: &str,
    value: impl Into<Vec<u8>>,
) -> Result<(), Error> {
    txn(client, fence_key, token, vec![TxnOp::put(key, value, None)]).await
}
