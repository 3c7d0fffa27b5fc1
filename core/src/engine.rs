//! One election's life: campaign -> lead -> lose -> campaign, as one task on the shared runtime.
//!
//! The task owns the store [`Candidacy`] and is the only writer of the election's [`Lease`].
//! States: `Campaigning` (join the election and wait in line, retrying store errors after
//! `retry`), `Leading` (renew every `renew`; the deadline is `sent_at + granted ttl - margin` of
//! the last confirmed renewal, on `CLOCK_BOOTTIME`), `Revoked` (release the lock, stay quiet for
//! `silence`), then campaign again. A grant whose deadline has passed by the time it arrives
//! (a slow store, a paused process) is no term: it is released without `Elected`. The deadline timer lives here, not in the backend, so a stuck store call
//! cannot keep a leader believing it leads: `Revoked{lease_expired}` fires on time regardless.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::watch;
use tokio::time::{sleep, sleep_until};

use crate::backend::{Backend, Candidacy, CandidateSpec, Grant, Renewal};
use crate::clock::{self, BootClock};
use crate::dispatcher::Dispatcher;
use crate::error::{ErrorCode, Result};
use crate::event::{Event, LeaderInfo, Member, RevokeReason};
use crate::lease::{Lease, State};
use crate::succession::{self, Choice, Rank, Seen};
use crate::uri::Config;

/// Requests from the [`crate::Election`] handle. Each carries an acknowledgement that is sent
/// once the request took effect (leadership released, or the task finished).
pub(crate) enum Command {
    Resign(std::sync::mpsc::SyncSender<()>),
    Close(std::sync::mpsc::SyncSender<()>),
    /// Publish a new value for the current term; answered with the store's verdict.
    Proclaim(String, std::sync::mpsc::SyncSender<Result<()>>),
    /// Hand the leadership to the member with this id; answered once the store has it.
    HandOver(String, std::sync::mpsc::SyncSender<Result<()>>),
}

pub(crate) struct Engine {
    pub name: String,
    pub config: Config,
    pub lease: Arc<Lease>,
    pub events: Arc<Dispatcher>,
    pub backend: Arc<dyn Backend>,
    pub commands: UnboundedReceiver<Command>,
    /// Converts renewal send times to the deadline clock.
    pub clock: BootClock,
    /// The members as the election's member follower sees them, with since when.
    pub members: watch::Receiver<Vec<Seen>>,
    /// The last member handed the leadership by preemption, and since when it had been a
    /// member then: not chosen again until it rejoins (see [`crate::succession`]).
    pub passed: Option<(String, Instant)>,
    /// The tag of this candidate's current membership (see [`succession::wrap`]).
    pub join: u32,
}

/// What ended a wait of the campaign or of the leadership.
enum Wake<T> {
    Command(Option<Command>),
    Done(T),
    /// Time to look at the members for a successor of higher priority.
    Look,
}

/// How a leadership ended, and who is waiting to hear that it did.
struct Ending {
    reason: RevokeReason,
    ack: Option<std::sync::mpsc::SyncSender<()>>,
    /// Hand the leadership to this member instead of releasing it (and tell this waiter).
    handoff: Option<(String, Option<std::sync::mpsc::SyncSender<Result<()>>>)>,
    /// The host stepped aside (resign, hand-over): a candidate that preempts leaves and joins
    /// again, so that it is preferred only after settling once more (see `succession`).
    stepped_aside: bool,
}

impl Ending {
    fn of(reason: RevokeReason, ack: Option<std::sync::mpsc::SyncSender<()>>) -> Ending {
        Ending {
            reason,
            ack,
            handoff: None,
            stepped_aside: false,
        }
    }
}

