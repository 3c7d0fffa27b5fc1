//! Leadership changes as log records, written by core once for every binding: `Elected` and
//! `LeaderChanged` at INFO, `Revoked` at INFO when the host asked for it (resigned, closed, preempted) and
//! at WARN otherwise, `Error` (a store error the election recovers from) at WARN. Each carries
//! the election, this candidate's id, the store (password hidden) and the term it is about.

use std::sync::Arc;

use crate::event::{Event, RevokeReason};
use crate::lease::Lease;

/// Who an election's records are about.
pub(crate) struct EventLog {
    pub election: String,
    pub id: String,
    /// The connection string as `Config`'s `Display` shows it (no password).
    pub store: String,
    /// For the term an `Error` happened in (0, left out, when not leading).
    pub lease: Arc<Lease>,
}

impl EventLog {
    pub fn record(&self, event: &Event) {
        let (election, id, store) = (
            self.election.as_str(),
            self.id.as_str(),
            self.store.as_str(),
        );
        match event {
            Event::Elected { term } => {
                tracing::info!(election, id, store, term, "elected: this candidate leads")
            }
            Event::Revoked { term, reason } => match reason {
                RevokeReason::Resigned | RevokeReason::Closed | RevokeReason::Preempted => {
                    let reason = reason.as_str();
                    tracing::info!(
                        election,
                        id,
                        store,
                        term,
                        reason,
                        "revoked: leadership ended"
                    )
                }
                _ => {
                    let reason = reason.as_str();
                    tracing::warn!(
                        election,
                        id,
                        store,
                        term,
                        reason,
                        "revoked: leadership lost"
                    )
                }
            },
            Event::LeaderChanged { leader: Some(l) } => tracing::info!(
                election,
                id,
                store,
                term = l.term,
                leader = l.id.as_str(),
                "leader changed"
            ),
            Event::LeaderChanged { leader: None } => {
                tracing::info!(election, id, store, "leader changed: nobody leads")
            }
            Event::Error { message } => match self.lease.fencing_token() {
                0 => tracing::warn!(election, id, store, "{message}"),
                term => tracing::warn!(election, id, store, term, "{message}"),
            },
            Event::MemberJoined { member } => {
                let member = member.id.as_str();
                tracing::debug!(election, id, store, member, "member joined")
            }
            Event::MemberLeft { member } => {
                let member = member.id.as_str();
                tracing::debug!(election, id, store, member, "member left")
            }
        }
    }
}
