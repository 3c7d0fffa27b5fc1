//! The shared command connection: built from the elect connection string, reopened after it
//! breaks, and the translation of the redis crate's errors into elect's codes.

use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, Client, ClientTlsConfig, ConnectionAddr, IntoConnectionInfo,
    RedisConnectionInfo, RedisError, TlsCertificates,
};
use tokio::sync::Mutex;

use super::options::RedisOptions;
use crate::error::{Error, ErrorCode, Result};
use crate::uri::{Config, Scheme};

/// One multiplexed connection, shared by every election on the store. Requests from many
/// elections are written back to back on it (pipelined by the redis crate). When it breaks
/// (server restart, network), the call that saw the failure reports `Unreachable` and the next
/// call opens a fresh connection: leaders step down at once, candidates retry.
pub struct Conn {
    client: Client,
    config: AsyncConnectionConfig,
    what: String,
    current: Mutex<Option<MultiplexedConnection>>,
}

impl Conn {
    /// Builds the client from `config` without connecting.
    pub fn new(config: &Config) -> Result<Conn> {
        let client = client(config)?;
        let async_config = AsyncConnectionConfig::new()
            // Less than the whole open's bound, so that a connection that fails by silence
            // (TLS to a plain server) leaves time to find out why (`explain`).
            .set_connection_timeout(Some(config.connect_timeout * 2 / 3))
            // A request the server does not answer within connect_timeout fails with Timeout;
            // the engine then retries renewals until the lease deadline.
            .set_response_timeout(Some(config.connect_timeout));
        Ok(Conn {
            client,
            config: async_config,
            what: format!("redis at {config}"),
            current: Mutex::new(None),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The open connection, connecting first if there is none.
    pub async fn get(&self) -> Result<MultiplexedConnection> {
        let mut current = self.current.lock().await;
        if let Some(c) = current.as_ref() {
            return Ok(c.clone());
        }
        let c = self
            .client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await
            .map_err(|e| self.error(e))?;
        *current = Some(c.clone());
        Ok(c)
    }

    /// Translates `e`; a broken connection is dropped so that the next call reconnects.
    pub async fn failed(&self, e: RedisError) -> Error {
        if broken(&e) {
            *self.current.lock().await = None;
        }
        self.error(e)
    }

    pub fn error(&self, e: RedisError) -> Error {
        translate(&self.what, e)
    }
}

/// `e`, the first connection's failure, with the reason when it is a TLS mismatch: a plain
/// client of a TLS-only server sees a reset, a TLS client of a plain server silence.
pub async fn explain(e: Error, config: &Config) -> Error {
    if !matches!(e.code(), ErrorCode::Unreachable | ErrorCode::Timeout) {
        return e;
    }
    let tls = config.scheme == Scheme::Rediss;
    let host = config.hosts[0].clone();
    let timeout = config.connect_timeout / 4;
    let speaks =
        tokio::task::spawn_blocking(move || crate::backend::tls::speaks_tls(&host, timeout));
    let why = match (tls, speaks.await) {
        (true, Ok(Some(false))) => {
            "the server does not answer a TLS handshake: it may not serve TLS on this port \
             (redis:// connects without TLS)"
        }
        (false, Ok(Some(true))) => {
            "the server answers TLS: connect with rediss:// (and the CA in option `tls_ca`)"
        }
        _ => return e,
    };
    Error::new(e.code(), format!("{}; {why}", e.message()))
}

/// Whether `e` means the connection itself is gone (rather than one command failing).
fn broken(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_unrecoverable_error()
}

/// The redis crate's error as an elect error. Messages come from the server or the socket and
/// never contain the password (it is only ever sent, in AUTH).
pub fn translate(what: &str, e: RedisError) -> Error {
    let code = e.code().unwrap_or("");
    let detail = e.to_string();
    if e.kind() == redis::ErrorKind::AuthenticationFailed || matches!(code, "WRONGPASS" | "NOAUTH")
    {
        return Error::new(
            ErrorCode::Auth,
            format!("{what}: authentication failed (check user and password): {detail}"),
        );
    }
    if code == "NOPERM" {
        return Error::new(
            ErrorCode::Permission,
            format!("{what}: the user may not run elect's commands (needs EVALSHA/EVAL, keys under the prefix, PUBLISH/PSUBSCRIBE): {detail}"),
        );
    }
    if detail.contains("DB index is out of range") {
        return Error::invalid(format!(
            "{what}: path (db index): the server has no such database: {detail}"
        ));
    }
    if e.is_timeout() {
        return Error::new(ErrorCode::Timeout, format!("{what}: {detail}"));
    }
    if broken(&e) {
        return Error::unreachable(format!("{what}: {detail}"));
    }
    Error::store(format!("{what}: {detail}"))
}

/// The redis crate's client for `config`: one host, the db index from the path, ACL user and
/// password, `rediss://` for TLS (system roots, or the PEM file of option `tls_ca`; a client
/// certificate from `tls_cert` and `tls_key`).
fn client(config: &Config) -> Result<Client> {
    let [host] = config.hosts.as_slice() else {
        return Err(Error::invalid(format!(
            "host: redis takes exactly one `host:port` (got {}); elect does not support Redis Cluster or Sentinel",
            config.hosts.len()
        )));
    };
    let db = db_index(&config.path)?;
    let tls = config.scheme == Scheme::Rediss;
    let addr = if tls {
        ConnectionAddr::TcpTls {
            host: host.host.clone(),
            port: host.port,
            insecure: false,
            tls_params: None,
        }
    } else {
        ConnectionAddr::Tcp(host.host.clone(), host.port)
    };
    let mut redis_info = RedisConnectionInfo::default().set_db(db);
    if let Some(user) = &config.user {
        redis_info = redis_info.set_username(user);
    }
    if let Some(password) = &config.password {
        redis_info = redis_info.set_password(password.expose());
    }
    let info = addr
        .into_connection_info()
        .map_err(|e| Error::invalid(format!("host {}: {e}", config.hosts_shown())))?
        .set_redis_settings(redis_info)
        // Handover latency is a few round trips: do not let Nagle hold them back.
        .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
    if tls {
        crate::backend::tls::ensure_crypto_provider();
    }
    let options = config.store_options::<RedisOptions>()?;
    let read = |option: &str, path: &str| {
        std::fs::read(path)
            .map_err(|e| Error::invalid(format!("option `{option}`: cannot read `{path}`: {e}")))
    };
    let client_tls = match &options.tls_identity {
        Some((cert, key)) => Some(ClientTlsConfig {
            client_cert: read("tls_cert", cert)?,
            client_key: read("tls_key", key)?,
        }),
        None => None,
    };
    let root_cert = match &options.tls_ca {
        Some(path) => Some(read("tls_ca", path)?),
        None => None,
    };
    let built = if root_cert.is_some() || client_tls.is_some() {
        Client::build_with_tls(
            info,
            TlsCertificates {
                client_tls,
                root_cert,
            },
        )
    } else {
        Client::open(info)
    };
    built.map_err(|e| Error::invalid(format!("{config}: {e}")))
}

/// The db index from the URI path: empty means 0.
fn db_index(path: &str) -> Result<i64> {
    if path.is_empty() {
        return Ok(0);
    }
    path.parse::<u32>().map(i64::from).map_err(|_| {
        Error::invalid(format!(
            "path `/{path}`: expected a database index, e.g. `redis://host:6379/0`"
        ))
    })
}
