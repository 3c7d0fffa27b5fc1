//! How a leader gives one shard's election to a chosen successor.
//!
//! The group hands a shard only to an instance that already waits in line for it, so giving the
//! leadership up wakes that successor through the store's own watch or notification, within
//! milliseconds, and the store still lets one candidate lead at a time. A plain release cannot
//! pick *which* waiting candidate wins; the balance rule keeps only the least loaded instances in
//! line, so any winner is a right one.
//!
//! The store's hand-off record ([`Election::hand_over_to`]) is deliberately not used here: it
//! reserves the shard for the named successor for up to a ttl, and the successor the group sees
//! may already be gone (an instance killed a moment ago is still a member until its record
//! expires, and its leaderships expire first, which makes it look least loaded). A reservation
//! for it left a shard without a leader for a whole ttl in the Redis run of the 3x12 test; a
//! release lets whoever is still waiting take it at once.

use crate::election::Election;

/// Gives the leadership of `election` to `successor` (`None`: to whoever waits, e.g. above the
/// cap), then leaves the election: the group campaigns there again only when the balance rule
/// says so.
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
