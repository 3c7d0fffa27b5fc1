//! Following the candidates of an election on Redis: the `members` sorted set (heartbeat
//! expiries on the server's clock) and the `values` hash, read by the `MEMBERS` script, which
//! trims expired heartbeats on the way (followed by `follow`). A join and a leave announce
//! themselves on the election's channel, so they are seen at once; a crashed candidate
//! announces nothing: the process's one keep-alive counts the live members of every watched
//! election and wakes the followers of one whose count changed, so its heartbeat's expiry is
//! seen within a tick.

use super::{scripts, Shared};
use crate::error::Result;
use crate::event::Member;

/// The live members of `election`, in id order.
pub(super) async fn read(shared: &Shared, election: &str) -> Result<Vec<Member>> {
    let mut inv = scripts::MEMBERS.prepare_invoke();
    inv.key(shared.keys.members(election))
        .key(shared.keys.values(election));
    let flat: Vec<String> = shared.invoke(&inv).await?;
    Ok(flat
        .chunks_exact(2)
        .map(|p| Member {
            id: p[0].clone(),
            value: p[1].clone(),
        })
        .collect())
}

/// Tells the election's followers that its members changed.
pub(super) async fn announce(shared: &Shared, election: &str, what: &str) -> Result<()> {
    let mut inv = scripts::ANNOUNCE.prepare_invoke();
    inv.arg(shared.keys.channel(election)).arg(what);
    let _receivers: i64 = shared.invoke(&inv).await?;
    Ok(())
}
