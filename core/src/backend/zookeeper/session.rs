//! One ZooKeeper session, shared by every election on the same store connection, and the record
//! of its last confirmed contact with the server.
//!
//! The leader's deadline comes from here: a reply to a request sent at `t` proves the session
//! was alive at the server after `t`, so the server cannot expire it (and delete our ephemeral
//! nodes) before `t + negotiated timeout`. One heartbeat request per interval serves every
//! election of the session, so keep-alive traffic does not grow with the number of elections.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::AbortHandle;
use zookeeper_client as zk;

use crate::error::{Error, ErrorCode, Result};
use crate::uri::Config;

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
    /// Send time of the last request the server answered.
    pub sent_at: Instant,
    /// Bumped on every disconnection, so a leader knows to re-verify after a reconnect.
    pub epoch: u64,
    pub link: Link,
}

pub struct Session {
    pub client: zk::Client,
    /// The session timeout the server granted (not the one we asked for).
    pub timeout: Duration,
    contact: watch::Receiver<Contact>,
    tasks: Vec<AbortHandle>,
}

impl Session {
    /// Opens a session: timeout from `ttl`, digest credentials from the URI's user info.
    pub async fn connect(config: &Config) -> Result<Arc<Session>> {
        let hosts: Vec<String> = config.hosts.iter().map(|h| h.to_string()).collect();
        let hosts = hosts.join(",");
        let mut connector = zk::Client::connector()
            .with_session_timeout(config.ttl)
            .with_fail_eagerly();
        if let Some(secret) = digest_secret(config)? {
            connector = connector.with_auth("digest", secret.as_bytes());
        }
        let started = Instant::now();
        let client = connector
            .connect(&hosts)
            .await
            .map_err(|e| connect_error(e, &hosts))?;
        let timeout = client.session_timeout();
        let (tx, rx) = watch::channel(Contact {
            sent_at: started,
            epoch: 0,
            link: Link::Connected,
        });
        let every = config.renew().min(timeout / 3);
        let monitor = tokio::spawn(monitor(client.state_watcher(), tx.clone()));
        let heartbeat = tokio::spawn(heartbeat(client.clone(), every, tx));
        Ok(Arc::new(Session {
            client,
            timeout,
            contact: rx,
            tasks: vec![monitor.abort_handle(), heartbeat.abort_handle()],
        }))
    }

    pub fn contact(&self) -> watch::Receiver<Contact> {
        self.contact.clone()
    }

    pub fn ended(&self) -> bool {
        self.contact.borrow().link == Link::Ended || self.client.state().is_terminated()
    }
}

impl Drop for Session {
    /// The tasks hold clones of the client; stopping them lets the last clone go, which closes
    /// the session at the server and deletes its ephemeral nodes at once.
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// `user:password` for ZooKeeper's digest scheme, if the URI carries credentials.
pub fn digest_secret(config: &Config) -> Result<Option<String>> {
    match (&config.user, &config.password) {
        (None, None) => Ok(None),
        (Some(u), Some(p)) => Ok(Some(format!("{u}:{}", p.expose()))),
        (Some(u), None) => Err(Error::invalid(format!(
            "user `{u}`: ZooKeeper digest authentication needs `user:password@`"
        ))),
        (None, Some(_)) => Err(Error::invalid(
            "user: ZooKeeper digest authentication needs a user name before `:password@`",
        )),
    }
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

/// One `exists` on the root per interval; each answer moves the confirmed contact forward.
/// Requests wait for their answer before the next is sent, so none pile up while disconnected.
async fn heartbeat(client: zk::Client, every: Duration, tx: watch::Sender<Contact>) {
    loop {
        tokio::time::sleep(every).await;
        let sent_at = Instant::now();
        match client.check_stat("/").await {
            Ok(_) => tx.send_modify(|c| {
                if sent_at > c.sent_at {
                    c.sent_at = sent_at;
                }
            }),
            Err(e) if is_terminal(&e) => {
                tx.send_modify(|c| c.link = Link::Ended);
                return;
            }
            Err(_) => {}
        }
    }
}

pub fn is_terminal(e: &zk::Error) -> bool {
    matches!(
        e,
        zk::Error::SessionExpired
            | zk::Error::ClientClosed
            | zk::Error::AuthFailed
            | zk::Error::SessionMoved
    )
}

fn connect_error(e: zk::Error, hosts: &str) -> Error {
    match e {
        zk::Error::NoHosts | zk::Error::Timeout | zk::Error::ConnectionLoss => {
            Error::unreachable(format!("no ZooKeeper server answered at {hosts} ({e})"))
        }
        zk::Error::AuthFailed => Error::new(
            ErrorCode::Auth,
            format!("ZooKeeper at {hosts} rejected the credentials"),
        ),
        other => map(other).context(format_args!("connecting to ZooKeeper at {hosts}")),
    }
}

/// A ZooKeeper error as an elect error. The engine reacts to the codes: `NotLeader` drops the
/// candidacy (its session and nodes are gone), `Unreachable` is retried after `retry`.
pub fn map(e: zk::Error) -> Error {
    let code = match &e {
        zk::Error::SessionExpired | zk::Error::ClientClosed | zk::Error::SessionMoved => {
            ErrorCode::NotLeader
        }
        zk::Error::ConnectionLoss | zk::Error::NoHosts | zk::Error::Timeout => {
            ErrorCode::Unreachable
        }
        zk::Error::AuthFailed => ErrorCode::Auth,
        zk::Error::NoAuth => ErrorCode::Permission,
        zk::Error::InvalidAcl | zk::Error::BadArguments(_) => ErrorCode::InvalidArgument,
        _ => ErrorCode::Store,
    };
    let message = match &e {
        zk::Error::SessionExpired => "the ZooKeeper session expired".to_string(),
        zk::Error::NoAuth => "ZooKeeper denied the operation (ACL)".to_string(),
        other => format!("ZooKeeper: {other}"),
    };
    Error::new(code, message)
}

/// `map`, with the path the operation was about.
pub fn at(path: &str) -> impl Fn(zk::Error) -> Error + '_ {
    move |e| map(e).context(format_args!("`{path}`"))
}
