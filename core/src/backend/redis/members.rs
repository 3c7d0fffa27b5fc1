//! Following the candidates of an election on Redis: the `members` sorted set (heartbeat
//! expiries on the server's clock) and the `values` hash, read by the `MEMBERS` script, which
//! trims expired heartbeats on the way (followed by `follow`). A join and a leave announce
//! themselves on the election's channel, so they are seen at once; a crashed candidate
//! announces nothing: the process's one keep-alive counts the live members of every watched
//! election and wakes the followers of one whose count changed, so its heartbeat's expiry is
//! seen within a tick.

use super::{scripts, Shared};
use crate::backend::limits::{self, MAX_FIELD, MAX_MEMBERS};
use crate::error::Result;
use crate::event::Member;

/// The live members of `election`, in id order.
pub(super) async fn read(shared: &Shared, election: &str) -> Result<Vec<Member>> {
    let mut inv = scripts::MEMBERS.prepare_invoke();
    inv.key(shared.keys.members(election))
        .key(shared.keys.values(election))
        .arg(MAX_FIELD + 1)
        .arg(MAX_MEMBERS + 1);
    // Bytes: a cut may fall inside a character.
    let flat: Vec<Vec<u8>> = shared.invoke(&inv).await?;
    let members = flat
        .chunks_exact(2)
        .map(|p| Member {
            id: String::from_utf8_lossy(&p[0]).into_owned(),
            value: String::from_utf8_lossy(&p[1]).into_owned(),
        })
        .collect();
    limits::members("redis", election, members)
}

/// Tells the election's followers that its members changed.
pub(super) async fn announce(shared: &Shared, election: &str, what: &str) -> Result<()> {
    let mut inv = scripts::ANNOUNCE.prepare_invoke();
    inv.arg(shared.keys.channel(election)).arg(what);
    let _receivers: i64 = shared.invoke(&inv).await?;
    Ok(())
}
