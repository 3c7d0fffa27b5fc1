//! One inotify instance per process, shared by every follower of the file store.
//!
//! The kernel caps inotify *instances* per user (`fs.inotify.max_user_instances`, 128 by
//! default), not watches (`max_user_watches`, tens of thousands). An instance per follower ran
//! out with a few group processes on one machine (each follows the leader and the members of
//! every shard: 2 per shard, plus one per candidacy in line), and a follower that cannot watch
//! retries until an instance is free, so a group's rebalance stalled. Here every follower
//! subscribes to a directory of one process-wide instance: a watch per directory, the events
//! of a directory sent to each of its subscribers, and a queue overflow (`IN_Q_OVERFLOW`,
//! after which any directory may have changed unseen) to all of them.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use inotify::{EventMask, EventStream, Inotify, WatchDescriptor, WatchMask, Watches};
use tokio::sync::mpsc;

use crate::fork::PerProcess;

/// One event of a watched directory: its mask and the name of the file in the directory.
pub(super) type Seen = io::Result<(EventMask, Option<OsString>)>;

/// Every event a follower needs, on every watched directory (the elections' files and each
/// members directory): the kernel keeps one mask per directory and instance, so one for all.
fn mask() -> WatchMask {
    WatchMask::CLOSE_WRITE | WatchMask::MODIFY | WatchMask::DELETE | WatchMask::MOVED_TO
}

type Subscribers = HashMap<WatchDescriptor, Vec<(u64, mpsc::UnboundedSender<Seen>)>>;

struct Hub {
    watches: Watches,
    subscribers: Mutex<Subscribers>,
}

/// The process's hub, made on first use and again after its instance failed; a forked child
/// makes its own (the parent's reader task does not exist there).
static HUB: PerProcess<Mutex<Option<Arc<Hub>>>> = PerProcess::new(|| Mutex::new(None));
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A follower's events of one directory, until dropped.
pub(super) struct Subscription {
    hub: Arc<Hub>,
    wd: WatchDescriptor,
    id: u64,
    events: mpsc::UnboundedReceiver<Seen>,
}

impl Subscription {
    /// The next event; `None` once the hub is gone (its instance failed: the error came first).
    pub async fn next(&mut self) -> Option<Seen> {
        self.events.recv().await
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut subscribers = lock(&self.hub.subscribers);
        if let Some(list) = subscribers.get_mut(&self.wd) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                subscribers.remove(&self.wd);
                // Gone already when the directory was removed: nothing to undo then.
                let _ = self.hub.watches.clone().remove(self.wd.clone());
            }
        }
    }
}

/// Subscribes to the events of directory `dir`. Must run inside the library's runtime (the
/// hub's reader is a task of it).
pub(super) fn subscribe(dir: &Path) -> io::Result<Subscription> {
    let hub = hub()?;
    let (tx, events) = mpsc::unbounded_channel();
    let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Added under the lock, so that a last subscriber leaving cannot remove the watch between
    // this add and the insert.
    let mut subscribers = lock(&hub.subscribers);
    let wd = hub.watches.clone().add(dir, mask())?;
    subscribers.entry(wd.clone()).or_default().push((id, tx));
    drop(subscribers);
    Ok(Subscription {
        hub,
        wd,
        id,
        events,
    })
}

fn hub() -> io::Result<Arc<Hub>> {
    let mut slot = lock(HUB.get());
    if let Some(hub) = slot.as_ref() {
        return Ok(hub.clone());
    }
    let inotify = Inotify::init()?;
    let watches = inotify.watches();
    let stream = inotify.into_event_stream(vec![0u8; 64 * 1024])?;
    let hub = Arc::new(Hub {
        watches,
        subscribers: Mutex::new(HashMap::new()),
    });
    tokio::spawn(read(Arc::downgrade(&hub), stream));
    *slot = Some(hub.clone());
    Ok(hub)
}

/// The hub's reader: hands each event to the subscribers of its directory, an overflow to all.
async fn read(hub: std::sync::Weak<Hub>, mut stream: EventStream<Vec<u8>>) {
    use futures_core::Stream;
    loop {
        let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut stream).poll_next(cx)).await;
        let Some(hub) = hub.upgrade() else { return };
        let subscribers = lock(&hub.subscribers);
        match next {
            Some(Ok(ev)) if ev.mask.contains(EventMask::Q_OVERFLOW) => {
                for (_, tx) in subscribers.values().flatten() {
                    let _ = tx.send(Ok((ev.mask, None)));
                }
            }
            Some(Ok(ev)) => {
                for (_, tx) in subscribers.get(&ev.wd).into_iter().flatten() {
                    let _ = tx.send(Ok((ev.mask, ev.name.clone())));
                }
            }
            failed => {
                // The instance is unusable: tell everyone, and let the next subscriber make a
                // new hub (followers end on an error and are started again by the engine).
                let e = match failed {
                    Some(Err(e)) => e,
                    _ => io::Error::other("the inotify stream ended"),
                };
                for (_, tx) in subscribers.values().flatten() {
                    let _ = tx.send(Err(io::Error::new(e.kind(), e.to_string())));
                }
                drop(subscribers);
                let mut slot = lock(HUB.get());
                if slot.as_ref().is_some_and(|h| Arc::ptr_eq(h, &hub)) {
                    *slot = None;
                }
                return;
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// How many inotify instances this process has open.
    fn instances() -> usize {
        let is_inotify = |fd: &std::fs::DirEntry| {
            std::fs::read_link(fd.path()).is_ok_and(|l| l.to_string_lossy() == "anon_inode:inotify")
        };
        std::fs::read_dir("/proc/self/fd")
            .map(|fds| fds.flatten().filter(is_inotify).count())
            .unwrap_or(0)
    }

    async fn name_of_next(s: &mut Subscription) -> Option<OsString> {
        let seen = tokio::time::timeout(Duration::from_secs(10), s.next()).await;
        seen.expect("an event within 10 s")
            .expect("the hub lives")
            .expect("no error")
            .1
    }

    #[test]
    fn one_instance_serves_every_directory_and_subscriber() {
        let root = std::env::temp_dir().join(format!("elect-hub-{}", std::process::id()));
        let dirs: Vec<_> = (0..200).map(|i| root.join(i.to_string())).collect();
        for d in &dirs {
            std::fs::create_dir_all(d).unwrap();
        }
        crate::runtime::handle().block_on(async {
            let mut subs: Vec<_> = dirs.iter().map(|d| subscribe(d).unwrap()).collect();
            let mut twin = subscribe(&dirs[7]).unwrap();
            // 201 followers, one instance (other tests of this process share it too).
            assert_eq!(instances(), 1, "one inotify instance for the whole process");
            std::fs::write(dirs[7].join("a"), b"x").unwrap();
            assert_eq!(name_of_next(&mut subs[7]).await, Some("a".into()));
            assert_eq!(
                name_of_next(&mut twin).await,
                Some("a".into()),
                "each subscriber"
            );
            // The other directories' subscribers saw nothing of it.
            assert!(subs[8].events.try_recv().is_err());
            // A subscriber leaving keeps the directory's watch for the one that stays.
            drop(subs.remove(7));
            std::fs::write(dirs[7].join("b"), b"x").unwrap();
            let mut b = name_of_next(&mut twin).await;
            while b == Some("a".into()) {
                b = name_of_next(&mut twin).await; // the close of `a`'s write
            }
            assert_eq!(b, Some("b".into()));
        });
        let _ = std::fs::remove_dir_all(&root);
    }
}
