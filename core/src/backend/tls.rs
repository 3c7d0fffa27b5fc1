//! What the TLS setups of etcd and ZooKeeper share: options `ca`, `cert` and `key` (PEM files,
//! any of them switches the connection to TLS), and, for the clients that build their rustls
//! configuration from the process-wide default, the choice of that default.

#[cfg(any(feature = "etcd", feature = "zookeeper"))]
use crate::error::{Error, Result};
#[cfg(any(feature = "etcd", feature = "zookeeper"))]
use crate::uri::Config;

#[cfg(any(feature = "etcd", feature = "zookeeper"))]
/// The PEM files options `ca`, `cert` and `key` name, read.
pub struct PemFiles {
    pub ca: Vec<u8>,
    /// The client certificate (chain) and its key.
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

#[cfg(any(feature = "etcd", feature = "zookeeper"))]
/// `None` when none of `ca`, `cert` and `key` is set (no TLS). `servers` names them in
/// messages (`etcd servers'`).
pub fn pem_files(config: &Config, servers: &str) -> Result<Option<PemFiles>> {
    let (ca, cert, key) = (
        config.param("ca"),
        config.param("cert"),
        config.param("key"),
    );
    if ca.is_none() && cert.is_none() && key.is_none() {
        return Ok(None);
    }
    // The system's trust store is not consulted: the CA that signed the server is required.
    let ca = ca.ok_or_else(|| {
        Error::invalid(format!(
            "option `ca`: required for TLS: the PEM file of the CA that signed the {servers} certificates"
        ))
    })?;
    let identity = match (cert, key) {
        (Some(cert), Some(key)) => Some((read_pem("cert", cert)?, read_pem("key", key)?)),
        (None, None) => None,
        (Some(_), None) => return Err(Error::invalid("option `cert`: needs `key` as well")),
        (None, Some(_)) => return Err(Error::invalid("option `key`: needs `cert` as well")),
    };
    Ok(Some(PemFiles {
        ca: read_pem("ca", ca)?,
        identity,
    }))
}

#[cfg(any(feature = "etcd", feature = "zookeeper"))]
fn read_pem(option: &str, path: &str) -> Result<Vec<u8>> {
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
