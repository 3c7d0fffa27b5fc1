//! Turning a [`Config`] into an etcd client: endpoints, TLS, credentials, and the mapping of
//! etcd's errors onto elect's codes.

use std::time::Duration;

use etcd_client::{Certificate, Client, ConnectOptions, Identity, TlsOptions};

use super::options::EtcdOptions;
use crate::backend::tls;
use crate::error::{Error, ErrorCode, Result};
use crate::uri::Config;

/// HTTP/2 pings keep a dead connection from hanging a watch forever. etcd answers pings more
/// frequent than `--grpc-keepalive-min-time` (default 5 s) with GOAWAY, so never go below it.
const PING_INTERVAL: Duration = Duration::from_secs(10);

/// Builds the client. The channel connects lazily, so this alone proves nothing about the
/// server; except with credentials: then etcd-client authenticates here, and a wrong password
/// fails now, once, as `Auth`.
pub async fn client(config: &Config) -> Result<Client> {
    let tls = tls_options(config)?;
    let endpoints: Vec<String> = config
        .hosts
        .iter()
        .map(|h| match tls {
            Some(_) => format!("https://{h}"),
            None => format!("http://{h}"),
        })
        .collect();
    let mut options = ConnectOptions::new()
        .with_connect_timeout(config.connect_timeout)
        .with_keep_alive(PING_INTERVAL, config.connect_timeout)
        .with_keep_alive_while_idle(true)
        // Without a Raft leader a member cannot serve linearizable requests; with this flag its
        // watches are cancelled instead of silently stalling, so waiters look elsewhere.
        .with_require_leader(true);
    if let Some(tls) = tls {
        options = options.with_tls(tls);
    }
    if config.user.is_none() && config.password.is_some() {
        // etcd authenticates a user; a password alone would be dropped without a word.
        return Err(Error::invalid(
            "user: etcd:// needs a user name before `:password@`",
        ));
    }
    if let Some(user) = &config.user {
        let password = config.password.as_ref().map(|p| p.expose()).unwrap_or("");
        options = options
            .with_user(user.clone(), password.to_string())
            .with_auto_token_refresh(true);
    }
    Client::connect(endpoints, Some(options))
        .await
        .map_err(|e| at_open(config, map_err(e, "authenticate")))
}

/// An error from opening the connection, with the (redacted) URI and what to check.
pub fn at_open(config: &Config, e: Error) -> Error {
    let tls = config.store_options::<EtcdOptions>().ok();
    let hint = match e.code() {
        // A server that wants a client certificate may just close the connection (TLS 1.3
        // lets the client finish its handshake first), so say what it may want.
        ErrorCode::Unreachable => match tls.map(|t| (t.ca.is_some(), t.identity.is_some())) {
            Some((true, false)) => {
                " (check the endpoints and `ca`; if the servers require client certificates \
                 (`--client-cert-auth`), give `cert` and `key`)"
            }
            Some((false, _)) => {
                " (check the endpoints; if they serve TLS, give their CA with `ca`, and `cert` \
                 and `key` if they require client certificates)"
            }
            _ => " (check the endpoints, and `ca`, `cert` and `key` if they serve TLS)",
        },
        ErrorCode::Auth if config.user.is_none() => {
            " (the server requires authentication: put `user:password@` in the URI)"
        }
        ErrorCode::Auth => " (check the user and password in the URI)",
        _ => "",
    };
    Error::new(e.code(), format!("{config}: {e}{hint}"))
}

/// The TLS settings of the `ca`, `cert` and `key` options, their files read now.
fn tls_options(config: &Config) -> Result<Option<TlsOptions>> {
    let options = config.store_options::<EtcdOptions>()?;
    let Some(ca) = &options.ca else {
        return Ok(None);
    };
    let mut tls = TlsOptions::new().ca_certificate(Certificate::from_pem(tls::read_pem("ca", ca)?));
    if let Some((cert, key)) = &options.identity {
        tls = tls.identity(Identity::from_pem(
            tls::read_pem("cert", cert)?,
            tls::read_pem("key", key)?,
        ));
    }
    Ok(Some(tls))
}

