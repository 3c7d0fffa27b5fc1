//! Handover by pub/sub: one subscription per process and store, fanned out to the waiting
//! candidates and watchers of each election.
//!
//! Every grant and every release publishes on the election's channel. The listener bumps the
//! election's wake counter; whoever waits on it tries again at once. Waiters also wake on a
//! timer (`min(retry, the lock's remaining ttl)`): that path covers crashed leaders, whose lock
//! simply expires, and messages lost while the subscription reconnects. [`stats`] counts which
//! path produced each grant, so tests can prove that a graceful handover used the message.

use std::collections::HashMap;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_core::Stream;
use redis::aio::PubSubStream;
use redis::Client;
use tokio::sync::watch;

use super::connect;
use super::layout::Keys;
use crate::error::Result;

/// How the candidates of this process came to be granted the lock, since it started.
#[cfg(feature = "testing")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WakeStats {
    /// Granted on the first attempt of a campaign (the lock was free).
    pub first_try: u64,
    /// Granted on an attempt woken by a message on the election's channel.
    pub after_message: u64,
    /// Granted on an attempt woken by the retry timer.
    pub after_timer: u64,
    /// Candidates waiting now (their last attempt found the lock taken).
    pub waiting: u64,
}

static FIRST_TRY: AtomicU64 = AtomicU64::new(0);
static AFTER_MESSAGE: AtomicU64 = AtomicU64::new(0);
static AFTER_TIMER: AtomicU64 = AtomicU64::new(0);
static WAITING: AtomicU64 = AtomicU64::new(0);

/// Process-wide counters of how grants came about (all Redis stores of the process).
#[cfg(feature = "testing")]
pub fn stats() -> WakeStats {
    WakeStats {
        first_try: FIRST_TRY.load(Relaxed),
        after_message: AFTER_MESSAGE.load(Relaxed),
        after_timer: AFTER_TIMER.load(Relaxed),
        waiting: WAITING.load(Relaxed),
    }
}

/// What woke the attempt that was granted.
#[derive(Debug, Clone, Copy)]
pub enum WokenBy {
    FirstTry,
    Message,
    Timer,
}

pub fn count_grant(by: WokenBy) {
    match by {
        WokenBy::FirstTry => &FIRST_TRY,
        WokenBy::Message => &AFTER_MESSAGE,
        WokenBy::Timer => &AFTER_TIMER,
    }
    .fetch_add(1, Relaxed);
}

/// Wake counters per election, for the elections someone waits on.
#[derive(Default)]
pub struct Wakers {
    map: Mutex<HashMap<String, watch::Sender<u64>>>,
}

impl Wakers {
    /// A receiver that changes on every message about `election`.
    pub fn subscribe(&self, election: &str) -> watch::Receiver<u64> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, tx| tx.receiver_count() > 0);
        map.entry(election.to_string())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// The elections someone waits on now.
    pub fn elections(&self) -> Vec<String> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .filter(|(_, tx)| tx.receiver_count() > 0)
            .map(|(k, _)| k.clone())
            .collect()
    }

    pub fn wake(&self, election: &str) {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = map.get(election) {
            tx.send_modify(|n| *n += 1);
        }
    }

    /// After the subscription was down: messages may have been missed, so everyone looks.
    fn wake_all(&self) {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        for tx in map.values() {
            tx.send_modify(|n| *n += 1);
        }
    }
}

/// Waits for a change of `rx` or for `pause`, whichever comes first; tells which.
pub async fn wait(rx: &mut watch::Receiver<u64>, pause: Duration) -> WokenBy {
    /// Counts this wait in `WAITING` until it ends or is cancelled.
    struct Waiting;
    impl Drop for Waiting {
        fn drop(&mut self) {
            WAITING.fetch_sub(1, Relaxed);
        }
    }
    WAITING.fetch_add(1, Relaxed);
    let _waiting = Waiting;
    tokio::select! {
        r = rx.changed() => match r {
            Ok(()) => WokenBy::Message,
            // The store is closing: fall back to the timer.
            Err(_) => { tokio::time::sleep(pause).await; WokenBy::Timer }
        },
        _ = tokio::time::sleep(pause) => WokenBy::Timer,
    }
}

/// Opens the subscription; fails like the command connection would (auth, unreachable).
pub async fn subscribe(client: &Client, keys: &Keys, what: &str) -> Result<PubSubStream> {
    let mut pubsub = client
        .get_async_pubsub()
        .await
        .map_err(|e| connect::translate(what, e))?;
    pubsub
        .psubscribe(keys.pattern())
        .await
        .map_err(|e| connect::translate(what, e))?;
    Ok(pubsub.into_on_message())
}

/// Delivers messages until the task is aborted (when the store closes), resubscribing after
/// `retry` whenever the subscription breaks.
pub async fn listen(
    mut stream: PubSubStream,
    client: Client,
    keys: Keys,
    wakers: Arc<Wakers>,
    retry: Duration,
    what: String,
) {
    loop {
        while let Some(msg) = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
            if let Some(election) = keys.election_of(msg.get_channel_name()) {
                wakers.wake(election);
            }
        }
        tracing::warn!("{what}: subscription lost; resubscribing");
        stream = loop {
            tokio::time::sleep(retry).await;
            match subscribe(&client, &keys, &what).await {
                Ok(s) => break s,
                Err(e) => tracing::warn!("{e}"),
            }
        };
        wakers.wake_all();
    }
}
