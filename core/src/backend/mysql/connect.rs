//! Opening one MySQL/MariaDB session, TLS as the postgres store words it, and driver errors as
//! elect errors.
//!
//! Every session is a dedicated connection (never a pooled one that could be swapped under an
//! election) with TCP keepalive, strict SQL mode (a too-long value fails rather than being
//! truncated into another election's name) and the longest `wait_timeout`, so that the server
//! does not close a leader's idle lock session.
//!
//! TLS (`sslmode`, `sslrootcert`, as in the postgres store):
//! - `disable`: plain TCP.
//! - `prefer` (the default): TLS if the server offers it, plain otherwise.
//! - `require`: TLS or no connection; the certificate is not checked (encryption only).
//! - `verify-ca`: TLS, the certificate must chain to a CA of `sslrootcert` (required); its host
//!   names are not checked.
//! - `verify-full`: TLS, the certificate must chain to a trusted root and name the host.
//!
//! `sslrootcert` (a PEM file) makes `prefer` and `require` verify as `verify-full` does.
//! `verify-full` without it trusts the Mozilla roots built into the driver (webpki-roots).
//! `sslcert` and `sslkey` present a client certificate (for accounts created `REQUIRE X509`);
//! the key file must be private, as libpq requires.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use mysql_async::{ClientIdentity, Conn, Opts, OptsBuilder, SslOpts};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

use super::options::{MysqlOptions, SslMode};
use crate::error::{Error, ErrorCode, Result};
use crate::uri::{Config, HostPort};

/// Statements every session runs after connecting.
const SESSION_SETUP: [&str; 2] = [
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
    "SET SESSION wait_timeout = 31536000",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Disable,
    Prefer,
    Require,
}

/// Everything needed to open another session to the same server.
#[derive(Clone)]
pub(super) struct Params {
    opts: OptsBuilder,
    mode: Mode,
    ssl: SslOpts,
    /// For messages: user, host (counted after a password, see `Config::hosts_shown`) and
    /// database, never the password.
    pub user: String,
    pub database: String,
    pub host: String,
    /// With `sslmode=verify-ca`: the server to probe for a name its certificate holds, the
    /// roots its chain is checked against, and the probe's bound (see `cert_probe`).
    verify_ca: Option<(HostPort, Arc<RootCertStore>, Duration)>,
}

impl Params {
    pub fn from_config(config: &Config) -> Result<Params> {
        let user = config.user.clone().ok_or_else(|| {
            Error::invalid("user: mysql:// needs a user, e.g. `mysql://elect:secret@host/db`")
        })?;
        if config.path.is_empty() || config.path.contains('/') {
            return Err(Error::invalid(format!(
                "path: `{}`: expected the database name, e.g. `mysql://user@host/elect`",
                config.path
            )));
        }
        let [hp] = config.hosts.as_slice() else {
            return Err(Error::invalid(format!(
                "hosts: mysql:// takes one host, got {}: put failover behind one address \
                 (a proxy or a virtual IP that follows the primary)",
                config.hosts.len()
            )));
        };
        let (mode, ssl, ca_roots) = tls(config.store_options::<MysqlOptions>()?)?;
        let verify_ca = ca_roots.map(|roots| (hp.clone(), roots, config.connect_timeout));
        let opts = OptsBuilder::default()
            .ip_or_hostname(hp.host.clone())
            .tcp_port(hp.port)
            .user(Some(user.clone()))
            .pass(config.password.as_ref().map(|p| p.expose().to_string()))
            .db_name(Some(config.path.clone()))
            .prefer_socket(false)
            .tcp_keepalive(Some((config.ttl / 2).max(Duration::from_secs(1))))
            .init(SESSION_SETUP.to_vec())
            .stmt_cache_size(16);
        Ok(Params {
            opts,
            mode,
            ssl,
            user,
            database: config.path.clone(),
            host: config.hosts_shown(),
            verify_ca,
        })
    }

    /// The session's TLS options; with `verify-ca`, checking a name the probe found in the
    /// server's certificate after checking its chain.
    async fn ssl(&self) -> Result<SslOpts> {
        let Some((host, roots, timeout)) = self.verify_ca.clone() else {
            return Ok(self.ssl.clone());
        };
        let what = self.at();
        let name = tokio::task::spawn_blocking(move || {
            super::cert_probe::name_in_certificate(&host, roots, timeout, &what)
        })
        .await
        .map_err(|e| Error::internal(format!("verify-ca probe: {e}")))??;
        Ok(self
            .ssl
            .clone()
            .with_danger_tls_hostname_override(Some(name)))
    }

