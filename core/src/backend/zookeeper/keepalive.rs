//! The heartbeat of a ZooKeeper session, and the record of its last confirmed contact with the
//! ensemble, from which the leader's deadline comes.
//!
//! A heartbeat is a write (a one-op `multi` that checks the root's version, any version): only
//! the ensemble's leader can commit it, with a quorum, so a server cut off from the ensemble cannot answer it, where it would answer a read from its
//! own copy for up to `syncLimit x tickTime`. A committed heartbeat proves that the ensemble
//! leader had not expired the session when it took the request.
//!
//! It does not prove that the leader has heard of the session's activity: a follower tells the
//! leader which sessions its clients touched only in its answer to the leader's next ping
//! (every `tickTime / 2`). So the contact a heartbeat confirms is not its own send time but
//! that of an earlier heartbeat answered at least [`report_lag`] before this one was sent: the
//! follower's ping answer carrying that earlier touch travelled on the same connection to the
//! leader as, and before, this heartbeat. The server then cannot expire the session before
//! `that send time + negotiated timeout`. `docs/stores/zookeeper.md` states the condition.
//! One heartbeat per interval serves every election of the session, so keep-alive traffic does
//! not grow with the number of elections.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::AbortHandle;
use zookeeper_client as zk;

use super::connect::is_terminal;

/// What the session knows about its link to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Connected,
    Disconnected,
    /// Expired, closed or failed authentication: the session and its nodes are gone for good.
    Ended,
}

/// The latest confirmed contact and the state of the link.
#[derive(Debug, Clone, Copy)]
pub struct Contact {
    /// Send time of the latest heartbeat the ensemble leader is known to have counted (see the
    /// module doc): the server cannot expire the session before `sent_at + timeout`.
    pub sent_at: Instant,
    /// Bumped on every disconnection, so a leader knows to re-verify after a reconnect.
    pub epoch: u64,
    pub link: Link,
}

/// Starts following the session's state and its heartbeat (one per `every`); the receiver
/// publishes the confirmed contact, the handles stop both tasks.
pub fn start(
    client: &zk::Client,
    started: Instant,
    every: Duration,
    timeout: Duration,
) -> (watch::Receiver<Contact>, Vec<AbortHandle>) {
    let (tx, rx) = watch::channel(Contact {
        sent_at: started,
        epoch: 0,
        link: Link::Connected,
    });
    let monitor = tokio::spawn(monitor(client.state_watcher(), tx.clone()));
    let heartbeat = tokio::spawn(heartbeat(client.clone(), every, report_lag(timeout), tx));
    (rx, vec![monitor.abort_handle(), heartbeat.abort_handle()])
}

/// Follows the session state: counts disconnections, marks the end.
async fn monitor(mut states: zk::StateWatcher, tx: watch::Sender<Contact>) {
    loop {
        let state = states.changed().await;
        tx.send_modify(|c| match state {
            zk::SessionState::Disconnected => {
                if c.link == Link::Connected {
                    c.epoch += 1;
                }
                c.link = Link::Disconnected;
            }
            zk::SessionState::SyncConnected | zk::SessionState::ConnectedReadOnly => {
                // Woken while we thought we were connected: the disconnection in between was
                // too short for us to see it, but it happened.
                if c.link == Link::Connected {
                    c.epoch += 1;
                }
                c.link = Link::Connected
            }
            _ => c.link = Link::Ended,
        });
        if state.is_terminated() {
            return;
        }
    }
}

/// How long after a heartbeat's answer its touch is surely known to the ensemble leader: a
/// follower forwards its clients' touches in its answer to the leader's ping, sent every
/// `tickTime / 2`. A third of the session timeout covers that with room for the ping's delivery
/// whenever the timeout is at least two ticks, ZooKeeper's default `minSessionTimeout`.
pub fn report_lag(timeout: Duration) -> Duration {
    timeout / 3
}

/// One heartbeat per interval; each answer moves the confirmed contact forward to the send time
/// of the latest earlier heartbeat answered at least `lag` before this one was sent (see the
/// module doc). Requests wait for their answer before the next is sent, so none pile up while
/// disconnected.
async fn heartbeat(client: zk::Client, every: Duration, lag: Duration, tx: watch::Sender<Contact>) {
    // Answered heartbeats, oldest first: (sent, answered).
    let mut answered: VecDeque<(Instant, Instant)> = VecDeque::new();
    loop {
        tokio::time::sleep(every).await;
        let sent_at = Instant::now();
        match confirm(&client).await {
            Ok(()) => {
                let mut counted = None;
                while let Some(&(sent, at)) = answered.front() {
                    if at + lag > sent_at {
                        break;
                    }
                    counted = Some(sent);
                    answered.pop_front();
                }
                answered.push_back((sent_at, Instant::now()));
                if let Some(sent) = counted {
                    tx.send_modify(|c| {
                        if sent > c.sent_at {
                            c.sent_at = sent;
                        }
                    });
                }
            }
            Err(e) if is_terminal(&e) => {
                tx.send_modify(|c| c.link = Link::Ended);
                return;
            }
            Err(e) => tracing::debug!("ZooKeeper heartbeat: {e}"),
        }
    }
}

/// The heartbeat's request: a transaction that changes nothing (a version check of the root
/// that any version passes, so it needs only read access), committed by the ensemble leader
/// with a quorum.
async fn confirm(client: &zk::Client) -> std::result::Result<(), zk::Error> {
    let mut check = client.new_multi_writer();
    check.add_check_version("/", -1)?;
    check.commit().await.map(drop).map_err(zk::Error::from)
}
