//! Runs each election's callbacks in order, one at a time, on a bounded pool of threads.
//!
//! Each election with a handler has a queue of events. A queue with events waiting is *ready*
//! and goes to the process's [`Pool`], whose workers take ready queues in turn: a queue is in
//! service on at most one worker at a time, so one election's callbacks never overlap and run
//! in the order the events were queued. Different elections' callbacks run in parallel on
//! different workers.
//!
//! A slow callback delays only its own election: when the oldest ready queue has waited
//! [`STALL`] with no worker idle, another worker starts, up to [`MAX_WORKERS`], one more per
//! `STALL` while queues keep waiting; workers idle for [`IDLE_EXIT`] end. So a blocked callback
//! delays other elections' events by about `STALL` (k callbacks blocked at once: about k ×
//! `STALL`), and a burst of quick callbacks (10,000 elections elected at start) is served by the
//! running workers instead of growing the pool to its bound. Only when `MAX_WORKERS` callbacks
//! block at once do other elections' events wait (in order, nothing is dropped) until a worker
//! is free. A worker serves at most [`BATCH`] events of one queue before it puts the queue at
//! the back of the line, so a busy election cannot starve others.
//!
//! Callbacks never run on the runtime's workers, so no callback delays a lease renewal. A
//! panicking callback is caught here, logged and turned into an `Event::Error` for the same
//! handler; it never unwinds into the library or the host.

use std::cell::Cell;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::event::Event;
use crate::event_log::EventLog;
use crate::fork::PerProcess;
use crate::metrics::Metrics;

/// The host's callback. Calls never overlap, so `FnMut` is enough.
pub type Handler = Box<dyn FnMut(&Event) + Send + 'static>;

/// Most callback threads a process runs at once, i.e. how many callbacks may block at the same
/// time before other elections' events wait.
pub const MAX_WORKERS: usize = 64;

/// How long the oldest ready queue waits, with no worker idle, before another worker starts.
pub const STALL: Duration = Duration::from_millis(10);

/// A worker with nothing to do for this long ends (a later event starts another).
pub const IDLE_EXIT: Duration = Duration::from_secs(60);

/// Events of one queue a worker delivers before it lets other ready queues go first.
const BATCH: usize = 32;

/// Worker threads are named alike (they serve any election); hosts show the name (JVM thread
/// dumps, Python's `threading`).
const THREAD_NAME: &str = "elect-events";

/// The process's workers (a forked child starts its own, see `fork`).
static POOL: PerProcess<Pool> = PerProcess::new(Pool::default);

pub(crate) struct Dispatcher {
    /// Every event is logged and counted as it is queued, whether or not there is a handler.
    log: EventLog,
    metrics: Metrics,
    /// `None` without a handler: events are only logged and counted.
    queue: Option<Arc<Queue>>,
}

impl Dispatcher {
    /// A dispatcher for one election; without a handler, events are dropped. No thread starts
    /// here: workers start when events arrive.
    pub fn new(log: EventLog, handler: Option<Handler>) -> Dispatcher {
        Dispatcher {
            log,
            metrics: Metrics::default(),
            queue: handler.map(|h| Arc::new(Queue::new(h, POOL.get()))),
        }
    }

    pub fn send(&self, event: Event) {
        self.metrics.on_event(&event);
        self.log.record(&event);
        if let Some(queue) = &self.queue {
            queue.push(event);
        }
    }

    /// This election's counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// True inside a callback of this election.
    pub fn is_current_thread(&self) -> bool {
        self.queue.as_ref().is_some_and(|q| q.is_served_here())
    }

    /// Lets queued events drain, then drops the handler; later events are dropped. From inside
    /// a callback of this election it does not wait (that would deadlock): the worker delivers
    /// what is queued after the callback returns, then drops the handler.
    pub fn shutdown(&self) {
        if let Some(queue) = &self.queue {
            queue.close(!self.is_current_thread());
        }
    }
}

/// One election's events and its handler.
struct Queue {
    inner: Mutex<Inner>,
    /// Signalled when the queue leaves service (nothing left to deliver).
    idle: Condvar,
    pool: &'static Pool,
}

struct Inner {
    events: VecDeque<Event>,
    /// Taken by the worker in service, put back when it stops; dropped once closed and drained.
    handler: Option<Handler>,
    /// Ready in the pool or in service on a worker.
    scheduled: bool,
    closed: bool,
}

thread_local! {
    /// The queue this thread is serving a callback of (its address), null outside callbacks.
    static SERVING: Cell<*const Queue> = const { Cell::new(std::ptr::null()) };
}

