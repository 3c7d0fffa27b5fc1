//! FNV-1a, 64 bits: a hash that is the same in every process and version (unlike std's, which
//! is seeded per process), for names shared through a store (channel and lock names) and for
//! telling a torn write from a whole one. Written out rather than taken from a crate because it
//! is six lines and guards nothing against an adversary.

pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
