//! The process's one inotify instance, shared by every follower of the file store, and its one
//! members-resync timer.
//!
//! Linux allows each user `fs.inotify.max_user_instances` instances (128 by default), so an
//! instance per follower (two per election) failed from about a process's 64th election (fewer
//! when the user's other processes hold instances too). Here one
//! instance watches every directory the process follows and one task reads it; each event wakes
//! the subscribers it concerns: in the store's directory, the followers of election `<base>` on
//! an event for one of its files `<base>.*`; in a members directory, its members followers; on a
//! queue overflow (`IN_Q_OVERFLOW`: events were lost) everyone. A watch is counted by its
//! subscribers and removed with the last one. A watch the kernel drops (`IN_IGNORED`: its
//! directory was removed) ends its subscriptions, whose followers then start again.
//!
//! A wake-up is a `watch` channel's change: wake-ups that pile up while a follower is busy merge
//! into one, which is all a follower needs, since it answers each by reading the files again.

use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use inotify::{EventMask, EventStream, Inotify, WatchDescriptor, WatchMask, Watches};
use tokio::sync::watch;

use crate::fork::PerProcess;

/// The events a leader follower answers: a new leader's record (`IN_MODIFY`), a closed record
/// or lock file (a release or a death), a removed file.
pub(super) const LEADER_EVENTS: WatchMask = WatchMask::CLOSE_WRITE
    .union(WatchMask::MODIFY)
    .union(WatchMask::DELETE);

/// The events a members follower answers: a member file renamed into place (a join), closed (a
/// death) or removed (a leave).
pub(super) const MEMBER_EVENTS: WatchMask = WatchMask::CLOSE_WRITE
    .union(WatchMask::MOVED_TO)
    .union(WatchMask::DELETE);

/// Every directory is watched for the events of both kinds of follower (one instance has one
/// mask per directory); each subscriber is woken only by the events it asked for.
const WATCHED: WatchMask = LEADER_EVENTS.union(MEMBER_EVENTS);

/// How often the members of an election are listed again after an event in its members
/// directory, and for how long. A dying member's file is closed (the event) a moment before its
/// lock is released, and the release makes no event; on a loaded machine it can come after the
/// follower's settling reads stopped. Both happen in the same kernel call at process exit, so
/// elections without recent events need no listing: 10,000 idle elections cost no timer.
pub(super) const RESYNC_EVERY: Duration = Duration::from_millis(500);
pub(super) const RESYNC_FOR: Duration = Duration::from_secs(10);

/// What a subscriber follows in a watched directory.
pub(super) enum Interest {
    /// The files of election `<base>` in the store's directory: `<base>.lock`, `<base>.leader`...
    Files(String),
    /// Every file of the directory (a members directory).
    All,
}

/// A follower's wake-ups, until dropped.
pub(super) struct Subscription {
    hub: &'static Hub,
    instance: u64,
    wd: WatchDescriptor,
    key: u64,
    wake: watch::Receiver<()>,
}

impl Subscription {
    /// Waits for the next event that concerns this subscriber. An error when the instance's
    /// reader stopped (a failed read) or the kernel dropped the watch: the follower's stream
    /// ends then, and the engine follows again.
    pub async fn woken(&mut self) -> io::Result<()> {
        self.wake.changed().await.map_err(|_| {
            io::Error::other("the file store's inotify watch ended (directory removed?)")
        })
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.unsubscribe(self.instance, &self.wd, self.key);
    }
}

/// Subscribes to the events `events` on `interest` in directory `dir`.
pub(super) fn subscribe(
    dir: &Path,
    interest: Interest,
    events: WatchMask,
) -> io::Result<Subscription> {
    let hub = HUB.get();
    let mut state = hub.lock();
    if state.live.is_none() {
        let inotify = Inotify::init()?;
        let watches = inotify.watches();
        let stream = inotify.into_event_stream(vec![0u8; 16 * 1024])?;
        state.instances += 1;
        let instance = state.instances;
        state.live = Some(Live {
            instance,
            watches,
            dirs: HashMap::new(),
        });
        crate::runtime::handle().spawn(read(hub, instance, stream));
    }
    state.next_key += 1;
    let key = state.next_key;
    let Some(live) = state.live.as_mut() else {
        unreachable!("started just above")
    };
    let wd = live.watches.add(dir, WATCHED)?;
    let (tx, wake) = watch::channel(());
    let sub = Sub {
        key,
        events: EventMask::from_bits_truncate(events.bits()),
        tx,
    };
    let entry = live.dirs.entry(wd.clone()).or_default();
    match interest {
        Interest::All => entry.all.push(sub),
        Interest::Files(base) => entry.files.entry(base).or_default().push(sub),
    }
    Ok(Subscription {
        hub,
        instance: live.instance,
        wd,
        key,
        wake,
    })
}

/// A tick every [`RESYNC_EVERY`], from the process's one timer (started on first use).
pub(super) fn resync_ticks() -> watch::Receiver<()> {
    TICKS.get().subscribe()
}

