//! elect's test and benchmark harness, shared by the tests of every crate, the benchmarks and
//! the demo:
//!
//! - [`server`]: the real servers of `scripts/servers/*`, one fixture for every store;
//! - [`fleet`] and [`agent`]: candidates in other processes, driven over the agent protocol;
//! - [`wait`]: waiting on elections of this process;
//! - [`contract`]: the behaviour every store must show, run against each of them ([`succession`]:
//!   who leads next: priority, hand-off, hold-off, stickiness);
//! - [`group`]: the group (many elections spread over instances), on any store;
//! - [`fenced`]: a resource that only takes writes with the highest fencing token.

pub mod agent;
pub mod clock;
pub mod contract;
pub mod fenced;
pub mod fleet;
pub mod group;
pub mod mysql;
pub mod postgres;
pub mod redis;
pub mod server;
pub mod sql;
pub mod succession;
pub mod wait;
pub mod zookeeper;

pub use server::{Server, Store};
