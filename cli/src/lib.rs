//! The `elect` command as a library, so that the benchmarks in `bench/` can run the same agent
//! and drive candidates the same way the demo does. `main.rs` only parses arguments.

pub mod agent;
pub mod child;
pub mod clock;
pub mod demo;
pub mod exit;
pub mod logging;
pub mod metrics;
pub mod observe;
pub mod options;
pub mod run;
pub mod signals;
