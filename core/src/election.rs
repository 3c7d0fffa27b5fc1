//! The handle a host holds: one election, campaigned or observed, on one store.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tokio::task::JoinHandle;

use crate::backend::{self, Backend};
use crate::dispatcher::{Dispatcher, Handler};
use crate::engine::{self, Command, Engine};
use crate::error::{Error, ErrorCode, Result};
use crate::event::{LeaderInfo, Member};
use crate::event_log::EventLog;
use crate::fork;
use crate::interrupt::{Interrupt, Waited};
use crate::lease::{Lease, State};
use crate::metrics::{Health, Stats};
use crate::runtime;
use crate::term::Term;
use crate::uri::Config;

/// One election on one store. Cheap to share: wrap it in an `Arc` to use it from several
/// threads; every method takes `&self`.
///
/// Dropping it closes it (with a graceful resign).
pub struct Election {
    name: String,
    config: Config,
    lease: Arc<Lease>,
    events: Arc<Dispatcher>,
    backend: Arc<dyn Backend>,
    fork_generation: u64,
    control: Mutex<Control>,
}

#[derive(Default)]
struct Control {
    commands: Option<UnboundedSender<Command>>,
    campaign: Option<JoinHandle<()>>,
    follow: Option<JoinHandle<()>>,
    closed: bool,
}

impl Election {
    /// Parses `uri`, connects to its store (sharing an open connection to the same store) and
    /// returns an idle election named `name`. `handler` receives the events, in order and one
    /// at a time, on the library's callback threads (see `dispatcher`).
    pub fn open(uri: &str, name: &str, handler: Option<Handler>) -> Result<Election> {
        Election::open_with(Config::parse(uri)?, name, handler)
    }

