//! A Redis SET guarded by a fence key, in one Lua script (atomic on the server).

use redis::aio::ConnectionLike;
use redis::Script;

use crate::error::{check_token, Error, Stale};

/// KEYS: fence, key. ARGV: token, value. Reply `{1, token}` when written, `{0, highest}` when
/// the token is stale. The one source of the script: `fencing/redis-set.lua`; the other
/// languages' kits and docs/fencing.md keep copies that their tests compare with it.
pub const SCRIPT: &str = include_str!("../redis-set.lua");

/// `SET key value` only if `token` is not older than the one in `fence_key`; else
/// [`Error::Stale`] and nothing written. In Redis Cluster give both keys one hash tag
/// (`{jobs}:fence`, `{jobs}:data`).
pub async fn set<C: ConnectionLike>(
    con: &mut C,
    fence_key: &str,
    token: u64,
    key: &str,
    value: &[u8],
) -> Result<(), Error> {
    let t = check_token(token)?;
    let (ok, highest): (i64, i64) = Script::new(SCRIPT)
        .key(fence_key)
        .key(key)
        .arg(t)
        .arg(value)
        .invoke_async(con)
        .await
        .map_err(Error::Redis)?;
    if ok == 1 {
        return Ok(());
    }
    Err(Error::Stale(Stale {
        resource: key.to_string(),
        token,
        highest: Some(highest as u64),
    }))
}
