//! The ZooKeeper store's options, parsed once from the connection string.

use std::sync::Arc;

use super::acl::AclMode;
use crate::backend::registry::StoreOptions;
use crate::error::{Error, Result};
use crate::uri::Config;

/// Option names, beyond the common ones: `acl`, and `ca`, `cert`, `key` (PEM files: TLS, as
/// for etcd).
pub const NAMES: &[&str] = &["acl", "ca", "cert", "key"];

#[derive(Debug, Clone)]
pub struct ZkOptions {
    /// `acl=open|read|private`; default `read` with credentials, `open` without.
    pub acl: AclMode,
    /// `ca`, `cert`, `key`: TLS when `ca` is set.
    pub tls: crate::backend::tls::PemOptions,
}

pub fn parse(config: &Config) -> Result<StoreOptions> {
    let authenticated = config.user.is_some();
    let acl = match config.params.get("acl").map(String::as_str) {
        None if authenticated => AclMode::Read,
        None | Some("open") => AclMode::Open,
        Some(mode @ ("read" | "private")) if !authenticated => {
            return Err(Error::invalid(format!(
                "option `acl`: `{mode}` needs credentials (`zk://user:password@host/...`)"
            )))
        }
        Some("read") => AclMode::Read,
        Some("private") => AclMode::Private,
        Some(other) => {
            return Err(Error::invalid(format!(
                "option `acl`: bad value `{other}`: expected open, read or private"
            )))
        }
    };
    let tls = crate::backend::tls::pem_options(config, "ZooKeeper servers'")?;
    Ok(Arc::new(ZkOptions { acl, tls }))
}
