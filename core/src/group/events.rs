//! The thread that runs a group's callback: events of every shard, one at a time, in the order
//! the shards' elections delivered them. The shards' own dispatcher threads only queue here, so
//! a slow callback never holds up an election, and `close` from inside the callback cannot wait
//! on a thread that waits on it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Sender};
use std::sync::Mutex;
use std::thread::{JoinHandle, ThreadId};

use crate::event::Event;

/// The host's callback for a group: the shard and one event of its election.
pub type GroupHandler = Box<dyn FnMut(usize, &Event) + Send + 'static>;

pub(crate) struct GroupEvents {
    tx: Mutex<Option<Sender<(usize, Event)>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    thread_id: Option<ThreadId>,
}

impl GroupEvents {
    pub fn spawn(name: &str, handler: Option<GroupHandler>) -> std::io::Result<GroupEvents> {
        let Some(mut handler) = handler else {
            return Ok(GroupEvents {
                tx: Mutex::new(None),
                thread: Mutex::new(None),
                thread_id: None,
            });
        };
        let (tx, rx) = channel::<(usize, Event)>();
        let thread_name: String = format!("elect-g-{name}").chars().take(15).collect();
        let thread = std::thread::Builder::new()
            .name(thread_name)
            .spawn(move || {
                for (shard, event) in rx {
                    if catch_unwind(AssertUnwindSafe(|| handler(shard, &event))).is_err() {
                        tracing::error!("a group callback panicked while handling {event:?}");
                    }
                }
            })?;
        Ok(GroupEvents {
            thread_id: Some(thread.thread().id()),
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    pub fn send(&self, shard: usize, event: Event) {
        if let Some(tx) = self.tx.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let _ = tx.send((shard, event));
        }
    }

    /// Lets queued events drain, then stops the thread (without waiting from inside it).
    pub fn shutdown(&self) {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
        if self.thread_id == Some(std::thread::current().id()) {
            return;
        }
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}
