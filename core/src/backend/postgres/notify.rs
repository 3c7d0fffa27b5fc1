//! The LISTEN side: one session of its own per store connection, shared by every waiting
//! candidate and observer of the process, so that a release or an election elsewhere wakes them
//! at once.
//!
//! A [`Subscription`] returns only once the server confirmed the `LISTEN`, so a notification
//! sent after that is never missed. Channels are `UNLISTEN`ed when their last subscription goes.
//! If the session dies, the next subscription opens a new one and listens again on every channel
//! still wanted; every subscriber is woken, so each looks at the table again rather than trusting
//! that nothing happened while nobody listened.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use tokio::sync::{watch, Mutex as AsyncMutex};
use tokio_postgres::Client;

use super::connect::Params;
use super::layout::quote_ident;
use crate::error::Result;

/// Candidates woken by a notification (counted by the candidacy), for tests and benchmarks that
/// prove a handover went through NOTIFY rather than through expiry.
pub static NOTIFICATIONS: AtomicU64 = AtomicU64::new(0);

pub(super) struct Listener {
    params: Params,
    /// The LISTEN session. Held across `LISTEN`/`UNLISTEN` so that they reach the server in
    /// the order their subscriptions changed.
    session: AsyncMutex<Option<Client>>,
    channels: Arc<Mutex<HashMap<String, Channel>>>,
}

struct Channel {
    subscribers: usize,
    /// Bumped on each notification (and when the session was replaced).
    wakeups: watch::Sender<u64>,
}

/// Interest in one channel. Dropping it unsubscribes.
pub(super) struct Subscription {
    listener: Arc<Listener>,
    channel: String,
    wakeups: watch::Receiver<u64>,
}

impl Listener {
    pub fn new(params: Params) -> Arc<Listener> {
        Arc::new(Listener {
            params,
            session: AsyncMutex::new(None),
            channels: Arc::default(),
        })
    }

    /// Listens on `channel` (connecting first if needed) and returns once the server confirmed.
    pub async fn subscribe(self: &Arc<Self>, channel: &str) -> Result<Subscription> {
        let mut session = self.session.lock().await;
        let wakeups = {
            let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
            let entry = channels
                .entry(channel.to_string())
                .or_insert_with(|| Channel {
                    subscribers: 0,
                    wakeups: watch::channel(0).0,
                });
            entry.subscribers += 1;
            entry.wakeups.subscribe()
        };
        // From here on, dropping the subscription undoes the count, also on error.
        let sub = Subscription {
            listener: self.clone(),
            channel: channel.to_string(),
            wakeups,
        };
        let client = self.session(&mut session).await?;
        client
            .batch_execute(&format!("LISTEN {}", quote_ident(channel)))
            .await
            .map_err(|e| self.params.error(e, "LISTEN"))?;
        Ok(sub)
    }

    /// The live session, opened (and listening on every wanted channel) if there is none.
    async fn session<'a>(&self, slot: &'a mut Option<Client>) -> Result<&'a Client> {
        if slot.as_ref().is_some_and(Client::is_closed) {
            *slot = None;
        }
        if slot.is_none() {
            let (client, mut notifications) = self.params.open().await?;
            let wanted: Vec<String> = self.lock_channels().keys().cloned().collect();
            for ch in &wanted {
                client
                    .batch_execute(&format!("LISTEN {}", quote_ident(ch)))
                    .await
                    .map_err(|e| self.params.error(e, "LISTEN"))?;
            }
            let channels = self.channels.clone();
            tokio::spawn(async move {
                while let Some(n) = notifications.recv().await {
                    let channels = channels.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(ch) = channels.get(n.channel()) {
                        ch.wakeups.send_modify(|v| *v += 1);
                    }
                }
            });
            // Whatever happened while nobody listened, everyone looks again.
            for ch in self.lock_channels().values() {
                ch.wakeups.send_modify(|v| *v += 1);
            }
            *slot = Some(client);
        }
        Ok(slot.as_ref().expect("set just above"))
    }

    fn lock_channels(&self) -> std::sync::MutexGuard<'_, HashMap<String, Channel>> {
        self.channels.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn unlisten(&self, channel: String) {
        let session = self.session.lock().await;
        // Someone may have subscribed again since the count reached zero.
        if self.lock_channels().contains_key(&channel) {
            return;
        }
        if let Some(client) = session.as_ref().filter(|c| !c.is_closed()) {
            let _ = client
                .batch_execute(&format!("UNLISTEN {}", quote_ident(&channel)))
                .await;
        }
    }
}

impl Subscription {
    /// Forgets the notifications received so far; call before looking at the table.
    pub fn mark_seen(&mut self) {
        self.wakeups.borrow_and_update();
    }

    /// Waits for a notification that arrived after the last [`Subscription::mark_seen`].
    pub async fn notified(&mut self) {
        if self.wakeups.changed().await.is_err() {
            std::future::pending::<()>().await
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let last = {
            let mut channels = self.listener.lock_channels();
            match channels.get_mut(&self.channel) {
                Some(ch) => {
                    ch.subscribers -= 1;
                    if ch.subscribers == 0 {
                        channels.remove(&self.channel);
                        true
                    } else {
                        false
                    }
                }
                None => false,
            }
        };
        if last {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let listener = self.listener.clone();
                let channel = std::mem::take(&mut self.channel);
                rt.spawn(async move { listener.unlisten(channel).await });
            }
        }
    }
}

impl Listener {
    /// Whether the LISTEN session is gone (subscribing again reopens it).
    pub fn is_down(&self) -> bool {
        match self.session.try_lock() {
            Ok(s) => s.as_ref().is_none_or(Client::is_closed),
            Err(_) => false, // someone is (re)connecting right now
        }
    }
}
