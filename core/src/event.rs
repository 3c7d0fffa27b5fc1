//! What an election tells its host.

use std::fmt;

/// Why a leadership ended.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevokeReason {
    /// `resign()` was called.
    Resigned = 0,
    /// The lease deadline passed without a confirmed renewal (paused process, slow store).
    LeaseExpired = 1,
    /// The store says the lease or session is gone, or someone else holds the leadership.
    SessionLost = 2,
    /// The connection to the store failed; by default the leader steps down at once.
    StoreUnreachable = 3,
    /// The election was closed.
    Closed = 4,
}

impl RevokeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Resigned => "resigned",
            RevokeReason::LeaseExpired => "lease_expired",
            RevokeReason::SessionLost => "session_lost",
            RevokeReason::StoreUnreachable => "store_unreachable",
            RevokeReason::Closed => "closed",
        }
    }
}

impl fmt::Display for RevokeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who leads an election, as observers see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaderInfo {
    pub id: String,
    pub value: String,
    /// The leader's fencing token.
    pub term: u64,
}

/// A live candidate of an election.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Member {
    pub id: String,
    pub value: String,
}

/// One event of one election, delivered in order on the election's dispatcher thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// This candidate leads, with fencing token `term`.
    Elected { term: u64 },
    /// This candidate's leadership of `term` ended. Always delivered before a later `Elected`.
    Revoked { term: u64, reason: RevokeReason },
    /// The leader changed; `None` while nobody leads.
    LeaderChanged { leader: Option<LeaderInfo> },
    /// Something went wrong that the election recovers from by itself (a failed renewal, a
    /// store error while campaigning, a callback that panicked).
    Error { message: String },
}
