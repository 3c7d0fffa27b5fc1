//! One ZooKeeper session, shared by every election on the same store connection, and the record
//! of its last confirmed contact with the ensemble.
//!
//! The leader's deadline comes from here. A heartbeat is a write (a one-op `multi` that checks
//! the root's version, any version): only the ensemble's leader can commit it, with a quorum, so
//! a server cut off from the ensemble cannot answer it, where it would answer a read from its
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
    /// Send time of the latest heartbeat the ensemble leader is known to have counted (see the
    /// module doc): the server cannot expire the session before `sent_at + timeout`.
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
        let client = match tls_options(config)? {
            Some(tls) => match connector.with_tls(tls).secure_connect(&hosts).await {
                Err(e @ (zk::Error::NoHosts | zk::Error::Timeout | zk::Error::ConnectionLoss)) => {
                    return Err(tls_connect_error(e, config).await)
                }
                other => other,
            },
            None => connector.connect(&hosts).await,
        }
        .map_err(|e| connect_error(e, &config.hosts_shown()))?;
        let timeout = client.session_timeout();
        let (tx, rx) = watch::channel(Contact {
            sent_at: started,
            epoch: 0,
            link: Link::Connected,
        });
        let every = config.renew().min(timeout / 6);
        let monitor = tokio::spawn(monitor(client.state_watcher(), tx.clone()));
        let heartbeat = tokio::spawn(heartbeat(client.clone(), every, report_lag(timeout), tx));
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

pub fn is_terminal(e: &zk::Error) -> bool {
    matches!(
        e,
        zk::Error::SessionExpired
            | zk::Error::ClientClosed
            | zk::Error::AuthFailed
            | zk::Error::SessionMoved
    )
}

/// TLS from options `ca`, `cert` and `key`, as for etcd: every server of the URI serves TLS,
/// its certificate checked against `ca` and the host name.
fn tls_options(config: &Config) -> Result<Option<zk::TlsOptions>> {
    let Some(files) = crate::backend::tls::pem_files(config, "ZooKeeper servers'")? else {
        return Ok(None);
    };
    // The client makes a TLS server name of each host, and panics on one that is none.
    for (i, h) in config.hosts.iter().enumerate() {
        if rustls::pki_types::ServerName::try_from(h.host.as_str()).is_err() {
            return Err(Error::invalid(format!(
                "host {} of {}: not a name TLS can check a certificate against",
                i + 1,
                config.hosts.len()
            )));
        }
    }
    crate::backend::tls::ensure_crypto_provider();
    let pem = |what: &str, bytes: Vec<u8>| {
        String::from_utf8(bytes)
            .map_err(|_| Error::invalid(format!("option `{what}`: not a PEM file (not UTF-8)")))
    };
    let bad = |what: &str, e: zk::Error| Error::invalid(format!("option `{what}`: {e}"));
    let mut tls = zk::TlsOptions::new()
        .with_pem_ca(&pem("ca", files.ca)?)
        .map_err(|e| bad("ca", e))?;
    if let Some((cert, key)) = files.identity {
        tls = tls
            .with_pem_identity(&pem("cert", cert)?, &pem("key", key)?)
            .map_err(|e| bad("key", e))?;
    }
    Ok(Some(tls))
}

/// [`connect_error`], with the reason a TLS handshake with the first server fails, if it does.
async fn tls_connect_error(e: zk::Error, config: &Config) -> Error {
    let error = connect_error(e, &config.hosts_shown());
    let Ok(Some(files)) = crate::backend::tls::pem_files(config, "ZooKeeper servers'") else {
        return error;
    };
    let first = config.hosts[0].clone();
    let timeout = config.connect_timeout;
    let probe = tokio::task::spawn_blocking(move || {
        super::tls_probe::handshake_error(&files, &first, timeout)
    });
    match probe.await {
        Ok(Some(why)) => {
            let which = if config.hosts.len() == 1 { "" } else { " with the first server" };
            Error::new(error.code(), format!("{}; {why}{which}", error.message()))
        }
        _ => error,
    }
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
