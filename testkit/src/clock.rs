//! The clock of measurements across processes.

/// `CLOCK_MONOTONIC` in nanoseconds. The same clock in every process of the machine, so an
/// event stamped in one process can be compared with a kill stamped in another.
pub fn monotonic_ns() -> u64 {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