static HUB: PerProcess<Hub> = PerProcess::new(Hub::default);

static TICKS: PerProcess<watch::Sender<()>> = PerProcess::new(|| {
    let (tx, _) = watch::channel(());
    let ticker = tx.clone();
    crate::runtime::handle().spawn(async move {
        let mut every = tokio::time::interval(RESYNC_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            ticker.send_replace(());
        }
    });
    tx
});

#[derive(Default)]
struct Hub {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The current instance, if any (none before the first subscription or after a failed read).
    live: Option<Live>,
    /// Instances started so far: a subscription of an ended instance must not touch the next.
    instances: u64,
    next_key: u64,
}

struct Live {
    instance: u64,
    watches: Watches,
    dirs: HashMap<WatchDescriptor, Dir>,
}

/// The subscribers of one watched directory.
#[derive(Default)]
struct Dir {
    all: Vec<Sub>,
    files: HashMap<String, Vec<Sub>>,
}

impl Dir {
    fn is_empty(&self) -> bool {
        self.all.is_empty() && self.files.is_empty()
    }
}

struct Sub {
    key: u64,
    events: EventMask,
    tx: watch::Sender<()>,
}

impl Sub {
    fn wake_on(&self, mask: EventMask) {
        if mask.intersects(self.events) || mask.contains(EventMask::Q_OVERFLOW) {
            self.tx.send_replace(());
        }
    }
}

impl Hub {
    /// The state, even if a thread panicked holding it (every change to it is a single insert
    /// or removal, so it is never left half-made).
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn unsubscribe(&self, instance: u64, wd: &WatchDescriptor, key: u64) {
        let mut state = self.lock();
        let Some(live) = state.live.as_mut().filter(|l| l.instance == instance) else {
            return;
        };
        let Some(dir) = live.dirs.get_mut(wd) else {
            return;
        };
        dir.all.retain(|s| s.key != key);
        dir.files.retain(|_, subs| {
            subs.retain(|s| s.key != key);
            !subs.is_empty()
        });
        if dir.is_empty() {
            live.dirs.remove(wd);
            // Fails only if the kernel dropped the watch already (its directory went).
            let _ = live.watches.remove(wd.clone());
        }
    }

    /// Wakes the subscribers an event concerns.
    fn dispatch(&self, instance: u64, wd: &WatchDescriptor, mask: EventMask, name: Option<&str>) {
        let mut state = self.lock();
        let Some(live) = state.live.as_mut().filter(|l| l.instance == instance) else {
            return;
        };
        if mask.contains(EventMask::Q_OVERFLOW) {
            for dir in live.dirs.values() {
                dir.all
                    .iter()
                    .chain(dir.files.values().flatten())
                    .for_each(|s| s.wake_on(mask));
            }
            return;
        }
        if mask.contains(EventMask::IGNORED) {
            // Dropping the senders ends these subscriptions.
            live.dirs.remove(wd);
            return;
        }
        let Some(dir) = live.dirs.get(wd) else {
            return;
        };
        dir.all.iter().for_each(|s| s.wake_on(mask));
        for base in name.map(bases).into_iter().flatten() {
            dir.files
                .get(base)
                .into_iter()
                .flatten()
                .for_each(|s| s.wake_on(mask));
        }
    }

    /// After a failed read: every subscription of `instance` ends, the next one starts anew.
    fn end(&self, instance: u64) {
        let mut state = self.lock();
        if state.live.as_ref().is_some_and(|l| l.instance == instance) {
            state.live = None;
        }
    }
}

/// The elections a file name in the store's directory may belong to: each prefix before a dot
/// (`a.b.lock` is a file of election `a.b`, and a name election `a` does not own, though a file
/// name alone cannot tell: waking `a` too costs it one look).
fn bases(name: &str) -> impl Iterator<Item = &str> {
    name.match_indices('.').map(|(i, _)| &name[..i])
}

/// Reads the instance until it fails, dispatching each event.
async fn read(hub: &'static Hub, instance: u64, mut stream: EventStream<Vec<u8>>) {
    use futures_core::Stream;
    loop {
        let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut stream).poll_next(cx)).await;
        match next {
            Some(Ok(ev)) => {
                let name = ev.name.as_deref().and_then(|n| n.to_str());
                hub.dispatch(instance, &ev.wd, ev.mask, name);
            }
            Some(Err(e)) => {
                tracing::warn!("the file store's inotify reader stopped: {e}");
                break;
            }
            None => break,
        }
    }
    hub.end(instance);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_belongs_to_each_prefix_before_a_dot() {
        assert_eq!(bases("job.leader").collect::<Vec<_>>(), ["job"]);
        assert_eq!(bases("a.b.lock").collect::<Vec<_>>(), ["a", "a.b"]);
        assert_eq!(bases("flood-1").count(), 0);
    }
}
