//! What every benchmark binary of `bench/` shares: its command line ([`runner`]), the failover
//! rounds among agent processes ([`failover`]), and the one definition of median and p99
//! ([`stats`]).

pub mod failover;
pub mod procfs;
pub mod runner;
pub mod stats;
