//! A group: one instance campaigning in K elections (shards) of one store, with the
//! leaderships spread evenly over the live instances of the group.
//!
//! Shard `i` of group `name` is the election `name/i`. Each instance follows every shard (an
//! observer per shard: its leader and its members) and is a candidate only where the balance
//! rule ([`balance`]) says so. The live instances are the members and leaders seen in any
//! shard: every instance is in line somewhere or leads something, since the least loaded one
//! always campaigns. A control thread re-plans whenever a shard's leader or members change,
//! and hands over one shard at a time ([`handover`]).
//!
//! Connections are shared as for any election: the K observers and candidates of a group use
//! the process's one connection to the store.

mod balance;
mod events;
mod handover;

use std::sync::{Arc, Condvar, Mutex, RwLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::election::{validate_name, Election};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::term::Term;
use crate::uri::Config;
use balance::{Slot, View};
use events::GroupEvents;
pub use events::GroupHandler;
use handover::{HandOver, Release};

/// The most shards a group may have: each shard costs an observer and, while campaigning, a
/// candidate (each with a thread for its events).
pub const MAX_SHARDS: usize = 1024;

/// One instance of a group of K elections. Cheap to share in an `Arc`; every method takes
/// `&self`. Dropping it closes it.
pub struct Group {
    inner: Arc<Inner>,
    control: Mutex<Option<JoinHandle<()>>>,
}

struct Inner {
    name: String,
    config: Config,
    cap: usize,
    observers: Mutex<Vec<Election>>,
    candidates: Vec<RwLock<Option<Arc<Election>>>>,
    state: Mutex<State>,
    changed: Condvar,
    events: GroupEvents,
    hand_over: Box<dyn HandOver>,
}

#[derive(Default)]
struct State {
    view: View,
    dirty: bool,
    stop: bool,
}

impl Group {
    /// Joins group `name` on `uri` with `shards` elections and starts campaigning at once.
    /// `cap` is the most leaderships this instance takes (`None`: no cap; shards may then be
    /// left without a leader when every instance is at its cap). `handler` receives, per
    /// shard, `Elected`, `Revoked` (a shard handed over arrives as `Revoked{closed}`),
    /// `LeaderChanged` and `Error`, one at a time on a thread of the group's own.
    pub fn open(
        uri: &str,
        name: &str,
        shards: usize,
        cap: Option<usize>,
        handler: Option<GroupHandler>,
    ) -> Result<Group> {
        Group::open_with(Config::parse(uri)?, name, shards, cap, handler)
    }

    /// Like [`Group::open`] with a config the caller adjusted with [`Config::set`].
    pub fn open_with(
        mut config: Config,
        name: &str,
        shards: usize,
        cap: Option<usize>,
        handler: Option<GroupHandler>,
    ) -> Result<Group> {
        validate_name(name)?;
        config.validate()?;
        if shards == 0 || shards > MAX_SHARDS {
            return Err(Error::invalid(format!(
                "shards: {shards} is not between 1 and {MAX_SHARDS}"
            )));
        }
        if cap == Some(0) {
            return Err(Error::invalid("cap: must be at least 1 (or none)"));
        }
        let events = GroupEvents::spawn(name, handler)
            .map_err(|e| Error::internal(format!("cannot start the event thread: {e}")))?;
        let inner = Arc::new(Inner {
            name: name.to_string(),
            config,
            cap: cap.unwrap_or(usize::MAX),
            observers: Mutex::new(Vec::new()),
            candidates: (0..shards).map(|_| RwLock::new(None)).collect(),
            state: Mutex::new(State {
                view: View {
                    leaders: vec![None; shards],
                    terms: vec![0; shards],
                    members: vec![Default::default(); shards],
                },
                dirty: true,
                stop: false,
            }),
            changed: Condvar::new(),
            events,
            hand_over: Box::new(Release),
        });
        let group = Group {
            inner: inner.clone(),
            control: Mutex::new(None),
        };
        for shard in 0..shards {
            let observer = Election::open_with(
                inner.config.clone(),
                &inner.shard_name(shard),
                Some(observer_handler(Arc::downgrade(&inner), shard)),
            )?;
            observer.observe()?;
            inner.lock_observers().push(observer);
        }
        let control = std::thread::Builder::new()
            .name(format!("elect-gc-{name}").chars().take(15).collect())
            .spawn(move || inner.run())
            .map_err(|e| Error::internal(format!("cannot start the group's thread: {e}")))?;
        *group.control.lock().unwrap_or_else(|e| e.into_inner()) = Some(control);
        Ok(group)
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// This instance's id (the candidate id in every shard).
    pub fn id(&self) -> &str {
        &self.inner.config.id
    }

    /// The number of shards.
    pub fn shards(&self) -> usize {
        self.inner.candidates.len()
    }

    /// The election name of `shard`: `<group>/<shard>`.
    pub fn shard_name(&self, shard: usize) -> String {
        self.inner.shard_name(shard)
    }

    /// Whether this instance leads `shard` now (the lease deadline checked; no I/O). False
    /// for a shard out of range.
    pub fn is_leader(&self, shard: usize) -> bool {
        self.inner.candidate(shard).is_some_and(|e| e.is_leader())
    }

    /// The fencing token of this instance's term in `shard`, `None` when it does not lead it.
    pub fn fencing_token(&self, shard: usize) -> Option<u64> {
        self.inner.candidate(shard).and_then(|e| e.fencing_token())
    }

    /// A handle on this instance's term in `shard` (see [`Election::term`]).
    pub fn term(&self, shard: usize) -> Option<Term> {
        self.inner.candidate(shard).and_then(|e| e.term())
    }

    /// The shards this instance leads now, in order.
    pub fn leading(&self) -> Vec<usize> {
        (0..self.shards()).filter(|s| self.is_leader(*s)).collect()
    }

    /// Leaves every shard (leaderships are released to the instances in line) and stops.
    /// Idempotent; safe from inside the group's callback.
    pub fn close(&self) {
        {
            let mut state = self.inner.lock_state();
            if state.stop {
                return;
            }
            state.stop = true;
        }
        self.inner.changed.notify_all();
        if let Some(control) = self
            .control
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = control.join();
        }
        // Out of every line first, so that no instance hands this one a shard while its
        // leaderships are being released; then the rest, each leadership to an instance in line.
        for all in [false, true] {
            for slot in &self.inner.candidates {
                let taken = {
                    let mut slot = slot.write().unwrap_or_else(|e| e.into_inner());
                    match slot.as_ref() {
                        Some(e) if all || !e.is_leader() => slot.take(),
                        _ => None,
                    }
                };
                if let Some(e) = taken {
                    e.close();
                }
            }
        }
        for observer in self.inner.lock_observers().drain(..) {
            observer.close();
        }
        self.inner.events.shutdown();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.close();
    }
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("name", &self.inner.name)
            .field("shards", &self.shards())
            .field("leading", &self.leading())
            .finish()
    }
}

