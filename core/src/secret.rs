//! A string that never prints itself.

use std::fmt;

/// A password or other credential. `Debug` and `Display` print `***`, so a secret cannot leak
/// through a log line, an error message or a `{:?}` of a struct that holds it. The value is
/// reachable only through [`Secret::expose`], which is easy to grep for.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}