impl Engine {
    pub async fn run(mut self) {
        let mut candidacy: Option<Box<dyn Candidacy>> = None;
        let mut failures = 0u32;
        loop {
            self.lease.set_state(State::Campaigning);
            // Built afresh each round: a proclaimed value is the one a new membership carries.
            if candidacy.is_none() {
                self.join = crate::random::u64() as u32;
            }
            let spec = CandidateSpec {
                election: self.name.clone(),
                id: self.config.id.clone(),
                value: succession::wrap(Rank::of(&self.config), self.join, &self.config.value),
                holdoff: self.config.holdoff,
                sticky: self.config.sticky,
            };
            let wake = tokio::select! {
                c = self.commands.recv() => Wake::Command(c),
                r = acquire(&*self.backend, &spec, &mut candidacy) => Wake::Done(r),
            };
            let grant = match wake {
                Wake::Command(Some(Command::Resign(ack))) => {
                    let _ = ack.send(()); // not leading: nothing to give up
                    continue;
                }
                Wake::Command(Some(Command::Proclaim(_, ack))) => {
                    let _ = ack.send(Err(self.not_leading("proclaim")));
                    continue;
                }
                Wake::Command(Some(Command::HandOver(_, ack))) => {
                    let _ = ack.send(Err(self.not_leading("hand_over_to")));
                    continue;
                }
                Wake::Command(Some(Command::Close(ack))) => {
                    return self.finish(candidacy, Some(ack)).await
                }
                Wake::Look => continue,
                Wake::Command(None) => return self.finish(candidacy, None).await,
                Wake::Done(Err(e)) => {
                    failures += 1;
                    self.error(format!("campaign in `{}`: {e}", self.name));
                    if e.code() == ErrorCode::NotLeader || e.code() == ErrorCode::Closed {
                        candidacy = None; // the store dropped our candidacy: join again
                    }
                    if let Some(ack) = self
                        .pause(backoff(self.config.retry, failures, e.code()))
                        .await
                    {
                        return self.finish(candidacy, ack).await;
                    }
                    continue;
                }
                Wake::Done(Ok(grant)) => {
                    self.events.metrics().store_answered(None);
                    grant
                }
            };
            failures = 0;
            let Some(cand) = candidacy.as_mut() else {
                continue;
            };
            let mut ending = self.lead(grant, cand.as_mut()).await;
            match ending.handoff.take() {
                Some((successor, ack)) => {
                    let handed = self.hand_over(cand.as_mut(), &successor).await;
                    if let Err(e) = &handed {
                        self.error(format!(
                            "hand-over to `{successor}` in `{}` (releasing instead): {e}",
                            self.name
                        ));
                        if let Err(e) = self.release(cand.as_mut()).await {
                            self.error(format!("release in `{}`: {e}", self.name));
                        }
                    }
                    if let Some(ack) = ack {
                        let _ = ack.send(handed);
                    }
                }
                // A preferring candidate that steps aside leaves (membership first, then the
                // lease) and joins again, so that it is preferred only once settled anew.
                None if ending.stepped_aside
                    && Rank::of(&self.config).is_some_and(|r| r.preempt) =>
                {
                    if let Some(c) = candidacy.take() {
                        self.leave(c).await;
                    }
                }
                None => {
                    if let Err(e) = self.release(cand.as_mut()).await {
                        self.error(format!("release in `{}`: {e}", self.name));
                    }
                }
            }
            match ending.reason {
                RevokeReason::Closed => return self.finish(candidacy, ending.ack).await,
                RevokeReason::SessionLost => candidacy = None,
                _ if ending.stepped_aside && Rank::of(&self.config).is_some_and(|r| r.preempt) => {
                    if let Some(c) = candidacy.take() {
                        self.leave(c).await;
                    }
                }
                _ => {}
            }
            if let Some(ack) = ending.ack {
                let _ = ack.send(());
            }
            self.lease.set_state(State::Revoked);
            if let Some(ack) = self.pause(self.config.silence).await {
                return self.finish(candidacy, ack).await;
            }
        }
    }

