//! Random bits without an extra dependency: the standard library's `RandomState` is seeded from
//! the OS once per process and perturbed per instance; hashing a counter and the clock into it
//! gives fresh values. For uniqueness (candidate tokens, protection suffixes), not secrecy.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// 64 random bits.
pub(crate) fn u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_differ() {
        let v: std::collections::HashSet<u64> = (0..1000).map(|_| super::u64()).collect();
        assert_eq!(v.len(), 1000);
    }
}