impl Queue {
    fn new(handler: Handler, pool: &'static Pool) -> Queue {
        Queue {
            inner: Mutex::new(Inner {
                events: VecDeque::new(),
                handler: Some(handler),
                scheduled: false,
                closed: false,
            }),
            idle: Condvar::new(),
            pool,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_served_here(&self) -> bool {
        SERVING.with(|s| std::ptr::eq(s.get(), self))
    }

    fn push(self: &Arc<Queue>, event: Event) {
        let mut inner = self.lock();
        if inner.closed {
            return;
        }
        inner.events.push_back(event);
        if !inner.scheduled {
            inner.scheduled = true;
            drop(inner);
            self.pool.submit(self.clone());
        }
    }

    /// Refuses later events; with `wait`, blocks until the queued ones are delivered. The
    /// handler is dropped by whoever sees the queue closed and out of service last.
    fn close(&self, wait: bool) {
        let mut inner = self.lock();
        inner.closed = true;
        if !wait {
            return;
        }
        while inner.scheduled {
            inner = self.idle.wait(inner).unwrap_or_else(|e| e.into_inner());
        }
        let handler = inner.handler.take();
        drop(inner);
        drop(handler); // outside the lock: a host's handler may do work when dropped
    }

    /// Delivers up to [`BATCH`] events on the calling worker, then leaves service or goes back
    /// to the pool's line.
    fn serve(self: Arc<Queue>) {
        let Some(mut handler) = self.lock().handler.take() else {
            return; // closed and its handler dropped: nothing can be delivered
        };
        for _ in 0..BATCH {
            let Some(event) = self.lock().events.pop_front() else {
                break;
            };
            let previous = SERVING.with(|s| s.replace(Arc::as_ptr(&self)));
            deliver(&mut handler, &event);
            SERVING.with(|s| s.set(previous));
        }
        let mut inner = self.lock();
        if !inner.events.is_empty() {
            inner.handler = Some(handler);
            drop(inner);
            self.pool.submit(self.clone());
            return;
        }
        if inner.closed {
            // Dropped on the worker, where the binding's callbacks ran, and before `close`
            // returns: the queue leaves service only after.
            drop(inner);
            drop(handler);
            inner = self.lock();
        } else {
            inner.handler = Some(handler);
        }
        inner.scheduled = false;
        drop(inner);
        self.idle.notify_all();
    }
}

/// The workers of the process and the line of ready queues.
#[derive(Default)]
struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
}

#[derive(Default)]
struct PoolState {
    /// Ready queues in line, with the time each joined it.
    ready: VecDeque<(Arc<Queue>, Instant)>,
    /// Running workers, busy or idle.
    workers: usize,
    /// Idle workers not yet asked to take work.
    idle: usize,
    /// Idle workers asked to take work that have not woken yet.
    wakeups: usize,
    /// Every worker was busy when work arrived (warned once until a worker is idle again).
    saturated: bool,
    /// A check for waiting work ([`Pool::check`]) is due.
    check_due: bool,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts a ready queue in line and makes sure a worker will take it: an idle one, the first
    /// one, or one started after [`STALL`] if the running workers have not taken it by then.
    fn submit(&'static self, queue: Arc<Queue>) {
        let mut state = self.lock();
        state.ready.push_back((queue, Instant::now()));
        if state.idle > 0 {
            state.idle -= 1;
            state.wakeups += 1;
            drop(state);
            self.work.notify_one();
        } else if state.workers == 0 {
            self.start_worker(state);
        } else {
            self.check_after(state, STALL);
        }
    }

    /// Schedules [`Pool::check`] in `after`, unless one is due already.
    fn check_after(&'static self, mut state: MutexGuard<'_, PoolState>, after: Duration) {
        if state.check_due {
            return;
        }
        state.check_due = true;
        drop(state);
        crate::runtime::handle().spawn(async move {
            tokio::time::sleep(after).await;
            self.check();
        });
    }

    /// Starts a worker if the oldest ready queue has waited [`STALL`] (and checks again in
    /// `STALL` while queues wait), or checks again when it will have.
    fn check(&'static self) {
        let mut state = self.lock();
        state.check_due = false;
        let Some(waited) = state.ready.front().map(|(_, since)| since.elapsed()) else {
            return;
        };
        if waited < STALL {
            self.check_after(state, STALL - waited);
        } else if state.idle > 0 {
            // Not expected (a worker takes what is ready before it idles), but never left waiting.
            state.idle -= 1;
            state.wakeups += 1;
            drop(state);
            self.work.notify_one();
        } else if state.workers < MAX_WORKERS {
            let more = state.ready.len() > 1;
            self.start_worker(state);
            if more {
                self.check_after(self.lock(), STALL);
            }
        } else if !state.saturated {
            state.saturated = true;
            drop(state);
            tracing::warn!(
                "all {MAX_WORKERS} callback threads are busy in callbacks: events of other \
                 elections wait until one returns"
            );
        }
    }

    fn start_worker(&'static self, mut state: MutexGuard<'_, PoolState>) {
        state.workers += 1;
        drop(state);
        // Workers are started from the runtime's threads (events come from there), so they
        // inherit those threads' signal mask (the C ABI blocks SIGPIPE in them).
        let spawned = std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || self.work());
        if let Err(e) = spawned {
            self.lock().workers -= 1;
            tracing::error!("cannot start a callback thread ({e}); events wait for a running one");
        }
    }

    fn work(&self) {
        while let Some(queue) = self.next() {
            queue.serve();
        }
    }

    /// The next ready queue, waiting for one up to [`IDLE_EXIT`]; `None` when the worker ends.
    fn next(&self) -> Option<Arc<Queue>> {
        let mut state = self.lock();
        loop {
            if let Some((queue, _)) = state.ready.pop_front() {
                return Some(queue);
            }
            state.idle += 1;
            state.saturated = false;
            let (woken, waited) = self
                .work
                .wait_timeout(state, IDLE_EXIT)
                .unwrap_or_else(|e| e.into_inner());
            state = woken;
            if state.wakeups > 0 {
                state.wakeups -= 1; // `submit` took this worker off the idle count
                continue;
            }
            state.idle -= 1;
            if waited.timed_out() && state.ready.is_empty() {
                state.workers -= 1;
                return None;
            }
        }
    }
}

fn deliver(handler: &mut Handler, event: &Event) {
    if catch_unwind(AssertUnwindSafe(|| handler(event))).is_ok() {
        return;
    }
    let message = format!("an event callback panicked while handling {event:?}");
    tracing::error!("{message}");
    if matches!(event, Event::Error { .. }) {
        return; // do not loop on a handler that panics on errors too
    }
    let error = Event::Error { message };
    if catch_unwind(AssertUnwindSafe(|| handler(&error))).is_err() {
        tracing::error!("the event callback panicked again on the Error event");
    }
}

#[cfg(test)]
#[path = "dispatcher_tests.rs"]
mod tests;
