//! The zookeeper store. Placeholder until its issue lands: the scheme parses, opening fails clearly.

use std::sync::Arc;

use crate::error::{Error, ErrorCode, Result};
use crate::uri::Config;

/// Store-specific query parameters.
pub const OPTIONS: &[&str] = &[];

pub struct ZkBackend;

impl ZkBackend {
    pub async fn open(_config: &Config) -> Result<Arc<dyn super::Backend>> {
        Err(Error::new(
            ErrorCode::Unsupported,
            "the zookeeper store is not implemented yet",
        ))
    }
}
