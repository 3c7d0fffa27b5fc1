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
use tokio::time::{sleep, sleep_until};

use crate::backend::{Backend, Candidacy, CandidateSpec, Grant, Renewal};
use crate::clock::{self, BootClock};
use crate::dispatcher::Dispatcher;
use crate::error::{ErrorCode, Result};
use crate::event::{Event, RevokeReason};
use crate::lease::{Lease, State};
use crate::uri::Config;

/// Requests from the [`crate::Election`] handle. Each carries an acknowledgement that is sent
/// once the request took effect (leadership released, or the task finished).
pub(crate) enum Command {
    Resign(std::sync::mpsc::SyncSender<()>),
    Close(std::sync::mpsc::SyncSender<()>),
    /// Publish a new value for the current term; answered with the store's verdict.
    Proclaim(String, std::sync::mpsc::SyncSender<Result<()>>),
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
}

/// What ended a wait of the campaign or of the leadership.
enum Wake<T> {
    Command(Option<Command>),
    Done(T),
}

/// How a leadership ended, and who is waiting to hear that it did.
struct Ending {
    reason: RevokeReason,
    ack: Option<std::sync::mpsc::SyncSender<()>>,
}

impl Engine {
    pub async fn run(mut self) {
        let mut candidacy: Option<Box<dyn Candidacy>> = None;
        let mut failures = 0u32;
        loop {
            self.lease.set_state(State::Campaigning);
            // Built afresh each round: a proclaimed value is the one a new membership carries.
            let spec = CandidateSpec {
                election: self.name.clone(),
                id: self.config.id.clone(),
                value: self.config.value.clone(),
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
                    let _ = ack.send(Err(self.not_leading()));
                    continue;
                }
                Wake::Command(Some(Command::Close(ack))) => {
                    return self.finish(candidacy, Some(ack)).await
                }
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
            let ending = self.lead(grant, cand.as_mut()).await;
            if let Err(e) = self.release(cand.as_mut()).await {
                self.error(format!("release in `{}`: {e}", self.name));
            }
            match ending.reason {
                RevokeReason::Closed => return self.finish(candidacy, ending.ack).await,
                RevokeReason::SessionLost => candidacy = None,
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
            return Ending {
                reason: RevokeReason::LeaseExpired,
                ack: None,
            };
        }
        let mut next_renew = grant.renewal.sent_at + renew_every;
        self.lease.elect(term, deadline);
        self.events.send(Event::Elected { term });
        let ending = loop {
            let wake = tokio::select! {
                biased;
                c = self.commands.recv() => Wake::Command(c),
                _ = sleep_until(clock::instant_at(deadline).into()) => Wake::Done(None),
                r = async { sleep_until(next_renew.into()).await; cand.renew().await } => Wake::Done(Some(r)),
            };
            match wake {
                Wake::Command(Some(Command::Resign(ack))) => {
                    self.drain(deadline).await;
                    break Ending {
                        reason: RevokeReason::Resigned,
                        ack: Some(ack),
                    };
                }
                Wake::Command(Some(Command::Close(ack))) => {
                    self.drain(deadline).await;
                    break Ending {
                        reason: RevokeReason::Closed,
                        ack: Some(ack),
                    };
                }
                Wake::Command(Some(Command::Proclaim(value, ack))) => {
                    match self.proclaim(cand, &value, deadline).await {
                        Ok(()) => {
                            self.config.value = value;
                            let _ = ack.send(Ok(()));
                        }
                        Err(e) if e.code() == ErrorCode::NotLeader => {
                            let _ = ack.send(Err(e.clone()));
                            self.error(format!("proclaim in `{}`: {e}", self.name));
                            break Ending {
                                reason: RevokeReason::SessionLost,
                                ack: None,
                            };
                        }
                        Err(e) => {
                            let _ = ack.send(Err(e));
                        }
                    }
                }
                Wake::Command(None) => {
                    break Ending {
                        reason: RevokeReason::Closed,
                        ack: None,
                    }
                }
                Wake::Done(None) => {
                    break Ending {
                        reason: RevokeReason::LeaseExpired,
                        ack: None,
                    }
                }
                // A timer that was due during a suspend fires only after it (the monotonic clock
                // stood still): the deadline may have passed meanwhile.
                Wake::Done(Some(Ok(_))) if clock::now_nanos() >= deadline => {
                    break Ending {
                        reason: RevokeReason::LeaseExpired,
                        ack: None,
                    }
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
                        break Ending {
                            reason: RevokeReason::SessionLost,
                            ack: None,
                        };
                    }
                    ErrorCode::Unreachable => {
                        self.error(format!("renewal in `{}`: {e}", self.name));
                        break Ending {
                            reason: RevokeReason::StoreUnreachable,
                            ack: None,
                        };
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
            return Err(self.not_leading());
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

    fn not_leading(&self) -> crate::Error {
        crate::Error::new(
            ErrorCode::NotLeader,
            format!(
                "proclaim: this candidate does not lead election `{}`; nothing was changed",
                self.name
            ),
        )
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
                    Some(Command::Proclaim(_, ack)) => { let _ = ack.send(Err(self.not_leading())); }
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
            match tokio::time::timeout(self.config.connect_timeout, c.leave()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => self.error(format!("leaving `{}`: {e}", self.name)),
                Err(_) => self.error(format!(
                    "leaving `{}`: the store did not answer in time",
                    self.name
                )),
            }
        }
        if let Some(ack) = ack {
            let _ = ack.send(());
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
                    match item {
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

/// Follows the members of an election and reports each arrival and departure (by id) as
/// `MemberJoined` / `MemberLeft`. Runs beside [`follow`], until aborted by `close`.
pub(crate) async fn follow_members(
    backend: Arc<dyn Backend>,
    name: String,
    retry: Duration,
    events: Arc<Dispatcher>,
) {
    let mut known: Vec<crate::event::Member> = Vec::new();
    loop {
        match backend.watch_members(&name).await {
            Ok(mut stream) => {
                while let Some(item) = stream.recv().await {
                    match item {
                        Ok(now) => {
                            for gone in known.iter().filter(|k| !now.iter().any(|m| m.id == k.id)) {
                                events.send(Event::MemberLeft {
                                    member: gone.clone(),
                                });
                            }
                            for new in now.iter().filter(|m| !known.iter().any(|k| k.id == m.id)) {
                                events.send(Event::MemberJoined {
                                    member: new.clone(),
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