    /// Like [`Election::open`] with a config the caller adjusted with [`Config::set`].
    pub fn open_with(mut config: Config, name: &str, handler: Option<Handler>) -> Result<Election> {
        validate_name(name)?;
        config.validate()?;
        crate::plain_text::warn_if_exposed(&config, name);
        let connect_config = config.clone();
        let backend = runtime::block_on(async move { backend::connect(&connect_config).await })??;
        let lease = Arc::new(Lease::default());
        let log = EventLog {
            election: name.to_string(),
            id: config.id.clone(),
            store: config.to_string(),
            lease: lease.clone(),
        };
        let events = Dispatcher::new(log, handler);
        Ok(Election {
            name: name.to_string(),
            config,
            lease,
            events: Arc::new(events),
            backend,
            fork_generation: fork::generation(),
            control: Mutex::new(Control::default()),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// This candidate's id.
    pub fn id(&self) -> &str {
        &self.config.id
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn state(&self) -> State {
        if self.forked() {
            return State::Closed;
        }
        self.lease.state()
    }

    /// Begins campaigning in the background.
    pub fn start(&self) -> Result<()> {
        let mut control = self.usable()?;
        if control.commands.is_some() || control.follow.is_some() {
            return Err(Error::new(
                ErrorCode::WrongState,
                "start: the election is already started or observing",
            ));
        }
        let (tx, rx) = unbounded_channel();
        let (seen, members) = tokio::sync::watch::channel(Vec::new());
        let engine = Engine {
            name: self.name.clone(),
            config: self.config.clone(),
            lease: self.lease.clone(),
            events: self.events.clone(),
            backend: self.backend.clone(),
            commands: rx,
            clock: crate::clock::BootClock::new(),
            members,
            passed: None,
            join: 0,
        };
        self.lease.set_state(State::Campaigning);
        control.commands = Some(tx);
        control.campaign = Some(runtime::handle().spawn(engine.run()));
        control.follow = Some(self.spawn_follow(seen));
        Ok(())
    }

    /// Follows the leader without campaigning: `LeaderChanged` events only.
    pub fn observe(&self) -> Result<()> {
        let mut control = self.usable()?;
        if control.commands.is_some() || control.follow.is_some() {
            return Err(Error::new(
                ErrorCode::WrongState,
                "observe: the election is already started or observing",
            ));
        }
        self.lease.set_state(State::Observing);
        control.follow = Some(self.spawn_follow(tokio::sync::watch::channel(Vec::new()).0));
        Ok(())
    }

    /// The leader and the members, followed by one task (so `close` aborts both at once).
    fn spawn_follow(
        &self,
        seen: tokio::sync::watch::Sender<Vec<crate::succession::Seen>>,
    ) -> JoinHandle<()> {
        let (backend, name, retry, events) = (
            self.backend.clone(),
            self.name.clone(),
            self.config.retry,
            self.events.clone(),
        );
        runtime::handle().spawn(async move {
            tokio::join!(
                engine::follow(backend.clone(), name.clone(), retry, events.clone()),
                engine::follow_members(backend, name, retry, events, seen),
            );
        })
    }

    /// Whether this candidate leads now: its state is leading and the lease deadline has not
    /// passed. No lock, no I/O.
    #[inline]
    pub fn is_leader(&self) -> bool {
        self.lease.is_leader() && !self.forked()
    }

    /// When this leader stops believing it leads unless a renewal is confirmed first (`None`
    /// when not leading). A job that must stop before the lease ends (`elect run`) uses this.
    pub fn lease_deadline(&self) -> Option<std::time::Instant> {
        self.lease.deadline().filter(|_| !self.forked())
    }

    /// The lease left to this leader: the time until [`Election::lease_deadline`], `None` when
    /// not leading. A job checks it before starting a run that must finish within the term.
    pub fn lease_remaining(&self) -> Option<Duration> {
        self.lease.remaining().filter(|_| !self.forked())
    }

    /// A handle on the current term (token, remaining lease, cancellation at Revoked), `None`
    /// when not leading. Hold it for as long as the term's work runs: with the `drain` option,
    /// `resign()` and `close()` wait (at most until the lease deadline) for every handle to be
    /// dropped before they give up the lease.
    pub fn term(&self) -> Option<Term> {
        if self.forked() {
            return None;
        }
        self.lease.term()
    }

    /// The current term if at least `min_lease` of its lease is left, else `None`: the guard of
    /// the job helpers (`min_lease`, `minLease`), so that a run that could not finish before
    /// the deadline is not started.
    pub fn term_for(&self, min_lease: Duration) -> Option<Term> {
        self.term()
            .filter(|t| t.remaining().is_some_and(|left| left >= min_lease))
    }

    /// This election's counters and gauges: a few atomic loads, no lock, no store round trip.
    pub fn stats(&self) -> Stats {
        self.events.metrics().snapshot(&self.lease)
    }

    /// Whether this election is healthy, with the local facts a health probe reports (state,
    /// leadership, store connection, remaining lease). No store round trip.
    pub fn health(&self) -> Health {
        let state = self.state();
        let leading = self.is_leader();
        Health::of(state, leading, &self.stats())
    }

    /// The fencing token of the current term, `None` when not leading.
    pub fn fencing_token(&self) -> Option<u64> {
        if self.forked() {
            return None;
        }
        Some(self.lease.fencing_token()).filter(|t| *t != 0)
    }

    /// Blocks until this candidate leads (`Ok(true)`) or `timeout` passes (`Ok(false)`);
    /// `None` waits forever. Fails with `Closed` if the election is closed meanwhile.
    pub fn wait_leader(&self, timeout: Option<Duration>) -> Result<bool> {
        {
            let control = self.usable()?;
            if control.commands.is_none() {
                return Err(Error::new(
                    ErrorCode::WrongState,
                    "wait_leader: call start() first",
                ));
            }
        }
        let led = self.lease.wait_leader(timeout);
        if !led && self.lease.state() == State::Closed {
            return Err(Error::closed());
        }
        Ok(led)
    }

    /// [`Election::wait_leader`] that also returns, with [`Waited::Interrupted`], as soon as
    /// `interrupt` fires (from any thread): how a bridge keeps a long wait responsive to its
    /// host (Python's signals, Java's `Thread.interrupt`) without waking up to poll. An interrupt
    /// fired before the call ends it at once; the caller clears it with [`Interrupt::take`].
    pub fn wait_leader_or(
        &self,
        timeout: Option<Duration>,
        interrupt: &Interrupt,
    ) -> Result<Waited> {
        // The checks of `wait_leader` (started, not closed), and no wait when leading already.
        if self.wait_leader(Some(Duration::ZERO))? {
            return Ok(Waited::Done);
        }
        let lease = self.lease.clone();
        let _waking = interrupt.waking(move || lease.wake_waiters());
        match self.lease.wait_leader_or(timeout, Some(interrupt)) {
            Waited::TimedOut if self.lease.state() == State::Closed => Err(Error::closed()),
            waited => Ok(waited),
        }
    }

    /// Gives up the leadership now (the successor is woken by the store) and campaigns again
    /// after `silence`. Returns once the store has the leadership back. A no-op when not leading.
    pub fn resign(&self) -> Result<()> {
        self.command(Command::Resign)
    }

    /// Publishes `value` as this leader's value without a new election: observers receive
    /// `LeaderChanged` with the new value and the same term, and later terms of this candidate
    /// carry it too. The store writes it only while this candidacy holds the leadership (a
    /// check in the same store operation as the write), so a candidate that does not lead, or
    /// whose term ended, gets `NotLeader` and nothing changes. `NotLeader` from the store also
    /// ends the term (`Revoked{session_lost}`). `Timeout`/`Unreachable`: unknown whether the
    /// value was published; the leadership goes on, and proclaiming again is safe.
    pub fn proclaim(&self, value: &str) -> Result<()> {
        let mut checked = self.config.clone();
        checked.set("value", value)?;
        self.ask(
            "proclaim",
            |ack| Command::Proclaim(checked.value, ack),
            self.config.connect_timeout * 2,
        )
    }

    /// Who leads now, read from the store.
    pub fn leader(&self) -> Result<Option<LeaderInfo>> {
        drop(self.usable()?);
        let (backend, name) = (self.backend.clone(), self.name.clone());
        let leader = self.store_call(async move { backend.leader(&name).await })?;
        Ok(leader.map(engine::user_leader))
    }

    /// The live candidates of this election.
    pub fn members(&self) -> Result<Vec<Member>> {
        drop(self.usable()?);
        let (backend, name) = (self.backend.clone(), self.name.clone());
        let members = self.store_call(async move { backend.members(&name).await })?;
        Ok(members.iter().map(engine::user_member).collect())
    }

    /// Hands the leadership to the member `successor` (its id) without a gap or an overlap:
    /// the term's work is asked to stop (as by [`Election::resign`], with `drain`), then one
    /// store operation gives the leadership up and reserves it for `successor` alone, which
    /// takes it at once while the other candidates keep waiting; if it does not within one
    /// ttl, the reservation lapses and anyone may be elected. This candidate then campaigns
    /// again after `silence`. The primitive behind `priority` preemption (see
    /// [`crate::succession`] and the `Candidacy::hand_over` of each store), open to callers
    /// that decide who should lead by rules of their own.
    ///
    /// Returns once the store has the leadership back. `NotLeader` when this candidate does
    /// not lead (nothing changed), `InvalidArgument` when `successor` is not a member as this
    /// election's member follower sees them, or is this candidate. If the store refuses the
    /// hand-off after the work was stopped, the leadership is released as by `resign` and the
    /// store's error returned.
    pub fn hand_over_to(&self, successor: &str) -> Result<()> {
        self.ask(
            "hand_over_to",
            |ack| Command::HandOver(successor.to_string(), ack),
            self.config.connect_timeout * 3 + self.config.drain,
        )
    }

    /// Sends the engine a request that only a leader can carry out, and waits up to `limit`
    /// for its verdict; `NotLeader` without asking when the election is not campaigning.
    fn ask(
        &self,
        what: &str,
        make: impl FnOnce(std::sync::mpsc::SyncSender<Result<()>>) -> Command,
        limit: Duration,
    ) -> Result<()> {
        let commands = {
            let control = self.usable()?;
            control.commands.clone()
        };
        let Some(commands) = commands else {
            return Err(Error::new(
                ErrorCode::NotLeader,
                format!(
                    "{what}: election `{}` is not campaigning (call start() first); nothing was changed",
                    self.name
                ),
            ));
        };
        let (ack, done) = std::sync::mpsc::sync_channel(1);
        commands.send(make(ack)).map_err(|_| Error::closed())?;
        done.recv_timeout(limit).map_err(|_| {
            Error::new(
                ErrorCode::Timeout,
                format!("{what}: the store did not confirm in time"),
            )
        })?
    }

    /// Resigns, leaves the election and stops. Idempotent; safe from inside this election's own
    /// callback (queued events are then delivered after the callback returns).
    pub fn close(&self) {
        if self.forked() {
            return; // the parent's threads, which this would wait for, do not exist here
        }
        let (commands, campaign, follow) = {
            let mut control = self.control.lock().unwrap_or_else(|e| e.into_inner());
            if control.closed {
                return;
            }
            control.closed = true;
            (
                control.commands.take(),
                control.campaign.take(),
                control.follow.take(),
            )
        };
        if let Some(follow) = follow {
            follow.abort();
        }
        if let Some(commands) = commands {
            let (ack, done) = std::sync::mpsc::sync_channel(1);
            if commands.send(Command::Close(ack)).is_ok() {
                // Bounded: release and leave are each bounded by connect_timeout in the engine,
                // the drain by `drain`.
                let _ = done.recv_timeout(self.config.connect_timeout * 3 + self.config.drain);
            }
            if let Some(campaign) = campaign {
                campaign.abort();
            }
        }
        self.lease.revoke(State::Closed);
        self.events.shutdown();
    }

    fn command(&self, make: fn(std::sync::mpsc::SyncSender<()>) -> Command) -> Result<()> {
        let commands = {
            let control = self.usable()?;
            control.commands.clone()
        };
        let Some(commands) = commands else {
            return Ok(());
        };
        let (ack, done) = std::sync::mpsc::sync_channel(1);
        commands.send(make(ack)).map_err(|_| Error::closed())?;
        done.recv_timeout(self.config.connect_timeout * 2 + self.config.drain)
            .map_err(|_| Error::new(ErrorCode::Timeout, "the store did not confirm in time"))
    }

    fn store_call<T: Send + 'static>(
        &self,
        fut: impl std::future::Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let limit = self.config.connect_timeout;
        runtime::block_on(async move {
            tokio::time::timeout(limit, fut).await.map_err(|_| {
                Error::new(
                    ErrorCode::Timeout,
                    "the store did not answer within connect_timeout",
                )
            })?
        })?
    }

    /// Whether this election was opened by an ancestor process (see `fork`).
    fn forked(&self) -> bool {
        fork::generation() != self.fork_generation
    }

    /// The control block, or `Closed` if the election is closed or belongs to a parent process.
    fn usable(&self) -> Result<std::sync::MutexGuard<'_, Control>> {
        if self.forked() {
            return Err(Error::new(
                ErrorCode::Closed,
                "this election was opened by the parent process before fork(); open a new one in the child",
            ));
        }
        let control = self.control.lock().unwrap_or_else(|e| e.into_inner());
        if control.closed {
            return Err(Error::closed());
        }
        Ok(control)
    }
}

impl Drop for Election {
    fn drop(&mut self) {
        if self.forked() {
            // The parent's election: its tasks, connection and event queue belong to the
            // parent's runtime, and dropping them here could wait on locks that a thread of the
            // parent held at fork time. Leak them.
            std::mem::forget(std::mem::take(
                self.control.get_mut().unwrap_or_else(|e| e.into_inner()),
            ));
            std::mem::forget(self.backend.clone());
            std::mem::forget(self.events.clone());
            return;
        }
        self.close();
    }
}

impl std::fmt::Debug for Election {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Election")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("state", &self.state())
            .finish()
    }
}

/// Election names: non-empty, at most 256 bytes, no control characters, no `/` at either end
/// (stores use them as path components).
pub fn validate_name(name: &str) -> Result<()> {
    let bad = |why: &str| Error::invalid(format!("name: {why}"));
    if name.is_empty() {
        return Err(bad("must not be empty"));
    }
    if name.len() > 256 {
        return Err(bad("longer than 256 bytes"));
    }
    if name.chars().any(char::is_control) {
        return Err(bad("control characters are not allowed"));
    }
    if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return Err(bad("must not start or end with `/` or contain `//`"));
    }
    Ok(())
}