/// The events of shard `shard`'s observer: its leader and members feed the view.
fn observer_handler(inner: Weak<Inner>, shard: usize) -> crate::Handler {
    Box::new(move |ev: &Event| {
        let Some(inner) = inner.upgrade() else { return };
        inner.update(|view| match ev {
            Event::LeaderChanged { leader } => {
                view.leaders[shard] = leader.as_ref().map(|l| l.id.clone());
                view.terms[shard] = leader.as_ref().map_or(0, |l| l.term);
            }
            Event::MemberJoined { member } => {
                view.members[shard].insert(member.id.clone());
            }
            Event::MemberLeft { member } => {
                view.members[shard].remove(&member.id);
            }
            _ => {}
        });
        if matches!(ev, Event::LeaderChanged { .. } | Event::Error { .. }) {
            inner.events.send(shard, ev.clone());
        }
    })
}

/// The events of this instance's candidacy in shard `shard`.
fn candidate_handler(inner: Weak<Inner>, shard: usize) -> crate::Handler {
    Box::new(move |ev: &Event| {
        let Some(inner) = inner.upgrade() else { return };
        if matches!(ev, Event::Elected { .. } | Event::Revoked { .. }) {
            inner.update(|_| {});
        }
        if matches!(
            ev,
            Event::Elected { .. } | Event::Revoked { .. } | Event::Error { .. }
        ) {
            inner.events.send(shard, ev.clone());
        }
    })
}

