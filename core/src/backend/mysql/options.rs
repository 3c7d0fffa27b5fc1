//! The mysql store's options, parsed once from the connection string.

use std::sync::Arc;

use crate::backend::registry::StoreOptions;
use crate::backend::sql::options::check_table;
pub use crate::backend::sql::options::SslMode;
use crate::error::{Error, Result};
use crate::uri::Config;

/// Option names, beyond the common ones.
pub const NAMES: &[&str] = &[
    "table",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "handover",
];

/// The table used when the `table` option is not given.
const DEFAULT_TABLE: &str = "elect_leases";

/// Longest accepted `table`, so that `<table>_members` fits MySQL's 64-byte identifiers.
const MAX_TABLE: usize = 56;

/// Values of `handover`: how a waiting candidate learns that the lease was released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handover {
    /// Waiters block in `GET_LOCK` on the election's named lock, which the leader releases.
    Lock,
    /// Waiters read the lease in the renewal rounds (every `renew`): for servers or proxies
    /// without session-level named locks (some Galera versions, multiplexing proxies).
    Poll,
}

#[derive(Debug, Clone)]
pub struct MysqlOptions {
    /// `table`: name of the lease table in the connection's database. Default `elect_leases`.
    pub table: String,
    /// `sslmode`, default `prefer`.
    pub sslmode: SslMode,
    /// `sslrootcert`: PEM file of the CA to verify the server with.
    pub sslrootcert: Option<String>,
    /// `sslcert` and `sslkey`: PEM files of a client certificate and its key; both or neither.
    pub identity: Option<(String, String)>,
    /// `handover`, default `lock`.
    pub handover: Handover,
}

pub fn parse(config: &Config) -> Result<StoreOptions> {
    let get = |k: &str| config.params.get(k).map(String::as_str);
    let table = get("table").unwrap_or(DEFAULT_TABLE);
    check_table(table, MAX_TABLE, 1, "a name")?;
    let sslmode = SslMode::parse(get("sslmode").unwrap_or("prefer"))?;
    let sslrootcert = get("sslrootcert").map(str::to_string);
    if sslmode == SslMode::VerifyCa && sslrootcert.is_none() {
        return Err(Error::invalid(crate::backend::tls::VERIFY_CA_NEEDS_ROOT));
    }
    let identity = crate::backend::tls::ssl_identity(get("sslcert"), get("sslkey"))?;
    let handover = match get("handover").unwrap_or("lock") {
        "lock" => Handover::Lock,
        "poll" => Handover::Poll,
        other => {
            return Err(Error::invalid(format!(
                "option `handover`: bad value `{other}`: expected lock or poll"
            )))
        }
    };
    Ok(Arc::new(MysqlOptions {
        table: table.to_string(),
        sslmode,
        sslrootcert,
        identity,
        handover,
    }))
}
