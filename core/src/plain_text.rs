//! The warning that credentials are about to travel without TLS to a host off this machine.
//!
//! A password in a connection string says the store is protected; sending it (or a token
//! derived from it, as etcd's) in plain text over a network undoes that for anyone on the path.
//! elect still connects, as the store's own clients do, but says so once per `open` with a
//! `tracing` warning (target `elect_core::plain_text`) that every binding passes on to its
//! logging. It names the store, the election and the connection string as `Display` shows it:
//! hosts after a password only by count (see [`Config::hosts_shown`]), never the secret.

use std::net::IpAddr;

use crate::uri::{Config, Scheme};

/// Logs the warning if `config` sends credentials in plain text to a host that is not loopback.
pub(crate) fn warn_if_exposed(config: &Config, election: &str) {
    if !sends_credentials(config) || encrypted(config) || config.hosts.iter().all(is_loopback) {
        return;
    }
    let store = config.scheme.as_str();
    tracing::warn!(
        store,
        election,
        hosts = %config.hosts_shown(),
        "{store}: election `{election}` sends its credentials without TLS to a host that is not \
         loopback ({config}): anyone on the network path can read them; {}",
        remedy(config.scheme)
    );
}

/// Whether the store is handed a password (or, for etcd, a user whose token goes with every
/// request).
fn sends_credentials(config: &Config) -> bool {
    config.password.is_some() || (config.scheme == Scheme::Etcd && config.user.is_some())
}

/// Whether the connection is sure to use TLS before any credential is sent. PostgreSQL's and
/// MySQL's `prefer` may fall back to plain text, so only `disable` counts as plain; PostgreSQL's
/// password exchange is SCRAM or md5 by default, but the session that follows is readable all
/// the same.
fn encrypted(config: &Config) -> bool {
    let param = |k: &str| config.params.get(k).map(String::as_str);
    match config.scheme {
        Scheme::File | Scheme::Rediss => true,
        Scheme::Redis => false,
        Scheme::Etcd | Scheme::Zk => ["ca", "cert", "key"].iter().any(|k| param(k).is_some()),
        Scheme::Postgres | Scheme::Mysql => param("sslmode") != Some("disable"),
    }
}

fn remedy(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::Etcd | Scheme::Zk => "give the servers' CA with option `ca`",
        Scheme::Redis => "use rediss:// (with `tls_ca` for a private CA)",
        Scheme::Postgres | Scheme::Mysql => "use sslmode=verify-full",
        Scheme::File | Scheme::Rediss => "",
    }
}

fn is_loopback(host: &crate::uri::HostPort) -> bool {
    host.host.eq_ignore_ascii_case("localhost")
        || host.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}