impl Inner {
    fn shard_name(&self, shard: usize) -> String {
        format!("{}/{shard}", self.name)
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_observers(&self) -> std::sync::MutexGuard<'_, Vec<Election>> {
        self.observers.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn candidate(&self, shard: usize) -> Option<Arc<Election>> {
        self.candidates
            .get(shard)?
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Changes the view and wakes the control thread.
    fn update(&self, change: impl FnOnce(&mut View)) {
        let mut state = self.lock_state();
        change(&mut state.view);
        state.dirty = true;
        drop(state);
        self.changed.notify_all();
    }

    fn slots(&self) -> Vec<Slot> {
        (0..self.candidates.len())
            .map(|s| match self.candidate(s) {
                None => Slot::Idle,
                Some(e) if e.is_leader() => Slot::Leading,
                Some(_) => Slot::InLine,
            })
            .collect()
    }

    /// The control thread: re-plans on every change (and every `retry`, for hand-overs that
    /// did not complete), until the group closes.
    fn run(self: Arc<Self>) {
        // A shard handed over, its term then, and when: no second hand-over until the shard
        // has a leader of a later term (whoever it is), so that every instance acts on loads
        // that include its last move.
        let mut in_flight: Option<(usize, u64, Instant)> = None;
        let settle = self.config.ttl + self.config.retry;
        // The successor the plan names and since when it has named it without a break: a
        // shard is handed over only once that lasted a renewal period, because an instance
        // that just closed or died is still seen in line for a moment (its records go after
        // its leaderships), and a shard released to it would wait for whoever rejoins.
        let mut wanted: Option<(String, Instant)> = None;
        let dwell = self.config.renew();
        loop {
            let view = {
                let mut state = self.lock_state();
                while !state.dirty && !state.stop {
                    let (s, timeout) = self
                        .changed
                        .wait_timeout(state, self.config.retry)
                        .unwrap_or_else(|e| e.into_inner());
                    state = s;
                    if timeout.timed_out() {
                        break;
                    }
                }
                if state.stop {
                    return;
                }
                state.dirty = false;
                state.view.clone()
            };
            let me = self.config.id.as_str();
            if let Some((shard, term, since)) = in_flight {
                let moved = view.leaders[shard].is_some() && view.terms[shard] != term;
                if moved || since.elapsed() > settle {
                    in_flight = None;
                }
            }
            let plan = balance::plan(me, &self.slots(), &view, self.cap);
            for shard in plan.leave {
                let slot = &self.candidates[shard];
                let taken = {
                    let mut slot = slot.write().unwrap_or_else(|e| e.into_inner());
                    // Elected since the plan was made: keep it; the next plan decides.
                    if slot.as_ref().is_some_and(|e| e.is_leader()) {
                        None
                    } else {
                        slot.take()
                    }
                };
                if let Some(e) = taken {
                    e.close();
                }
            }
            for shard in plan.join {
                self.campaign(shard);
            }
            let named = plan.hand_over.as_ref().and_then(|(_, s)| s.clone());
            match (&wanted, named) {
                (Some((w, _)), Some(n)) if *w == n => {}
                (_, n) => wanted = n.map(|n| (n, Instant::now())),
            }
            let steady = match (&plan.hand_over, &wanted) {
                (Some((_, None)), _) => true, // above the cap: no successor to wait for
                (Some(_), Some((_, since))) => since.elapsed() >= dwell,
                _ => false,
            };
            if let (None, true, Some((shard, successor))) = (in_flight, steady, plan.hand_over) {
                let taken = self.candidates[shard]
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .take();
                if let Some(e) = taken {
                    tracing::debug!(
                        target: "elect::group",
                        group = %self.name,
                        shard,
                        successor = successor.as_deref().unwrap_or("-"),
                        "handing a shard over"
                    );
                    let term = e.fencing_token().unwrap_or(0);
                    self.hand_over.hand_over(&e, successor.as_deref());
                    in_flight = Some((shard, term, Instant::now()));
                }
            }
        }
    }

    /// Opens and starts this instance's candidacy in `shard`; a failure is an `Error` event
    /// and the next plan tries again.
    fn campaign(self: &Arc<Self>, shard: usize) {
        let opened = Election::open_with(
            self.config.clone(),
            &self.shard_name(shard),
            Some(candidate_handler(Arc::downgrade(self), shard)),
        )
        .and_then(|e| e.campaign_only().map(|()| e));
        match opened {
            Ok(e) => {
                *self.candidates[shard]
                    .write()
                    .unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(e));
            }
            Err(e) => {
                self.events.send(
                    shard,
                    Event::Error {
                        message: format!("campaign in `{}`: {e}", self.shard_name(shard)),
                    },
                );
                // Try again after `retry`, not in a loop.
                std::thread::sleep(self.config.retry.min(Duration::from_secs(1)));
                self.update(|_| {});
            }
        }
    }
}