    /// The session named in messages: user, host (counted after a password) and database.
    fn at(&self) -> String {
        format!("mysql {}@{}/{}", self.user, self.host, self.database)
    }

    /// Opens a session.
    pub async fn open(&self) -> Result<Conn> {
        if self.mode != Mode::Disable {
            crate::backend::tls::ensure_crypto_provider();
        }
        let with_tls = |ssl: Option<SslOpts>| Opts::from(self.opts.clone().ssl_opts(ssl));
        let opened = match self.mode {
            Mode::Disable => Conn::new(with_tls(None)).await,
            Mode::Require => Conn::new(with_tls(Some(self.ssl().await?))).await,
            Mode::Prefer => match Conn::new(with_tls(Some(self.ssl.clone()))).await {
                Err(mysql_async::Error::Driver(
                    mysql_async::DriverError::NoClientSslFlagFromServer,
                )) => Conn::new(with_tls(None)).await,
                other => other,
            },
        };
        opened.map_err(|e| self.error(e, "cannot connect"))
    }

    /// A driver error as an elect error, with `what` in front; never contains the password
    /// (the driver's and the server's messages do not, and we only add user, host and database).
    pub fn error(&self, e: mysql_async::Error, what: &str) -> Error {
        use mysql_async::{DriverError, Error as E};
        let at = self.at();
        match e {
            E::Server(s) => match s.code {
                // ER_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR (no access to the database)
                1045 | 1044 => Error::new(
                    ErrorCode::Auth,
                    format!(
                        "{at}: user `{}`: {}{}",
                        self.user,
                        s.message,
                        self.denied_hint()
                    ),
                ),
                // ER_BAD_DB_ERROR
                1049 => Error::invalid(format!(
                    "{at}: path: database `{}` does not exist: {}",
                    self.database, s.message
                )),
                // Table, column, command and procedure privileges.
                1142 | 1143 | 1227 | 1370 => Error::new(
                    ErrorCode::Permission,
                    format!("{at}: {what}: {}", s.message),
                ),
                // Too many connections, shutdown in progress, connection killed, read-only.
                1040 | 1053 | 1927 | 1290 | 1836 => {
                    Error::unreachable(format!("{at}: {what}: {}", s.message))
                }
                code => Error::store(format!("{at}: {what}: {} (error {code})", s.message)),
            },
            E::Driver(DriverError::NoClientSslFlagFromServer) => Error::unreachable(format!(
                "{at}: {what}: the server offers no TLS and sslmode asks for it"
            )),
            E::Driver(DriverError::ConnectionClosed) | E::Io(_) => {
                Error::unreachable(format!("{at}: {what}: {}", chain(&e)))
            }
            E::Url(_) => Error::invalid(format!("{at}: {}", chain(&e))),
            other => Error::store(format!("{at}: {what}: {}", chain(&other))),
        }
    }
}

impl Params {
    /// MySQL and MariaDB answer "Access denied" also when the account or the server asks for
    /// more TLS than the connection has: say so, for the cases this connection could be one.
    fn denied_hint(&self) -> &'static str {
        if self.mode == Mode::Disable {
            "; the server also answers so when it requires TLS (`require_secure_transport`, \
             `REQUIRE SSL`) and sslmode=disable"
        } else if self.ssl.client_identity().is_none() {
            "; the server also answers so when the account requires a client certificate \
             (`REQUIRE X509`): give options `sslcert` and `sslkey`"
        } else {
            ""
        }
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// The TLS mode, the driver's options, and for `verify-ca` the roots the probe checks with.
fn tls(options: &MysqlOptions) -> Result<(Mode, SslOpts, Option<Arc<RootCertStore>>)> {
    let root = options.sslrootcert.as_deref();
    // What is checked of the server's certificate: (chain, host name).
    let (mode, chain, name) = match options.sslmode {
        SslMode::Disable => return Ok((Mode::Disable, SslOpts::default(), None)),
        // A CA given is a request to authenticate the server: no plain-text fallback then.
        SslMode::Prefer | SslMode::Require if root.is_some() => (Mode::Require, true, true),
        SslMode::Prefer => (Mode::Prefer, false, false),
        SslMode::Require => (Mode::Require, false, false),
        SslMode::VerifyCa => (Mode::Require, true, false),
        SslMode::VerifyFull => (Mode::Require, true, true),
    };
    let mut ssl = SslOpts::default();
    let mut ca_roots = None;
    if let Some(path) = root {
        let pem = read_roots(path)?;
        if chain && !name {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&pem).flatten() {
                roots
                    .add(cert)
                    .map_err(|e| Error::invalid(format!("option `sslrootcert`: `{path}`: {e}")))?;
            }
            ca_roots = Some(Arc::new(roots));
        }
        ssl = ssl
            .with_root_certs(vec![pem.into()])
            .with_disable_built_in_roots(true);
    }
    if !chain {
        ssl = ssl.with_danger_accept_invalid_certs(true);
    }
    if let Some((cert, key)) = &options.identity {
        let pem = crate::backend::tls::read_client_pem(cert, key)?;
        ssl = ssl.with_client_identity(Some(ClientIdentity::new(
            pem.cert_pem.into(),
            pem.key_pem.into(),
        )));
    }
    Ok((mode, ssl, ca_roots))
}

