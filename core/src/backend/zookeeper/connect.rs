//! One ZooKeeper session, shared by every election on the same store connection: opening it
//! (timeout from `ttl`, digest credentials, TLS) and mapping ZooKeeper's errors onto elect's codes.
//! Its heartbeat and the record of its last confirmed contact are in [`super::keepalive`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::AbortHandle;
use zookeeper_client as zk;

use super::keepalive::{self, Contact, Link};
use super::options::ZkOptions;
use super::tick;
use crate::backend::tls;
use crate::error::{Error, ErrorCode, Result};
use crate::uri::Config;

/// How long a session lasts after its last contact with the servers.
#[derive(Debug, Clone, Copy)]
pub enum Lasting {
    /// No longer than this (`ttl`): the timeout asked is that less the servers' tick (see
    /// [`tick`]), so that a crashed leader's session ends in time.
    AtMost(Duration),
    /// No shorter than this: a hold-off session (see [`super::hold`]), asked as it is.
    AtLeast(Duration),
}

pub struct Session {
    pub client: zk::Client,
    /// The session timeout the server granted (not the one we asked for).
    pub timeout: Duration,
    contact: watch::Receiver<Contact>,
    tasks: Vec<AbortHandle>,
}

impl Session {
    /// Opens a session: timeout from `ttl` less the servers' tick (see [`tick`]), digest
    /// credentials from the URI's user info.
    pub async fn connect(config: &Config) -> Result<Arc<Session>> {
        Session::connect_for(config, Lasting::AtMost(config.ttl)).await
    }

    /// [`Session::connect`], for a session lasting as `lasting` says.
    pub async fn connect_for(config: &Config, lasting: Lasting) -> Result<Arc<Session>> {
        let hosts: Vec<String> = config.hosts.iter().map(|h| h.to_string()).collect();
        let hosts = hosts.join(",");
        let mut connector = zk::Client::connector().with_fail_eagerly();
        if let Some(secret) = digest_secret(config)? {
            connector = connector.with_auth("digest", secret.as_bytes());
        }
        let tls = tls_options(config)?;
        // The tick is recorded for tests only.
        #[cfg_attr(not(feature = "testing"), allow(unused_variables))]
        let (tick, asked) = match lasting {
            Lasting::AtMost(ttl) => {
                let tick = tick::probe(connector.clone(), tls.clone(), &hosts).await;
                (tick, tick::session_timeout(ttl, tick))
            }
            Lasting::AtLeast(d) => (None, d),
        };
        let connector = connector.with_session_timeout(asked);
        let started = Instant::now();
        let client = match tls {
            Some(tls) => match connector.with_tls(tls).secure_connect(&hosts).await {
                Err(e @ (zk::Error::NoHosts | zk::Error::Timeout | zk::Error::ConnectionLoss)) => {
                    return Err(tls_connect_error(e, config).await)
                }
                other => other,
            },
            None => match connector.connect(&hosts).await {
                Err(e @ (zk::Error::NoHosts | zk::Error::Timeout | zk::Error::ConnectionLoss)) => {
                    return Err(plain_connect_error(e, config).await)
                }
                other => other,
            },
        }
        .map_err(|e| connect_error(e, &config.hosts_shown()))?;
        let timeout = client.session_timeout();
        #[cfg(feature = "testing")]
        {
            let mut sessions = tick::SESSIONS.lock().unwrap_or_else(|e| e.into_inner());
            sessions.push((tick, asked, timeout));
        }
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

/// TLS from options `ca`, `cert` and `key`, as for etcd: every server of the URI serves TLS,
/// its certificate checked against `ca` and the host name.
fn tls_options(config: &Config) -> Result<Option<zk::TlsOptions>> {
    let options = config.store_options::<ZkOptions>()?;
    let Some(ca) = &options.tls.ca else {
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
    tls::ensure_crypto_provider();
    let pem = |what: &str, path: &str| {
        String::from_utf8(tls::read_pem(what, path)?)
            .map_err(|_| Error::invalid(format!("option `{what}`: not a PEM file (not UTF-8)")))
    };
    let bad = |what: &str, e: zk::Error| Error::invalid(format!("option `{what}`: {e}"));
    let mut options_tls = zk::TlsOptions::new()
        .with_pem_ca(&pem("ca", ca)?)
        .map_err(|e| bad("ca", e))?;
    if let Some((cert, key)) = &options.tls.identity {
        options_tls = options_tls
            .with_pem_identity(&pem("cert", cert)?, &pem("key", key)?)
            .map_err(|e| bad("key", e))?;
    }
    Ok(Some(options_tls))
}

/// [`connect_error`], with the reason a TLS handshake with the first server fails, if it does.
/// A server that wants a client certificate may close the connection after the handshake
/// (TLS 1.3 lets the client finish first), so without one the message says it may be wanted.
async fn tls_connect_error(e: zk::Error, config: &Config) -> Error {
    let error = connect_error(e, &config.hosts_shown());
    let Ok(options) = config.store_options::<ZkOptions>() else {
        return error;
    };
    let error = if options.tls.identity.is_none() {
        Error::new(
            error.code(),
            format!(
                "{} (if the servers require client certificates, `ssl.clientAuth=need`, give \
                 `cert` and `key`)",
                error.message()
            ),
        )
    } else {
        error
    };
    let tls = options.tls.clone();
    let first = config.hosts[0].clone();
    let timeout = config.connect_timeout;
    let probe = tokio::task::spawn_blocking(move || {
        super::tls_probe::handshake_error(&tls, &first, timeout)
    });
    match probe.await {
        Ok(Some(why)) => {
            let which = if config.hosts.len() == 1 {
                ""
            } else {
                " with the first server"
            };
            Error::new(error.code(), format!("{}; {why}{which}", error.message()))
        }
        _ => error,
    }
}

/// [`connect_error`], saying so when the first server answers TLS: a plain client of a server
/// that serves TLS only (`secureClientPort`) is otherwise told only "no available hosts".
async fn plain_connect_error(e: zk::Error, config: &Config) -> Error {
    let error = connect_error(e, &config.hosts_shown());
    let first = config.hosts[0].clone();
    let timeout = config.connect_timeout;
    match tokio::task::spawn_blocking(move || tls::speaks_tls(&first, timeout)).await {
        Ok(Some(true)) => Error::new(
            error.code(),
            format!(
                "{}; the first server answers TLS: give the CA that signed its certificate with \
                 option `ca` (and a client certificate with `cert` and `key` if it requires one)",
                error.message()
            ),
        ),
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
