//! The one error type of elect, and the numeric codes every binding maps from.
//!
//! Codes are numbered here and nowhere else. They are part of the C ABI (`elect_status`), of the
//! Java exception table and of the Python exception table, so a code is never renumbered or
//! reused: new codes are appended.

use std::fmt;

/// Stable numeric error codes. `Ok` is the C ABI's `ELECT_OK`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    Ok = 0,
    /// A bad argument: malformed URI, unknown option, bad duration, `renew >= ttl`, NULL pointer.
    InvalidArgument = 1,
    /// The store could not be reached (connection refused, DNS, connect timeout).
    Unreachable = 2,
    /// The store refused our credentials or certificate.
    Auth = 3,
    /// A wait ran out of time.
    Timeout = 4,
    /// The operation needs leadership and this candidate does not lead.
    NotLeader = 5,
    /// The election was closed (or belongs to the parent of a forked process).
    Closed = 6,
    /// The store answered with an error that is not one of the above.
    Store = 7,
    /// The URI names a store that this build does not include.
    Unsupported = 8,
    /// The call is not valid in the election's current state (e.g. `start` after `observe`).
    WrongState = 9,
    /// A bug: a panic caught at a boundary, a poisoned lock.
    Internal = 10,
    /// The store refused an operation for lack of privilege (e.g. a role that may not create
    /// the lease table).
    Permission = 11,
}

impl ErrorCode {
    /// Every code, in numeric order. Bindings check their tables against this list.
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::Ok,
        ErrorCode::InvalidArgument,
        ErrorCode::Unreachable,
        ErrorCode::Auth,
        ErrorCode::Timeout,
        ErrorCode::NotLeader,
        ErrorCode::Closed,
        ErrorCode::Store,
        ErrorCode::Unsupported,
        ErrorCode::WrongState,
        ErrorCode::Internal,
        ErrorCode::Permission,
    ];

    /// Short stable name, used in logs, JSON output and the scenario files.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::Ok => "ok",
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::Unreachable => "unreachable",
            ErrorCode::Auth => "auth",
            ErrorCode::Timeout => "timeout",
            ErrorCode::NotLeader => "not_leader",
            ErrorCode::Closed => "closed",
            ErrorCode::Store => "store",
            ErrorCode::Unsupported => "unsupported",
            ErrorCode::WrongState => "wrong_state",
            ErrorCode::Internal => "internal",
            ErrorCode::Permission => "permission",
        }
    }

    pub fn from_i32(v: i32) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| *c as i32 == v)
    }
}

/// An error with its code and a message meant for people.
///
/// Messages name the offending part ("option `ttl`: ...") and never contain a password: every
/// message that could include store input is built from redacted values (see `uri::Secret`).
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
        }
    }
    pub fn code(&self) -> ErrorCode {
        self.code
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::InvalidArgument, message)
    }
    pub fn unreachable(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Unreachable, message)
    }
    pub fn store(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Store, message)
    }
    pub fn closed() -> Error {
        Error::new(ErrorCode::Closed, "the election is closed")
    }
    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Internal, message)
    }
    /// The same error with `context: ` in front of its message.
    /// The error of a panic caught at a boundary (FFI, JNI): `Internal`, with the panic's text.
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Error {
        Error::internal(format!(
            "internal error (a bug in elect): {}",
            panic_message(payload)
        ))
    }

    pub fn context(self, context: impl fmt::Display) -> Error {
        Error {
            code: self.code,
            message: format!("{context}: {}", self.message),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({}: {})", self.code.name(), self.message)
    }
}

impl std::error::Error for Error {}

/// A refused file (`PermissionDenied`, e.g. the file store's checks of its directory) is a
/// `Permission` error: retrying does not fix it, so the election backs off.
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        let code = match e.kind() {
            std::io::ErrorKind::PermissionDenied => ErrorCode::Permission,
            _ => ErrorCode::Store,
        };
        Error::new(code, format!("I/O error: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_dense_and_round_trip() {
        for (i, c) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(*c as i32, i as i32);
            assert_eq!(ErrorCode::from_i32(i as i32), Some(*c));
        }
        assert_eq!(ErrorCode::from_i32(99), None);
    }
}

/// The text of a caught panic (`panic!` with a literal or a formatted message).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
