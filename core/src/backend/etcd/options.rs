//! The etcd store's options, parsed once from the connection string.

use std::sync::Arc;

use crate::backend::registry::StoreOptions;
use crate::error::{Error, Result};
use crate::uri::Config;

/// Option names, beyond the common ones.
pub const NAMES: &[&str] = &["ca", "cert", "key"];

/// PEM files, read when the connection opens. Any of them switches the endpoints to TLS.
#[derive(Debug, Clone, Default)]
pub struct EtcdOptions {
    /// `ca`: the CA that signed the servers' certificates (required for TLS: this build carries
    /// no system trust store).
    pub ca: Option<String>,
    /// `cert` and `key`: a client certificate and its key, for servers that require one; both
    /// or neither.
    pub identity: Option<(String, String)>,
}

pub fn parse(config: &Config) -> Result<StoreOptions> {
    let get = |k: &str| config.params.get(k).cloned();
    let (ca, cert, key) = (get("ca"), get("cert"), get("key"));
    if ca.is_none() && (cert.is_some() || key.is_some()) {
        return Err(Error::invalid(
            "option `ca`: required for TLS: the PEM file of the CA that signed the etcd servers' certificates",
        ));
    }
    let identity = match (cert, key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        (Some(_), None) => return Err(Error::invalid("option `cert`: needs `key` as well")),
        (None, Some(_)) => return Err(Error::invalid("option `key`: needs `cert` as well")),
    };
    Ok(Arc::new(EtcdOptions { ca, identity }))
}
