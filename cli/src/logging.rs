//! The CLI's log: core's records on stderr, one line each, at the level of `--log-level` or
//! `ELECT_LOG` (`off`, `error`, `warn`, `info`, `debug`, `trace`).
//!
//! ```text
//! 2026-11-22T02:24:16.123Z WARN elect_core::event_log: revoked: leadership lost election=job store=redis://127.0.0.1:6379/0 id=web-1 term=7 reason=store_unreachable
//! ```

use std::io::Write;
use std::time::Duration;

use elect_core::log_bridge::{self, Level, Record};

use crate::clock;

/// Parses a `--log-level` value: a level, or `off` (`None`).
pub fn parse_level(s: &str) -> Result<Option<Level>, String> {
    if s.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    Level::parse(s).map(Some).ok_or_else(|| {
        format!("`{s}` is not a log level (expected off, error, warn, info, debug or trace)")
    })
}

/// Writes core's records at `level` and more severe to stderr from now on.
pub fn to_stderr(level: Option<Level>) {
    let Some(level) = level else { return };
    log_bridge::set_sink(
        Some(Box::new(|r: &Record| {
            let _ = writeln!(std::io::stderr().lock(), "{} {r}", clock::utc_now());
        })),
        level,
    );
}

/// Lets the records queued so far reach stderr before the process exits.
pub fn flush() {
    if log_bridge::level().is_some() {
        log_bridge::flush(Duration::from_secs(1));
    }
}
