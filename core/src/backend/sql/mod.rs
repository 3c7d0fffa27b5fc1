//! What the SQL stores (postgres, mysql) share: everything but their statements.
//!
//! Both keep a lease row per election on the server's clock, batched renewals
//! ([`crate::backend::rounds`]), a members table, and a line of waiting candidates woken by the
//! store (PostgreSQL `NOTIFY`, MySQL's named lock). The statements and the wake-up differ; the
//! control flow around them does not, and lives here once:
//!
//! - [`SqlBackend`]: the [`Backend`] of a store connection (its round task, joins, reads,
//!   watches, and the reply caps of [`limits`](crate::backend::limits));
//! - [`candidacy`]: one candidate (wait in line, attempt, lead on the rounds, proclaim, release,
//!   leave);
//! - [`watch`]: observers of the leader and of the members (a direct read, then what the rounds
//!   see, and the store's announcements where it has them).
//!
//! A store provides its statements and its wake-ups by implementing [`SqlStore`] on the state
//! it shares per connection.

mod candidacy;
pub(crate) mod options;
pub(crate) mod verify;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::rounds::{RoundStore, Rounds};
use super::{Backend, Candidacy, CandidateSpec, LeaderStream, MemberStream};
use crate::error::Result;
use crate::event::{LeaderInfo, Member};
use candidacy::SqlCandidacy;

/// The outcome of one attempt to take the lease.
pub(crate) enum Attempt {
    /// Ours, under a new `term`, for `ttl` from when the statement was sent.
    Won { term: u64, ttl: Duration },
    /// The lease may be ours in about this long at the earliest; `others_first` when another
    /// candidate may be granted before (a hand-off or stickiness for someone else).
    Lost { left: Duration, others_first: bool },
}

/// The outcome of a hand-over statement.
pub(crate) enum HandOver {
    /// Our lease is released, reserved for the successor alone for a ttl.
    Handed,
    /// Nothing changed: our lease is not live.
    NotLeader,
    /// Nothing changed: the successor is not a live member.
    NotMember,
}

/// A SQL store, as the state one store connection shares: its rounds ([`RoundStore`], in
/// the store's `keepalive.rs`), its candidates' statements ([`CandidacyStore`], in
/// `candidacy.rs`) and its observers' reads ([`WatchStore`], in `watch.rs`).
pub(crate) trait SqlStore: RoundStore + CandidacyStore + WatchStore + Sized {
    /// The store's name in messages.
    const NAME: &'static str;
}

/// A candidacy's live lease as its statements name it: the election and candidate (`spec`),
/// the `term` it holds and the candidacy's `owner` nonce.
#[derive(Clone, Copy)]
pub(crate) struct Hold<'a> {
    pub spec: &'a CandidateSpec,
    pub term: i64,
    pub owner: &'a str,
}

/// A candidate's statements, each one round trip on the connection's statement session, and
/// its place in line.
#[async_trait]
pub(crate) trait CandidacyStore: Send + Sync + 'static {
    /// A candidacy's place in the line of one election.
    type Line: Line;

    /// Registers `spec` as a member, creating the election's lease row if missing.
    async fn join(&self, spec: &CandidateSpec) -> Result<()>;
    /// Takes the lease for the candidacy `owner` if it is free, expired or already its own,
    /// bumping the term in the same statement.
    async fn attempt(&self, spec: &CandidateSpec, owner: &str) -> Result<Attempt>;
    /// Publishes `value` on the lease `hold` (and its member row); `false`, with nothing
    /// written, when that lease is not live.
    async fn proclaim(&self, hold: Hold<'_>, value: &str) -> Result<bool>;
    /// Ends `owner`'s lease of `term` (of any term if `None`) and wakes the line where the
    /// statement can.
    async fn release(&self, spec: &CandidateSpec, term: Option<i64>, owner: &str) -> Result<()>;
    /// Ends the live lease `hold`, reserved for the live member `successor` alone for a ttl, in
    /// one statement, and wakes the line where the statement can.
    async fn hand_over(&self, hold: Hold<'_>, successor: &str) -> Result<HandOver>;
    /// Removes `spec`'s member row.
    async fn leave(&self, spec: &CandidateSpec) -> Result<()>;
    /// A place in the line of `election` for a new candidacy. Infallible: a line that cannot
    /// be set up now is set up by [`Line::turn`].
    async fn line(self: &Arc<Self>, election: &str) -> Self::Line;
}

/// An observer's reads, and the announcements that call for one.
#[async_trait]
pub(crate) trait WatchStore: Send + Sync + 'static {
    /// A watcher's subscription to the announcements of one election.
    type Changes: Changes;

    /// The live leader of `election`, read directly.
    async fn read_leader(&self, election: &str) -> Result<Option<LeaderInfo>>;
    /// The live members of `election`, by id, read directly.
    async fn read_members(&self, election: &str) -> Result<Vec<Member>>;
    /// Subscribes a watcher to `election`'s announcements, reporting failures to `tx` and
    /// trying again until it works; `None` once the receiver is gone.
    async fn changes<T: Send + 'static>(
        &self,
        election: &str,
        tx: &mpsc::Sender<Result<T>>,
    ) -> Option<Self::Changes>;
}

