//! The PostgreSQL store's options, parsed once from the connection string.

use std::sync::Arc;

use crate::backend::registry::StoreOptions;
use crate::error::{Error, Result};
use crate::uri::Config;

/// Option names, beyond the common ones.
pub const NAMES: &[&str] = &["table", "sslmode", "sslrootcert"];

/// The table used when the `table` option is not given.
const DEFAULT_TABLE: &str = "elect_leases";

/// Longest `table`: the members table and the channel names add to it, within PostgreSQL's 63
/// bytes per identifier.
const MAX_TABLE: usize = 40;

/// Values of `sslmode` (libpq's words, see `tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyFull,
}

#[derive(Debug, Clone)]
pub struct PgOptions {
    /// `table`: `name` or `schema.name` of the lease table. Default `elect_leases`.
    pub table: String,
    /// `sslmode`, default `prefer`.
    pub sslmode: SslMode,
    /// `sslrootcert`: PEM file of the CA to verify the server with.
    pub sslrootcert: Option<String>,
}

pub fn parse(config: &Config) -> Result<StoreOptions> {
    let get = |k: &str| config.params.get(k).map(String::as_str);
    let table = get("table").unwrap_or(DEFAULT_TABLE);
    let bad = |why: &str| Error::invalid(format!("option `table`: bad value `{table}`: {why}"));
    if table.len() > MAX_TABLE {
        return Err(bad(&format!("longer than {MAX_TABLE} bytes")));
    }
    let parts: Vec<&str> = table.split('.').collect();
    if parts.len() > 2 || parts.iter().any(|p| !is_plain_identifier(p)) {
        return Err(bad(
            "expected `name` or `schema.name` of lower-case letters, digits and `_`",
        ));
    }
    let sslmode = match get("sslmode").unwrap_or("prefer") {
        "disable" => SslMode::Disable,
        "prefer" => SslMode::Prefer,
        "require" => SslMode::Require,
        "verify-full" => SslMode::VerifyFull,
        other => {
            return Err(Error::invalid(format!(
                "option `sslmode`: bad value `{other}`: expected disable, prefer, require or verify-full"
            )))
        }
    };
    Ok(Arc::new(PgOptions {
        table: table.to_string(),
        sslmode,
        sslrootcert: get("sslrootcert").map(str::to_string),
    }))
}

fn is_plain_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
