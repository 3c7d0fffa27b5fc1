//! The thread that runs one election's callbacks, in order, one at a time.
//!
//! Each election with a handler owns one dispatcher thread fed by a channel. Callbacks never run
//! on the runtime's workers, so a slow or blocking callback delays only its own election's
//! later events, never a lease renewal. A panicking callback is caught here, logged and turned
//! into an `Event::Error` for the same handler; it never unwinds into the library or the host.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Sender};
use std::sync::Mutex;
use std::thread::{JoinHandle, ThreadId};

use crate::event::Event;
use crate::event_log::EventLog;
use crate::metrics::Metrics;

/// The host's callback. Calls never overlap, so `FnMut` is enough.
pub type Handler = Box<dyn FnMut(&Event) + Send + 'static>;

pub(crate) struct Dispatcher {
    /// Every event is logged and counted as it is queued, whether or not there is a handler.
    log: EventLog,
    metrics: Metrics,
    tx: Mutex<Option<Sender<Event>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    thread_id: Option<ThreadId>,
}

impl Dispatcher {
    /// Starts the dispatcher thread, or none when there is no handler (events are dropped).
    pub fn spawn(log: EventLog, handler: Option<Handler>) -> std::io::Result<Dispatcher> {
        let name = log.election.clone();
        let Some(mut handler) = handler else {
            return Ok(Dispatcher {
                log,
                metrics: Metrics::default(),
                tx: Mutex::new(None),
                thread: Mutex::new(None),
                thread_id: None,
            });
        };
        let (tx, rx) = channel::<Event>();
        // Thread names are cut to 15 bytes by Linux; keep the election's name visible.
        let thread_name: String = format!("elect-{name}").chars().take(15).collect();
        let thread = std::thread::Builder::new()
            .name(thread_name)
            .spawn(move || {
                for event in rx {
                    deliver(&mut handler, &event);
                }
            })?;
        let thread_id = Some(thread.thread().id());
        Ok(Dispatcher {
            log,
            metrics: Metrics::default(),
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            thread_id,
        })
    }

    pub fn send(&self, event: Event) {
        self.metrics.on_event(&event);
        self.log.record(&event);
        if let Some(tx) = self.tx.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let _ = tx.send(event);
        }
    }

    /// This election's counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// True on the dispatcher thread itself, i.e. inside a callback of this election.
    pub fn is_current_thread(&self) -> bool {
        self.thread_id == Some(std::thread::current().id())
    }

    /// Lets queued events drain, then stops the thread. From inside a callback it does not wait
    /// (that would deadlock); the thread ends by itself after the callback returns.
    pub fn shutdown(&self) {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
        if self.is_current_thread() {
            return;
        }
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
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
