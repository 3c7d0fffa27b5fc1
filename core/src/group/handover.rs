//! How a leader gives one shard's election to a chosen successor.
//!
//! The group only hands a shard to an instance that already waits in line for it, so giving the
//! leadership up wakes that successor through the store's own watch or notification, within
//! milliseconds, and the store still lets one candidate lead at a time. What the store cannot
//! promise with a plain release is *which* waiting candidate wins; the balance rule keeps only
//! the least loaded instances in line, so any winner is a right one.

use crate::election::Election;

/// Gives the leadership of `election` to `successor` (`None`: to whoever waits, e.g. above the
/// cap). Leaves the election: the group campaigns there again only when the balance rule says
/// so.
pub(crate) trait HandOver: Send + Sync {
    fn hand_over(&self, election: &Election, successor: Option<&str>);
}

/// Release and leave (`close`): the successor, already in line, takes over at once. With the
/// `drain` option the term's work stops first.
pub(crate) struct Release;

impl HandOver for Release {
    fn hand_over(&self, election: &Election, _successor: Option<&str>) {
        election.close();
    }
}
