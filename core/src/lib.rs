//! elect-core: one leader-election engine, many stores, no FFI types.
//!
//! ```no_run
//! let e = elect_core::Election::open("file:///tmp/elect?ttl=5s", "billing-cron", None)?;
//! e.start()?;
//! if e.wait_leader(Some(std::time::Duration::from_secs(30)))? {
//!     let token = e.fencing_token(); // hand this to every resource you write
//! }
//! # Ok::<(), elect_core::Error>(())
//! ```
//!
//! See `docs/DESIGN.md` (in the repository) for the semantics every binding shares.

pub mod backend;
mod clock;
mod dispatcher;
pub mod duration;
mod election;
mod engine;
mod error;
mod event;
mod event_log;
mod fork;
mod interrupt;
mod lease;
pub mod log_bridge;
mod metrics;
pub mod options;
mod plain_text;
mod random;
pub mod runtime;
mod secret;
pub mod succession;
mod term;
pub mod uri;

pub use dispatcher::Handler;
pub use election::{validate_name, Election};
pub use error::{panic_message, Error, ErrorCode, Result};
pub use event::{Event, EventKind, LeaderInfo, Member, RevokeReason};
pub use fork::after_fork_in_child;
pub use interrupt::{Interrupt, Waited};
pub use lease::State;
pub use metrics::{Health, Stats};
pub use secret::Secret;
pub use term::Term;
pub use uri::Config;

/// The library version, as in Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