    /// Leads until the deadline passes, the store takes the leadership away, or the host
    /// resigns or closes.
    async fn lead(&mut self, grant: Grant, cand: &mut dyn Candidacy) -> Ending {
        let term = grant.term;
        let margin = self.config.margin();
        let renew_every = self.config.renew();
        self.clock.observe();
        let mut deadline = self.deadline_of(&grant.renewal, margin);
        if deadline <= clock::now_nanos() {
            self.error(format!(
                "`{}` granted fencing token {term} whose lease had run out when the grant \
                 arrived (a slow store or a paused process): releasing it and campaigning again",
                self.name
            ));
            return Ending::of(RevokeReason::LeaseExpired, None);
        }
        let mut next_renew = grant.renewal.sent_at + renew_every;
        // Preemption: the members are looked at once now, then whenever they change or a
        // candidate of higher priority settles.
        let mut look_at = Some(Instant::now());
        let mut following = true;
        self.lease.elect(term, deadline);
        self.events.send(Event::Elected { term });
        let ending = loop {
            let look = async {
                match look_at {
                    Some(at) => sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            let wake = tokio::select! {
                biased;
                c = self.commands.recv() => Wake::Command(c),
                _ = sleep_until(clock::instant_at(deadline).into()) => Wake::Done(None),
                changed = self.members.changed(), if following => {
                    following = changed.is_ok();
                    Wake::Look
                }
                _ = look => Wake::Look,
                r = async { sleep_until(next_renew.into()).await; cand.renew().await } => Wake::Done(Some(r)),
            };
            match wake {
                Wake::Look => match self.successor() {
                    Choice::HandTo(id) if !self.still_there(&id).await => look_at = None,
                    Choice::HandTo(id) => {
                        self.drain(deadline).await;
                        let since = self
                            .members
                            .borrow()
                            .iter()
                            .find(|m| m.id == id)
                            .map(|m| m.since);
                        self.passed = since.map(|s| (id.clone(), s));
                        break Ending {
                            handoff: Some((id, None)),
                            ..Ending::of(RevokeReason::Preempted, None)
                        };
                    }
                    Choice::LookAgainAt(at) => look_at = Some(at),
                    Choice::Stay => look_at = None,
                },
                Wake::Command(Some(Command::HandOver(id, ack))) => {
                    if let Err(e) = self.check_successor(&id) {
                        let _ = ack.send(Err(e));
                        continue;
                    }
                    self.drain(deadline).await;
                    break Ending {
                        handoff: Some((id, Some(ack))),
                        stepped_aside: true,
                        ..Ending::of(RevokeReason::Preempted, None)
                    };
                }
                Wake::Command(Some(Command::Resign(ack))) => {
                    self.drain(deadline).await;
                    break Ending {
                        stepped_aside: true,
                        ..Ending::of(RevokeReason::Resigned, Some(ack))
                    };
                }
                Wake::Command(Some(Command::Close(ack))) => {
                    self.drain(deadline).await;
                    break Ending::of(RevokeReason::Closed, Some(ack));
                }
                Wake::Command(Some(Command::Proclaim(value, ack))) => {
                    let stored = succession::wrap(Rank::of(&self.config), self.join, &value);
                    match self.proclaim(cand, &stored, deadline).await {
                        Ok(()) => {
                            self.config.value = value;
                            let _ = ack.send(Ok(()));
                        }
                        Err(e) if e.code() == ErrorCode::NotLeader => {
                            let _ = ack.send(Err(e.clone()));
                            self.error(format!("proclaim in `{}`: {e}", self.name));
                            break Ending::of(RevokeReason::SessionLost, None);
                        }
                        Err(e) => {
                            let _ = ack.send(Err(e));
                        }
                    }
                }
                Wake::Command(None) => break Ending::of(RevokeReason::Closed, None),
                Wake::Done(None) => break Ending::of(RevokeReason::LeaseExpired, None),
                // A timer that was due during a suspend fires only after it (the monotonic clock
                // stood still): the deadline may have passed meanwhile.
                Wake::Done(Some(Ok(_))) if clock::now_nanos() >= deadline => {
                    break Ending::of(RevokeReason::LeaseExpired, None)
                }
                Wake::Done(Some(Ok(renewal))) => {
                    let rtt = renewal.sent_at.elapsed();
                    self.events.metrics().store_answered(Some(rtt));
                    self.clock.observe();
                    let d = self.deadline_of(&renewal, margin);
                    if d > deadline {
                        deadline = d;
                        self.lease.extend(d);
                    }
                    next_renew = renewal.sent_at + renew_every;
                }
                Wake::Done(Some(Err(e))) => match e.code() {
                    ErrorCode::NotLeader | ErrorCode::Closed => {
                        self.error(format!("renewal in `{}`: {e}", self.name));
                        break Ending::of(RevokeReason::SessionLost, None);
                    }
                    ErrorCode::Unreachable => {
                        self.error(format!("renewal in `{}`: {e}", self.name));
                        break Ending::of(RevokeReason::StoreUnreachable, None);
                    }
                    _ => {
                        self.error(format!(
                            "renewal in `{}` (retrying until the deadline): {e}",
                            self.name
                        ));
                        next_renew = Instant::now() + self.config.retry.min(renew_every);
                    }
                },
            }
        };
        self.lease.revoke(State::Revoked);
        self.events.send(Event::Revoked {
            term,
            reason: ending.reason,
        });
        ending
    }

    /// With the `drain` option: asks the term's work to stop (cancels its [`crate::Term`]s) and
    /// waits until every handle is dropped, at most `drain` and never past the lease
    /// `deadline`, so that the lease is given up only after the work's last write. No renewal
    /// is sent meanwhile: the deadline known now bounds the wait.
    async fn drain(&self, deadline: u64) {
        if self.config.drain.is_zero() {
            return;
        }
        let Some(signal) = self.lease.term_signal() else {
            return;
        };
        signal.cancel();
        let limit = clock::instant_at(deadline).min(Instant::now() + self.config.drain);
        if tokio::time::timeout_at(limit.into(), signal.all_released())
            .await
            .is_err()
        {
            self.error(format!(
                "`{}`: the term's work did not stop within the drain limit or the lease; giving \
                 up the lease anyway",
                self.name
            ));
        }
    }

    /// `sent_at + ttl - margin` as `CLOCK_BOOTTIME` nanos.
    fn deadline_of(&self, renewal: &Renewal, margin: Duration) -> u64 {
        let valid = renewal.ttl.saturating_sub(margin).as_nanos() as u64;
        self.clock.nanos_at(renewal.sent_at).saturating_add(valid)
    }

    /// Asks the store to publish `value` for the current term, bounded by the lease deadline and
    /// by `connect_timeout`. The store writes it only while this candidacy holds the
    /// leadership; a deadline already past is `NotLeader` without asking.
    async fn proclaim(&self, cand: &mut dyn Candidacy, value: &str, deadline: u64) -> Result<()> {
        if clock::now_nanos() >= deadline {
            return Err(self.not_leading("proclaim"));
        }
        let left = Duration::from_nanos(deadline - clock::now_nanos());
        match tokio::time::timeout(self.config.connect_timeout.min(left), cand.proclaim(value))
            .await
        {
            Ok(r) => r,
            Err(_) => Err(crate::Error::new(
                ErrorCode::Timeout,
                "proclaim: the store did not confirm in time (the value may or may not be \
                 published; proclaim again to be sure)",
            )),
        }
    }

    fn not_leading(&self, what: &str) -> crate::Error {
        crate::Error::new(
            ErrorCode::NotLeader,
            format!(
                "{what}: this candidate does not lead election `{}`; nothing was changed",
                self.name
            ),
        )
    }

    /// Whether a member of higher priority should lead instead (see [`crate::succession`]).
    fn successor(&self) -> Choice {
        let members = self.members.borrow();
        succession::choose(
            &self.config.id,
            self.config.priority,
            &members,
            Instant::now(),
            self.config.ttl,
            self.passed.as_ref(),
        )
    }

    /// Whether member `id` is still in the election as the follower saw it (same envelope),
    /// read from the store now: the follower's list may predate this leadership, and a
    /// candidate that just stepped aside (leaving before releasing) must not be handed it back.
    async fn still_there(&self, id: &str) -> bool {
        let seen = self
            .members
            .borrow()
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.envelope.clone());
        let read = tokio::time::timeout(
            self.config.connect_timeout,
            self.backend.members(&self.name),
        );
        match read.await {
            Ok(Ok(now)) => now
                .iter()
                .any(|m| m.id == id && Some(succession::envelope(&m.value)) == seen.as_deref()),
            _ => false,
        }
    }

    /// `successor` is a member other than this candidate, as the member follower sees them.
    fn check_successor(&self, successor: &str) -> Result<()> {
        if successor == self.config.id {
            return Err(crate::Error::invalid(format!(
                "hand_over_to: `{successor}` is this candidate's own id"
            )));
        }
        if !self.members.borrow().iter().any(|m| m.id == successor) {
            return Err(crate::Error::invalid(format!(
                "hand_over_to: `{successor}` is not a member of election `{}`",
                self.name
            )));
        }
        Ok(())
    }

    /// Hands the leadership to `successor` through the store, bounded like a release.
    async fn hand_over(&self, cand: &mut dyn Candidacy, successor: &str) -> Result<()> {
        match tokio::time::timeout(self.config.connect_timeout, cand.hand_over(successor)).await {
            Ok(r) => r,
            Err(_) => Err(crate::Error::new(
                ErrorCode::Timeout,
                "the store did not confirm the hand-over in time",
            )),
        }
    }

    /// Gives the leadership back to the store, bounded by `connect_timeout` so that a stuck
    /// store cannot hold up the campaign (the store's TTL then frees the lock).
    async fn release(&self, cand: &mut dyn Candidacy) -> Result<()> {
        match tokio::time::timeout(self.config.connect_timeout, cand.release()).await {
            Ok(r) => r,
            Err(_) => Err(crate::Error::new(
                ErrorCode::Timeout,
                "the store did not confirm the release in time",
            )),
        }
    }

    /// Waits `d`, answering commands meanwhile. Returns `Some(ack)` when asked to close.
    async fn pause(&mut self, d: Duration) -> Option<Option<std::sync::mpsc::SyncSender<()>>> {
        let until = sleep(d);
        tokio::pin!(until);
        loop {
            tokio::select! {
                _ = &mut until => return None,
                c = self.commands.recv() => match c {
                    Some(Command::Resign(ack)) => { let _ = ack.send(()); }
                    Some(Command::Proclaim(_, ack)) => { let _ = ack.send(Err(self.not_leading("proclaim"))); }
                    Some(Command::HandOver(_, ack)) => { let _ = ack.send(Err(self.not_leading("hand_over_to"))); }
                    Some(Command::Close(ack)) => return Some(Some(ack)),
                    None => return Some(None),
                },
            }
        }
    }

    async fn finish(
        &mut self,
        candidacy: Option<Box<dyn Candidacy>>,
        ack: Option<std::sync::mpsc::SyncSender<()>>,
    ) {
        if let Some(c) = candidacy {
            self.leave(c).await;
        }
        if let Some(ack) = ack {
            let _ = ack.send(());
        }
    }

    /// Leaves the election (releases and removes the membership), bounded by `connect_timeout`.
    async fn leave(&self, c: Box<dyn Candidacy>) {
        match tokio::time::timeout(self.config.connect_timeout, c.leave()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => self.error(format!("leaving `{}`: {e}", self.name)),
            Err(_) => self.error(format!(
                "leaving `{}`: the store did not answer in time",
                self.name
            )),
        }
    }

    /// Reports a store error to the host (and, through the dispatcher, to the log).
    fn error(&self, message: String) {
        self.events.send(Event::Error { message });
    }
}

/// Joins the election if not yet a member, then waits in line.
async fn acquire(
    backend: &dyn Backend,
    spec: &CandidateSpec,
    candidacy: &mut Option<Box<dyn Candidacy>>,
) -> Result<Grant> {
    if candidacy.is_none() {
        *candidacy = Some(backend.join(spec).await?);
    }
    match candidacy.as_mut() {
        Some(c) => c.acquire().await,
        None => unreachable!("joined just above"),
    }
}

/// `retry`, doubled per consecutive failure up to 30 s for errors that retrying will not fix
/// soon (bad credentials, missing privileges), so that a wrong password is not a retry storm.
fn backoff(retry: Duration, failures: u32, code: ErrorCode) -> Duration {
    match code {
        ErrorCode::Auth | ErrorCode::Permission | ErrorCode::InvalidArgument => {
            (retry * 2u32.saturating_pow(failures.min(8))).min(Duration::from_secs(30))
        }
        _ => retry,
    }
}

/// Follows the leader of an election and reports each change as `LeaderChanged`. Runs for
/// candidates and observers alike, until aborted by `close`.
pub(crate) async fn follow(
    backend: Arc<dyn Backend>,
    name: String,
    retry: Duration,
    events: Arc<Dispatcher>,
) {
    let mut last = None;
    loop {
        match backend.watch(&name).await {
            Ok(mut stream) => {
                while let Some(item) = stream.recv().await {
                    match item.map(|l| l.map(user_leader)) {
                        Ok(leader) if last.as_ref() != Some(&leader) => {
                            events.metrics().store_answered(None);
                            last = Some(leader.clone());
                            events.send(Event::LeaderChanged { leader });
                        }
                        Ok(_) => events.metrics().store_answered(None),
                        Err(e) => events.send(Event::Error {
                            message: format!("watching `{name}`: {e}"),
                        }),
                    }
                }
            }
            Err(e) => events.send(Event::Error {
                message: format!("watching `{name}`: {e}"),
            }),
        }
        sleep(retry).await;
    }
}

/// A leader as the host sees it: the user's value, without the rank.
pub(crate) fn user_leader(l: LeaderInfo) -> LeaderInfo {
    LeaderInfo {
        value: succession::user_value(&l.value),
        ..l
    }
}

/// A member as the host sees it: the user's value, without the rank.
pub(crate) fn user_member(m: &Member) -> Member {
    Member {
        id: m.id.clone(),
        value: succession::user_value(&m.value),
    }
}

/// Follows the members of an election and reports each arrival and departure (by id) as
/// `MemberJoined` / `MemberLeft`. Runs beside [`follow`], until aborted by `close`. Also
/// publishes, for the engine's choice of a successor, each member's rank and since when it has
/// been a member without a break (a member missing from one list starts again).
pub(crate) async fn follow_members(
    backend: Arc<dyn Backend>,
    name: String,
    retry: Duration,
    events: Arc<Dispatcher>,
    seen: watch::Sender<Vec<Seen>>,
) {
    let mut known: Vec<Member> = Vec::new();
    let mut since: std::collections::HashMap<String, Instant> = Default::default();
    loop {
        match backend.watch_members(&name).await {
            Ok(mut stream) => {
                while let Some(item) = stream.recv().await {
                    match item {
                        Ok(now) => {
                            for gone in known.iter().filter(|k| !now.iter().any(|m| m.id == k.id)) {
                                since.remove(&gone.id);
                            }
                            // A member is new (for the settle time) when its id is, or when it
                            // joined again meanwhile (a new envelope), seen leaving or not.
                            for m in &now {
                                let again = known.iter().any(|k| {
                                    k.id == m.id
                                        && succession::envelope(&k.value)
                                            != succession::envelope(&m.value)
                                });
                                if again || !since.contains_key(&m.id) {
                                    since.insert(m.id.clone(), Instant::now());
                                }
                            }
                            let list = now
                                .iter()
                                .map(|m| Seen {
                                    id: m.id.clone(),
                                    rank: succession::unwrap(&m.value).0,
                                    since: since.get(&m.id).copied().unwrap_or_else(Instant::now),
                                    envelope: succession::envelope(&m.value).to_string(),
                                })
                                .collect();
                            // Published before the events: a member the host was told of is
                            // one `hand_over_to` accepts.
                            seen.send_replace(list);
                            for gone in known.iter().filter(|k| !now.iter().any(|m| m.id == k.id)) {
                                events.send(Event::MemberLeft {
                                    member: user_member(gone),
                                });
                            }
                            for new in now.iter().filter(|m| !known.iter().any(|k| k.id == m.id)) {
                                events.send(Event::MemberJoined {
                                    member: user_member(new),
                                });
                            }
                            known = now;
                        }
                        Err(e) => events.send(Event::Error {
                            message: format!("watching the members of `{name}`: {e}"),
                        }),
                    }
                }
            }
            Err(e) => events.send(Event::Error {
                message: format!("watching the members of `{name}`: {e}"),
            }),
        }
        sleep(retry).await;
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
