//! The Redis store's options, parsed once from the connection string.

use std::sync::Arc;

use crate::backend::registry::{Scheme, StoreOptions};
use crate::error::{Error, Result};
use crate::uri::Config;

/// Option names, beyond the common ones.
pub const NAMES: &[&str] = &["prefix", "tls_ca", "tls_cert", "tls_key"];

#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// `prefix` of every key and channel (see `layout`): letters, digits, `_`, `-`, `.`, so that
    /// it can be used verbatim in a subscription pattern. Default `elect`.
    pub prefix: String,
    /// `tls_ca`: PEM file of the CA that signed the server's certificate (`rediss://` only).
    pub tls_ca: Option<String>,
    /// `tls_cert` and `tls_key`: PEM files of a client certificate and its key, for a server
    /// that requires one (`tls-auth-clients yes`); both or neither, `rediss://` only.
    pub tls_identity: Option<(String, String)>,
}

pub fn parse(config: &Config) -> Result<StoreOptions> {
    let prefix = config.params.get("prefix").map_or("elect", String::as_str);
    let ok = !prefix.is_empty()
        && prefix.len() <= 64
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !ok {
        return Err(Error::invalid(format!(
            "option `prefix`: `{prefix}` must be 1 to 64 letters, digits, `_`, `-` or `.`"
        )));
    }
    let tls_ca = config.params.get("tls_ca").cloned();
    if tls_ca.is_some() && config.scheme != Scheme::Rediss {
        return Err(Error::invalid(
            "option `tls_ca`: only meaningful with rediss:// (TLS)",
        ));
    }
    let tls_identity = match (config.params.get("tls_cert"), config.params.get("tls_key")) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        (None, None) => None,
        (Some(_), None) => {
            return Err(Error::invalid("option `tls_cert`: needs `tls_key` as well"))
        }
        (None, Some(_)) => {
            return Err(Error::invalid("option `tls_key`: needs `tls_cert` as well"))
        }
    };
    if tls_identity.is_some() && config.scheme != Scheme::Rediss {
        return Err(Error::invalid(
            "option `tls_cert`: only meaningful with rediss:// (TLS)",
        ));
    }
    Ok(Arc::new(RedisOptions {
        prefix: prefix.to_string(),
        tls_ca,
        tls_identity,
    }))
}
