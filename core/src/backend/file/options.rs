//! The file store's options, parsed once from the connection string.

use std::sync::Arc;

use crate::backend::registry::StoreOptions;
use crate::error::{Error, Result};
use crate::uri::Config;

/// Option names, beyond the common ones.
pub const NAMES: &[&str] = &["sync"];

#[derive(Debug, Clone)]
pub struct FileOptions {
    /// `sync=false` skips the `fsync` of the fencing ceiling: a machine crash (not a process
    /// crash) may then hand out a term again.
    pub sync: bool,
}

pub fn parse(config: &Config) -> Result<StoreOptions> {
    let sync = match config.params.get("sync").map(String::as_str) {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return Err(Error::invalid(format!(
                "option `sync`: bad value `{other}`: expected true or false"
            )))
        }
    };
    Ok(Arc::new(FileOptions { sync }))
}