/// gRPC status codes (fixed by the gRPC spec), so that core need not depend on tonic itself.
const GRPC_CANCELLED: i32 = 1;
const GRPC_UNKNOWN: i32 = 2;
const GRPC_DEADLINE_EXCEEDED: i32 = 4;
const GRPC_PERMISSION_DENIED: i32 = 7;
const GRPC_UNAVAILABLE: i32 = 14;
const GRPC_UNAUTHENTICATED: i32 = 16;

/// Maps an etcd-client error onto elect's codes; `what` names the operation.
///
/// etcd reports a bad password as `InvalidArgument` with "authentication failed", an expired or
/// missing token as `Unauthenticated`/"user name is empty", and an expired lease as
/// "requested lease not found": those get their own codes so the engine reacts to them.
pub fn map_err(e: etcd_client::Error, what: &str) -> Error {
    use etcd_client::Error as E;
    match e {
        E::GRpcStatus(status) => {
            let msg = status.message();
            let grpc = i32::from(status.code());
            let code = if msg.contains("authentication failed")
                || msg.contains("invalid auth token")
                || msg.contains("user name is empty")
                || grpc == GRPC_UNAUTHENTICATED
            {
                ErrorCode::Auth
            } else if msg.contains("permission denied") || grpc == GRPC_PERMISSION_DENIED {
                ErrorCode::Permission
            } else if msg.contains("requested lease not found") {
                ErrorCode::NotLeader
            } else {
                match grpc {
                    GRPC_UNAVAILABLE => ErrorCode::Unreachable,
                    GRPC_DEADLINE_EXCEEDED => ErrorCode::Timeout,
                    // The connection itself failed (reset, TLS mismatch, closed by the peer):
                    // tonic reports that as a status carrying the transport error.
                    GRPC_CANCELLED | GRPC_UNKNOWN
                        if std::error::Error::source(&status).is_some() =>
                    {
                        ErrorCode::Unreachable
                    }
                    _ => ErrorCode::Store,
                }
            };
            Error::new(code, format!("etcd {what}: {}", with_causes(msg, &status)))
        }
        E::TransportError(t) => Error::unreachable(format!("etcd {what}: {t}")),
        E::LeaseKeepAliveError(m) if m.contains("lease not found") => Error::new(
            ErrorCode::NotLeader,
            format!("etcd {what}: the lease expired"),
        ),
        E::InvalidArgs(m) => Error::invalid(format!("etcd {what}: {m}")),
        E::InvalidUri(u) => Error::invalid(format!("host: {u}")),
        other => Error::store(format!("etcd {what}: {other}")),
    }
}

/// A status message followed by its chain of causes (`transport error: broken pipe`), which is
/// where the useful part of a connection failure is.
fn with_causes(message: &str, err: &dyn std::error::Error) -> String {
    let mut text = message.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let s = c.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        cause = c.source();
    }
    text
}

/// Bounds one request by `limit`: a stopped (not crashed) server never answers, and a campaign
/// must be able to retry rather than hang.
pub async fn bounded<T>(
    limit: Duration,
    what: &str,
    fut: impl std::future::Future<Output = std::result::Result<T, etcd_client::Error>>,
) -> Result<T> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r.map_err(|e| map_err(e, what)),
        Err(_) => Err(Error::new(
            ErrorCode::Timeout,
            format!(
                "etcd {what}: no answer within {}",
                crate::uri::fmt_duration(limit)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_without_a_user_is_refused_not_dropped() {
        let config = Config::parse("etcd://:s3cret@127.0.0.1:1/p").unwrap();
        let err = crate::runtime::block_on(async move { client(&config).await.err() })
            .unwrap()
            .expect("connected");
        assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
        assert!(err.message().contains("needs a user name"), "{err}");
    }
}