/// A candidacy's place in the line of waiting candidates: how the store wakes it when the
/// lease is released.
#[async_trait]
pub(crate) trait Line: Send + Sync + 'static {
    /// Called before every attempt: waits, at most `limit` (the time left on the current
    /// lease), for this candidacy's turn. `false`: not in line (the wait timed out or failed),
    /// so a lost attempt is tried again at once rather than waited on.
    async fn turn(&mut self, limit: Duration) -> Result<bool>;
    /// Resolves when the line announces a release (never, for a line that wakes its
    /// candidates in [`Line::turn`]).
    async fn woken(&mut self);
    /// The campaign ended (won, failed or cancelled).
    fn rest(&mut self) {}
    /// Our lease was released: lets the next candidate in line go.
    async fn pass(&mut self) {}
    /// The candidacy leaves the election.
    async fn close(&mut self) {}
}

/// A watcher's subscription to an election's announcements.
#[async_trait]
pub(crate) trait Changes: Send + 'static {
    /// Announcements so far are seen: [`Changes::notified`] waits for a later one.
    fn mark_seen(&mut self);
    /// Resolves on the next announcement.
    async fn notified(&mut self);
    /// The announcements stopped coming (subscribe again).
    fn is_down(&self) -> bool;
}

/// The subscription of a store that announces nothing: its watchers learn of changes from the
/// rounds alone, within a renewal period.
pub(crate) struct Silent;

#[async_trait]
impl Changes for Silent {
    fn mark_seen(&mut self) {}

    async fn notified(&mut self) {
        std::future::pending::<()>().await
    }

    fn is_down(&self) -> bool {
        false
    }
}

/// The [`Backend`] of one SQL store connection: owns its round task.
pub(crate) struct SqlBackend<S: SqlStore> {
    shared: Arc<S>,
    round_task: AbortHandle,
}

impl<S: SqlStore> SqlBackend<S> {
    /// Starts the rounds of a connection that is open and ready.
    pub fn start(shared: Arc<S>) -> Arc<dyn Backend> {
        let round_task = tokio::spawn(Rounds::run(shared.clone())).abort_handle();
        Arc::new(SqlBackend { shared, round_task })
    }
}

impl<S: SqlStore> Drop for SqlBackend<S> {
    fn drop(&mut self) {
        self.round_task.abort();
    }
}

#[async_trait]
impl<S: SqlStore> Backend for SqlBackend<S> {
    async fn join(&self, spec: &CandidateSpec) -> Result<Box<dyn Candidacy>> {
        Ok(Box::new(
            SqlCandidacy::join(self.shared.clone(), spec).await?,
        ))
    }

    async fn watch(&self, election: &str) -> Result<LeaderStream> {
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(watch::leader(self.shared.clone(), election.to_string(), tx));
        Ok(rx)
    }

    async fn leader(&self, election: &str) -> Result<Option<LeaderInfo>> {
        watch::read_leader(&*self.shared, election).await
    }

    async fn members(&self, election: &str) -> Result<Vec<Member>> {
        watch::read_members(&*self.shared, election).await
    }

    async fn watch_members(&self, election: &str) -> Result<MemberStream> {
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(watch::members(
            self.shared.clone(),
            election.to_string(),
            tx,
        ));
        Ok(rx)
    }
}
