//! Opening one PostgreSQL session, and turning driver errors into elect errors.
//!
//! Every session is a dedicated connection (never a pooled one that could be swapped under an
//! election) with TCP keepalive and a TCP user timeout derived from the ttl, so that a half-open
//! connection is noticed within about a ttl even when no statement is running.

use std::future::poll_fn;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_postgres::config::TargetSessionAttrs;
use tokio_postgres::error::SqlState;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{AsyncMessage, Client, NoTls, Notification, Socket};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::options::PgOptions;
use super::tls::{self, Tls};
use crate::error::{Error, ErrorCode, Result};
use crate::uri::Config;

/// Everything needed to open another session to the same server.
#[derive(Clone)]
pub(super) struct Params {
    pg: tokio_postgres::Config,
    tls: Tls,
    /// For messages: user, hosts and database, never the password.
    pub user: String,
    pub database: String,
    pub hosts: String,
}

impl Params {
    pub fn from_config(config: &Config) -> Result<Params> {
        let mut pg = tokio_postgres::Config::new();
        let user = config.user.clone().ok_or_else(|| {
            Error::invalid("user: postgres:// needs a user, e.g. `postgres://elect:secret@host/db`")
        })?;
        if config.path.is_empty() || config.path.contains('/') {
            return Err(Error::invalid(format!(
                "path: `{}`: expected the database name, e.g. `postgres://user@host/elect`",
                config.path
            )));
        }
        pg.user(&user).dbname(&config.path);
        if let Some(pw) = &config.password {
            pg.password(pw.expose());
        }
        for hp in &config.hosts {
            pg.host(&hp.host).port(hp.port);
        }
        let tls = tls::from_options(config.store_options::<PgOptions>()?)?;
        pg.ssl_mode(tls.mode)
            .application_name("elect")
            .connect_timeout(config.connect_timeout)
            // Several hosts: connect to the one that accepts writes (the primary).
            .target_session_attrs(TargetSessionAttrs::ReadWrite)
            .keepalives(true)
            .keepalives_idle((config.ttl / 2).max(Duration::from_secs(1)))
            .keepalives_interval(Duration::from_secs(1))
            .keepalives_retries(3)
            // Unacknowledged data (a renewal sent into a dead link) fails the connection
            // within a ttl, by which time the engine has stepped down anyway.
            .tcp_user_timeout(config.ttl);
        Ok(Params {
            pg,
            tls,
            user,
            database: config.path.clone(),
            hosts: config.hosts_shown(),
        })
    }

    /// Opens a session. Its notifications (LISTEN) arrive on the returned receiver, which ends
    /// when the connection does; dropping the receiver is fine.
    pub async fn open(&self) -> Result<(Client, mpsc::UnboundedReceiver<Notification>)> {
        match &self.tls.client {
            None => self.open_with(NoTls).await,
            Some(client) => {
                self.open_with(MakeRustlsConnect::new((**client).clone()))
                    .await
            }
        }
    }

    async fn open_with<T>(&self, tls: T) -> Result<(Client, mpsc::UnboundedReceiver<Notification>)>
    where
        T: MakeTlsConnect<Socket> + Send,
        T::Stream: Send + 'static,
        T::TlsConnect: Send,
        <T::TlsConnect as tokio_postgres::tls::TlsConnect<Socket>>::Future: Send,
    {
        let (client, mut connection) = self
            .pg
            .connect(tls)
            .await
            .map_err(|e| self.error(e, "cannot connect"))?;
        let (tx, rx) = mpsc::unbounded_channel();
        // Drives the connection (queries included) and forwards notifications until it ends.
        tokio::spawn(async move {
            while let Some(msg) = poll_fn(|cx| connection.poll_message(cx)).await {
                match msg {
                    Ok(AsyncMessage::Notification(n)) => {
                        let _ = tx.send(n);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!("postgres connection ended: {e}");
                        break;
                    }
                }
            }
        });
        Ok((client, rx))
    }

    /// Opens a statement session: as [`Params::open`], with `synchronous_commit` at least `on`
    /// (see [`SYNCHRONOUS_COMMIT`]): a lease granted or renewed in a commit that the server
    /// acknowledged before it was durable can be lost in a crash, and its term handed out again.
    pub async fn open_statements(&self) -> Result<Client> {
        let (client, _notifications) = self.open().await?;
        client
            .batch_execute(SYNCHRONOUS_COMMIT)
            .await
            .map_err(|e| self.error(e, "setting synchronous_commit"))?;
        Ok(client)
    }

