//! What every benchmark binary of `bench/` shares: its command line ([`runner`]), the failover
//! rounds among agent processes ([`failover`]), the one definition of median and p99
//! ([`stats`]), and the JSON result lines of `scripts/bench` ([`result`]).

pub mod failover;
pub mod procfs;
pub mod result;
pub mod runner;
pub mod stats;
