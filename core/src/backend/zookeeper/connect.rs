//! One ZooKeeper session, shared by every election on the same store connection: opening it
//! (timeout from `ttl`, digest credentials) and mapping ZooKeeper's errors onto elect's codes.
//! Its heartbeat and the record of its last confirmed contact are in [`super::keepalive`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::AbortHandle;
use zookeeper_client as zk;

use super::keepalive::{self, Contact, Link};
use crate::error::{Error, ErrorCode, Result};
use crate::uri::Config;

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
        let every = config.renew().min(timeout / 6);
        let (contact, tasks) = keepalive::start(&client, started, every, timeout);
        Ok(Arc::new(Session {
            client,
            timeout,
            contact,
            tasks,
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
