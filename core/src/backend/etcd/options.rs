//! The etcd store's options, parsed once from the connection string.

use std::sync::Arc;

use crate::backend::registry::StoreOptions;
use crate::error::Result;
use crate::uri::Config;

/// Option names, beyond the common ones.
pub const NAMES: &[&str] = &["ca", "cert", "key"];

/// PEM files, read when the connection opens. Any of them switches the endpoints to TLS.
pub type EtcdOptions = crate::backend::tls::PemOptions;

pub fn parse(config: &Config) -> Result<StoreOptions> {
    Ok(Arc::new(crate::backend::tls::pem_options(
        config,
        "etcd servers'",
    )?))
}
