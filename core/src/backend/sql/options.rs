//! What the two SQL stores' options share: libpq's `sslmode` words, and lease-table names
//! plain enough to stand unquoted in every statement.

use crate::error::{Error, Result};

/// Values of `sslmode` (libpq's words; each store's TLS setup says what they check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    /// Parses the value of option `sslmode`.
    pub fn parse(word: &str) -> Result<SslMode> {
        Ok(match word {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(Error::invalid(format!(
                    "option `sslmode`: bad value `{other}`: expected disable, prefer, require, \
                     verify-ca or verify-full"
                )))
            }
        })
    }
}

/// Checks option `table`: at most `max` bytes (the store's identifier limit, less what its
/// derived names add), made of `parts` plain identifiers joined by `.` (at most, at least one).
pub fn check_table(table: &str, max: usize, parts: usize, expected: &str) -> Result<()> {
    let bad = |why: &str| Error::invalid(format!("option `table`: bad value `{table}`: {why}"));
    if table.len() > max {
        return Err(bad(&format!("longer than {max} bytes")));
    }
    let names: Vec<&str> = table.split('.').collect();
    if names.len() > parts || !names.iter().all(|n| is_plain_identifier(n)) {
        return Err(bad(&format!(
            "expected {expected} of lower-case letters, digits and `_`"
        )));
    }
    Ok(())
}

/// A lower-case letter or `_`, then lower-case letters, digits and `_`.
fn is_plain_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