/// The PEM file of `sslrootcert`, checked here so that a bad file is named now rather than as
/// a TLS failure at every connection.
fn read_roots(path: &str) -> Result<Vec<u8>> {
    let bad = |why: String| Error::invalid(format!("option `sslrootcert`: `{path}`: {why}"));
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let mut found = 0;
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        cert.map_err(|e| bad(format!("not a PEM certificate file: {e}")))?;
        found += 1;
    }
    if found == 0 {
        return Err(bad("contains no certificate".into()));
    }
    Ok(bytes)
}

/// A statement on a session: given the connection, returns the driver's future.
pub(super) type Statement<'c, T> =
    Pin<Box<dyn Future<Output = mysql_async::Result<T>> + Send + 'c>>;

/// The store connection's statement session, reopened on first use after it died (a server
/// restart, a network failure). Statements run one at a time (the protocol has no pipelining).
pub(super) struct Session {
    params: Params,
    conn: tokio::sync::Mutex<Option<Conn>>,
}

impl Session {
    pub fn new(params: Params, conn: Conn) -> Session {
        Session {
            params,
            conn: tokio::sync::Mutex::new(Some(conn)),
        }
    }

    /// Runs `f` on the session. A session whose statement failed on the connection, or was
    /// cancelled half way (its future dropped), is closed and reopened by the next call.
    pub async fn run<T, F>(&self, what: &str, f: F) -> Result<T>
    where
        F: for<'c> FnOnce(&'c mut Conn) -> Statement<'c, T>,
    {
        let mut slot = self.conn.lock().await;
        if slot.is_none() {
            *slot = Some(self.params.open().await?);
        }
        // Taken out for the statement: if this future is dropped meanwhile, so is the
        // connection, and the next call opens a fresh one.
        let mut conn = slot.take().expect("opened above");
        let outcome = f(&mut conn).await;
        match outcome {
            Ok(v) => {
                *slot = Some(conn);
                Ok(v)
            }
            Err(e) => {
                let err = self.params.error(e, what);
                if err.code() != ErrorCode::Unreachable {
                    *slot = Some(conn);
                }
                Err(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(uri: &str) -> Result<Params> {
        Params::from_config(&Config::parse(uri).unwrap())
    }

    #[test]
    fn user_database_and_one_host_are_required() {
        let e = params("mysql://db.example/elect").err().unwrap();
        assert!(e.message().starts_with("user:"), "{e}");
        let e = params("mysql://u@db.example").err().unwrap();
        assert!(e.message().starts_with("path:"), "{e}");
        let e = params("mysql://u@h1,h2/elect").err().unwrap();
        assert!(e.message().starts_with("hosts:"), "{e}");
        let p = params("mariadb://u@h1/elect").unwrap();
        assert_eq!(p.host, "h1:3306");
        // After a password the host is counted, not quoted: it may be the password's tail.
        let p = params("mariadb://u:secret@h1/elect").unwrap();
        assert_eq!(p.host, "<1 host>");
        assert_eq!(p.database, "elect");
    }

    #[test]
    fn tls_options_are_checked() {
        let e = Config::parse("mysql://u@h/db?sslmode=verify-ca").unwrap_err();
        assert!(e.message().contains("verify-ca needs `sslrootcert`"), "{e}");
        let e = Config::parse("mysql://u@h/db?sslmode=verify-sometimes").unwrap_err();
        assert!(e.message().contains("option `sslmode`"), "{e}");
        let e = Config::parse("mysql://u@h/db?sslcert=/c.pem").unwrap_err();
        assert!(e.message().contains("option `sslkey`: missing"), "{e}");
        let e = params("mysql://u@h/db?sslrootcert=/nonexistent.pem")
            .err()
            .unwrap();
        assert!(e.message().contains("/nonexistent.pem"), "{e}");
        assert_eq!(params("mysql://u@h/db").unwrap().mode, Mode::Prefer);
        assert_eq!(
            params("mysql://u@h/db?sslmode=disable").unwrap().mode,
            Mode::Disable
        );
    }
}
