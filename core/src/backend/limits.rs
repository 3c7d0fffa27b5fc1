//! Bounds on what elect takes from a store: a hostile or broken server (or another program
//! writing into elect's keys) must not make it hold an unbounded id, value or member list.
//! elect writes no `value` over [`MAX_VALUE`](crate::uri::MAX_VALUE) bytes; ids get the same
//! bound here. A store that can cut a reply on the server side (PostgreSQL: `left()`, `LIMIT`)
//! asks for at most one unit more than the bound, so an oversized row is detected without
//! being read whole; the check then turns it into an error naming the store.

use crate::error::{Error, ErrorCode, Result};
use crate::event::{LeaderInfo, Member};
use crate::uri::MAX_VALUE;

/// The longest id or value accepted from a store, in bytes.
pub const MAX_FIELD: usize = MAX_VALUE;
/// The most candidates accepted in one member list.
pub const MAX_MEMBERS: usize = 10_000;

fn too_long(store: &str, what: &str, election: &str, field: &str, len: usize) -> Error {
    Error::new(
        ErrorCode::Store,
        format!(
            "{store}: the {field} of a {what} of election `{election}` is longer than {MAX_FIELD} \
             bytes ({len} or more): not written by elect, refused"
        ),
    )
}

/// `leader` as read from `store`, if its id and value are within [`MAX_FIELD`].
pub fn leader(store: &str, election: &str, leader: LeaderInfo) -> Result<LeaderInfo> {
    for (field, text) in [("id", &leader.id), ("value", &leader.value)] {
        if text.len() > MAX_FIELD {
            return Err(too_long(store, "leader", election, field, text.len()));
        }
    }
    Ok(leader)
}

/// `members` as read from `store`, if there are at most [`MAX_MEMBERS`] and each field is
/// within [`MAX_FIELD`].
pub fn members(store: &str, election: &str, members: Vec<Member>) -> Result<Vec<Member>> {
    count(store, election, members.len())?;
    for m in &members {
        for (field, text) in [("id", &m.id), ("value", &m.value)] {
            if text.len() > MAX_FIELD {
                return Err(too_long(store, "member", election, field, text.len()));
            }
        }
    }
    Ok(members)
}

/// Whether an election of `n` members is within [`MAX_MEMBERS`] (for stores that follow the
/// list member by member).
pub fn count(store: &str, election: &str, n: usize) -> Result<()> {
    if n > MAX_MEMBERS {
        return Err(Error::new(
            ErrorCode::Store,
            format!(
                "{store}: election `{election}` lists more than {MAX_MEMBERS} members: refused"
            ),
        ));
    }
    Ok(())
}