    /// A driver error as an elect error, with `what` in front; never contains the password
    /// (the driver's messages do not, and we only add user, hosts and database).
    pub fn error(&self, e: tokio_postgres::Error, what: &str) -> Error {
        let at = format!("postgres {}@{}/{}", self.user, self.hosts, self.database);
        if let Some(db) = e.as_db_error() {
            let code = db.code();
            let detail = db.message();
            return if *code == SqlState::INVALID_PASSWORD
                || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            {
                Error::new(
                    ErrorCode::Auth,
                    format!(
                        "{at}: user `{}`: authentication failed: {detail}",
                        self.user
                    ),
                )
            } else if *code == SqlState::INVALID_CATALOG_NAME {
                Error::invalid(format!(
                    "{at}: path: database `{}` does not exist: {detail}",
                    self.database
                ))
            } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
                Error::new(ErrorCode::Permission, format!("{at}: {what}: {detail}"))
            } else if code.code().starts_with("57")
                || code.code().starts_with("08")
                || *code == SqlState::TOO_MANY_CONNECTIONS
            {
                // Shutdown, crash recovery, connection exceptions: the server is not there for us.
                Error::unreachable(format!("{at}: {what}: {detail}"))
            } else {
                Error::store(format!("{at}: {what}: {detail} (SQLSTATE {})", code.code()))
            };
        }
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        if text.starts_with("authentication error") || text.contains("password missing") {
            return Error::new(
                ErrorCode::Auth,
                format!("{at}: user `{}`: {text}", self.user),
            );
        }
        if text.starts_with("invalid configuration") {
            return Error::invalid(format!("{at}: {text}"));
        }
        // The connection itself failed (refused, reset, closed, TLS): the server is not there
        // for us. Anything else (a decoding failure) is a store error, retried by the engine.
        let io = e.is_closed()
            || [
                "error connecting",
                "error communicating",
                "error performing TLS",
                "timeout",
            ]
            .iter()
            .any(|p| text.starts_with(p));
        if io {
            Error::unreachable(format!("{at}: {what}: {text}"))
        } else {
            Error::store(format!("{at}: {what}: {text}"))
        }
    }
}

/// Raises the session's `synchronous_commit` from `off` or `local` to `on`, so that a commit
/// elect has been told of is on disk (and on the synchronous standbys, if any) before a leader
/// acts on it. `remote_write`, `on` and `remote_apply` are kept as the server sets them.
pub(super) const SYNCHRONOUS_COMMIT: &str = "SELECT set_config('synchronous_commit', 'on', false) \
     WHERE current_setting('synchronous_commit') IN ('off', 'local')";

/// The store connection's statement session, reopened on first use after it died (a server
/// restart, a network failure). Statements in flight when it dies fail as `Unreachable`.
pub(super) struct Session {
    params: Params,
    client: tokio::sync::Mutex<Option<std::sync::Arc<Client>>>,
}

impl Session {
    pub fn new(params: Params, client: Client) -> Session {
        Session {
            params,
            client: tokio::sync::Mutex::new(Some(std::sync::Arc::new(client))),
        }
    }

    pub async fn client(&self) -> Result<std::sync::Arc<Client>> {
        let mut slot = self.client.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        *slot = None;
        let client = self.params.open_statements().await?;
        let client = std::sync::Arc::new(client);
        *slot = Some(client.clone());
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(uri: &str) -> Result<Params> {
        Params::from_config(&Config::parse(uri).unwrap())
    }

    #[test]
    fn user_and_database_are_required() {
        let e = params("postgres://db.example/elect").err().unwrap();
        assert!(e.message().starts_with("user:"), "{e}");
        let e = params("postgres://u@db.example").err().unwrap();
        assert!(e.message().starts_with("path:"), "{e}");
        let e = params("postgres://u@db.example/a/b").err().unwrap();
        assert!(e.message().contains("`a/b`"), "{e}");
        let p = params("postgresql://u@h1,h2:6432/elect").unwrap();
        assert_eq!(p.hosts, "h1:5432,h2:6432");
        // After a password, hosts are counted, not quoted: they may be the password's tail.
        let p = params("postgresql://u:secret@h1,h2:6432/elect").unwrap();
        assert_eq!(p.hosts, "<2 hosts>");
        assert_eq!(p.database, "elect");
    }
}
