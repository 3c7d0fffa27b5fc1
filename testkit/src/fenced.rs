//! The storage a leader protects with its fencing token.

/// A resource that accepts a write only with the highest token it has seen.
#[derive(Default)]
pub struct Fenced {
    highest: u64,
}

impl Fenced {
    /// True if accepted: `token` is at least the highest seen so far.
    pub fn write(&mut self, token: u64) -> bool {
        if token < self.highest {
            return false;
        }
        self.highest = token;
        true
    }
}
