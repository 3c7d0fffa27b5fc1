//! The resource side of elect's fencing tokens: writes that a leader whose term is over cannot
//! make. Each guard keeps the highest token seen next to the data and rejects a lower one
//! atomically with the write (docs/fencing.md, the design every language's kit shares).
//!
//! - [`postgres`]: a fence row per resource, raised in the write's transaction (tokio-postgres).
//! - [`mysql`]: the same on MySQL or MariaDB (mysql_async).
//! - [`etcd`]: a fence key compared in the write's `Txn`.
//! - [`redis`]: a fence key checked in the script that writes.
//! - [`http`]: the two request headers on the client side and, on the server, a `tower` layer
//!   that answers an older token with 409 (feature `http`).
//!
//! A rejected write returns [`Error::Stale`]: the leader has lost its term and should stop the
//! term's work.

mod error;
#[cfg(feature = "etcd")]
pub mod etcd;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "redis")]
pub mod redis;

pub use error::{Error, Stale};
