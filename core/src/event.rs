//! What an election tells its host.

use std::fmt;

/// Why a leadership ended. Numbered as the C ABI numbers `elect_revoke_reason` (where 0 is
/// "none", for events other than `Revoked`); bindings check their tables against
/// [`RevokeReason::ALL`].
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevokeReason {
    /// `resign()` was called.
    Resigned = 1,
    /// The lease deadline passed without a confirmed renewal (paused process, slow store).
    LeaseExpired = 2,
    /// The store says the lease or session is gone, or someone else holds the leadership.
    SessionLost = 3,
    /// The connection to the store failed; by default the leader steps down at once.
    StoreUnreachable = 4,
    /// The election was closed.
    Closed = 5,
    /// The leader handed the leadership to a named successor: by `hand_over_to`, or to a
    /// candidate of higher priority (`priority` preemption).
    Preempted = 6,
}

impl RevokeReason {
    /// Every reason, in numeric order.
    pub const ALL: [RevokeReason; 6] = [
        RevokeReason::Resigned,
        RevokeReason::LeaseExpired,
        RevokeReason::SessionLost,
        RevokeReason::StoreUnreachable,
        RevokeReason::Closed,
        RevokeReason::Preempted,
    ];

    /// Short stable name, as in events of the agent protocol and the bindings' enums.
    pub fn name(self) -> &'static str {
        self.as_str()
    }

    pub fn from_i32(v: i32) -> Option<RevokeReason> {
        RevokeReason::ALL.into_iter().find(|r| *r as i32 == v)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Resigned => "resigned",
            RevokeReason::LeaseExpired => "lease_expired",
            RevokeReason::SessionLost => "session_lost",
            RevokeReason::StoreUnreachable => "store_unreachable",
            RevokeReason::Closed => "closed",
            RevokeReason::Preempted => "preempted",
        }
    }
}

impl fmt::Display for RevokeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of [`Event`], numbered as the C ABI numbers `elect_event_kind`; bindings check
/// their tables against [`EventKind::ALL`].
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Elected = 1,
    Revoked = 2,
    LeaderChanged = 3,
    Error = 4,
    MemberJoined = 5,
    MemberLeft = 6,
}

impl EventKind {
    /// Every kind, in numeric order.
    pub const ALL: [EventKind; 6] = [
        EventKind::Elected,
        EventKind::Revoked,
        EventKind::LeaderChanged,
        EventKind::Error,
        EventKind::MemberJoined,
        EventKind::MemberLeft,
    ];

    /// Short stable name.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Elected => "elected",
            EventKind::Revoked => "revoked",
            EventKind::LeaderChanged => "leader_changed",
            EventKind::Error => "error",
            EventKind::MemberJoined => "member_joined",
            EventKind::MemberLeft => "member_left",
        }
    }

    pub fn from_i32(v: i32) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| *k as i32 == v)
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

/// One event of one election, delivered in order, one at a time, on a callback thread of the
/// library (see `dispatcher`).
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
    /// A candidate joined the election (every member present when following starts is
    /// reported as joined first). Changes of a member's value are no membership event.
    MemberJoined { member: Member },
    /// A candidate left: it closed, or its record expired (a crash: within about a ttl).
    MemberLeft { member: Member },
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Elected { .. } => EventKind::Elected,
            Event::Revoked { .. } => EventKind::Revoked,
            Event::LeaderChanged { .. } => EventKind::LeaderChanged,
            Event::Error { .. } => EventKind::Error,
            Event::MemberJoined { .. } => EventKind::MemberJoined,
            Event::MemberLeft { .. } => EventKind::MemberLeft,
        }
    }
}
