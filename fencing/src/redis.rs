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

#[cfg(test)]
mod tests {
    /// docs/fencing.md shows the script of `fencing/redis-set.lua`, line for line.
    #[test]
    fn the_docs_show_the_script_the_kit_runs() {
        let docs = include_str!("../../docs/fencing.md");
        let block: Vec<&str> = docs
            .lines()
            .skip_while(|l| l.trim() != "```lua")
            .skip(1)
            .take_while(|l| l.trim() != "```")
            .map(str::trim)
            .collect();
        let script: Vec<&str> = super::SCRIPT.lines().collect();
        assert_eq!(
            block, script,
            "the ```lua block of docs/fencing.md differs from fencing/redis-set.lua"
        );
    }
}
