//! What the TLS setups of etcd and ZooKeeper share: options `ca`, `cert` and `key` (PEM files,
//! any of them switches the connection to TLS), and, for the clients that build their rustls
//! configuration from the process-wide default, the choice of that default.

#[cfg(any(feature = "etcd", feature = "zookeeper"))]
use crate::error::{Error, Result};
#[cfg(any(feature = "etcd", feature = "zookeeper"))]
use crate::uri::Config;

/// Options `ca`, `cert` and `key`, checked, their files not read yet.
#[cfg(any(feature = "etcd", feature = "zookeeper"))]
#[derive(Debug, Clone, Default)]
pub struct PemOptions {
    /// `ca`: the CA that signed the servers' certificates (required for TLS: the system's trust
    /// store is not consulted).
    pub ca: Option<String>,
    /// `cert` and `key`: a client certificate and its key, for servers that require one; both
    /// or neither.
    pub identity: Option<(String, String)>,
}

/// Parses `ca`, `cert` and `key`; `servers` names the servers in messages (`etcd servers'`).
#[cfg(any(feature = "etcd", feature = "zookeeper"))]
pub fn pem_options(config: &Config, servers: &str) -> Result<PemOptions> {
    let get = |k: &str| config.params.get(k).cloned();
    let (ca, cert, key) = (get("ca"), get("cert"), get("key"));
    if ca.is_none() && (cert.is_some() || key.is_some()) {
        return Err(Error::invalid(format!(
            "option `ca`: required for TLS: the PEM file of the CA that signed the {servers} certificates"
        )));
    }
    let identity = match (cert, key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        (Some(_), None) => return Err(Error::invalid("option `cert`: needs `key` as well")),
        (None, Some(_)) => return Err(Error::invalid("option `key`: needs `cert` as well")),
    };
    Ok(PemOptions { ca, identity })
}

/// The PEM file that option `option` names, read.
#[cfg(any(feature = "etcd", feature = "zookeeper"))]
pub fn read_pem(option: &str, path: &str) -> Result<Vec<u8>> {
    let pem = std::fs::read(path)
        .map_err(|e| Error::invalid(format!("option `{option}`: cannot read `{path}`: {e}")))?;
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN") {
        return Err(Error::invalid(format!(
            "option `{option}`: `{path}` is not a PEM file"
        )));
    }
    Ok(pem)
}

/// The redis and ZooKeeper clients build their rustls configuration from the process-wide
/// default provider, and this build links two (aws-lc-rs and ring, through different
/// dependencies), so rustls cannot pick one by itself and would panic. Install aws-lc-rs unless
/// the host process already chose one (then `install_default` fails and theirs stays).
#[cfg(any(feature = "redis", feature = "zookeeper"))]
pub fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}
