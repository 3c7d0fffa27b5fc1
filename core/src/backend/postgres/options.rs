//! The PostgreSQL store's options, parsed once from the connection string.

use std::sync::Arc;

use crate::backend::registry::StoreOptions;
use crate::backend::sql::options::check_table;
pub use crate::backend::sql::options::SslMode;
use crate::error::{Error, Result};
use crate::uri::Config;

/// Option names, beyond the common ones.
pub const NAMES: &[&str] = &["table", "sslmode", "sslrootcert", "sslcert", "sslkey"];

/// The table used when the `table` option is not given.
const DEFAULT_TABLE: &str = "elect_leases";

/// Longest `table`: the members table and the channel names add to it, within PostgreSQL's 63
/// bytes per identifier.
const MAX_TABLE: usize = 40;

/// Values of `sslrootcert`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// A PEM file of trusted CAs.
    File(String),
    /// `system`: the system's trusted roots (then only `verify-full`, as in libpq).
    System,
}

#[derive(Debug, Clone)]
pub struct PgOptions {
    /// `table`: `name` or `schema.name` of the lease table. Default `elect_leases`.
    pub table: String,
    /// `sslmode`, default `prefer` (`verify-full` with `sslrootcert=system`).
    pub sslmode: SslMode,
    /// `sslrootcert`: the CAs to verify the server with.
    pub sslrootcert: Option<RootCert>,
    /// `sslcert` and `sslkey`: PEM files of a client certificate and its key; both or neither.
    pub identity: Option<(String, String)>,
}

pub fn parse(config: &Config) -> Result<StoreOptions> {
    let get = |k: &str| config.params.get(k).map(String::as_str);
    let table = get("table").unwrap_or(DEFAULT_TABLE);
    check_table(table, MAX_TABLE, 2, "`name` or `schema.name`")?;
    let sslrootcert = match get("sslrootcert") {
        None => None,
        Some("system") => Some(RootCert::System),
        Some(path) => Some(RootCert::File(path.to_string())),
    };
    let default = match sslrootcert {
        Some(RootCert::System) => "verify-full",
        _ => "prefer",
    };
    let word = get("sslmode").unwrap_or(default);
    let sslmode = SslMode::parse(word)?;
    if sslrootcert == Some(RootCert::System) && sslmode != SslMode::VerifyFull {
        return Err(Error::invalid(format!(
            "option `sslmode`: `{word}` with sslrootcert=system: the system's roots vouch for \
             whatever host names they certified, so only verify-full checks enough (as in libpq)"
        )));
    }
    if sslmode == SslMode::VerifyCa && sslrootcert.is_none() {
        return Err(Error::invalid(crate::backend::tls::VERIFY_CA_NEEDS_ROOT));
    }
    let identity = crate::backend::tls::ssl_identity(get("sslcert"), get("sslkey"))?;
    Ok(Arc::new(PgOptions {
        table: table.to_string(),
        sslmode,
        sslrootcert,
        identity,
    }))
}
