//! `elect_status` and the thread-local message behind `elect_last_error()`.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

use elect_core::ErrorCode;

/// What a fallible call returned: `ELECT_OK` (0) or the code of the error, whose message
/// `elect_last_error()` gives on the same thread.
///
/// The values are elect-core's `ErrorCode`s, numbered once and never renumbered; new codes
/// are only ever appended. (In the Rust source, a compile-time check and an exhaustive `match`
/// keep this list equal to core's.)
#[allow(non_camel_case_types)]
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum elect_status {
    ELECT_OK = 0,
    /// A bad argument: NULL pointer, malformed URI, unknown option, bad duration,
    /// `renew >= ttl`, empty name, invalid UTF-8.
    ELECT_ERR_INVALID_ARGUMENT = 1,
    /// The store could not be reached.
    ELECT_ERR_UNREACHABLE = 2,
    /// The store refused the credentials or certificate.
    ELECT_ERR_AUTH = 3,
    /// A wait ran out of time (`elect_wait_leader` when not elected in time).
    ELECT_ERR_TIMEOUT = 4,
    /// The operation needs leadership and this candidate does not lead.
    ELECT_ERR_NOT_LEADER = 5,
    /// The election is closed, or was opened by the parent of a forked process.
    ELECT_ERR_CLOSED = 6,
    /// The store answered with another error.
    ELECT_ERR_STORE = 7,
    /// The URI names a store this build does not include.
    ELECT_ERR_UNSUPPORTED = 8,
    /// Not valid in the election's current state (e.g. `elect_start` after `elect_observe`).
    ELECT_ERR_WRONG_STATE = 9,
    /// A bug in elect (a caught panic).
    ELECT_ERR_INTERNAL = 10,
    /// The store refused the operation for lack of privilege.
    ELECT_ERR_PERMISSION = 11,
}

impl From<ErrorCode> for elect_status {
    fn from(code: ErrorCode) -> elect_status {
        status_of(code)
    }
}

/// The status of a core code: exhaustive, so a code added in core does not build until it is
/// added here.
const fn status_of(code: ErrorCode) -> elect_status {
    use elect_status::*;
    match code {
        ErrorCode::Ok => ELECT_OK,
        ErrorCode::InvalidArgument => ELECT_ERR_INVALID_ARGUMENT,
        ErrorCode::Unreachable => ELECT_ERR_UNREACHABLE,
        ErrorCode::Auth => ELECT_ERR_AUTH,
        ErrorCode::Timeout => ELECT_ERR_TIMEOUT,
        ErrorCode::NotLeader => ELECT_ERR_NOT_LEADER,
        ErrorCode::Closed => ELECT_ERR_CLOSED,
        ErrorCode::Store => ELECT_ERR_STORE,
        ErrorCode::Unsupported => ELECT_ERR_UNSUPPORTED,
        ErrorCode::WrongState => ELECT_ERR_WRONG_STATE,
        ErrorCode::Internal => ELECT_ERR_INTERNAL,
        ErrorCode::Permission => ELECT_ERR_PERMISSION,
    }
}

/// Every status has the number of the core code it maps from (checked when compiling).
const _: () = {
    let mut i = 0;
    while i < ErrorCode::ALL.len() {
        let code = ErrorCode::ALL[i];
        assert!(
            status_of(code) as i32 == code as i32,
            "a status is renumbered"
        );
        i += 1;
    }
};

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `message` as this thread's last error (NUL bytes, which C cannot see, become spaces).
pub(crate) fn set_last_error(message: &str) {
    let message = crate::cstring(message);
    LAST_ERROR.with(|last| *last.borrow_mut() = message);
}

/// The message of the last failed call on the calling thread ("" if none failed yet).
///
/// Ownership: the string belongs to the library; it stays valid until the next failing elect
/// call on the same thread. Successful calls leave it unchanged. Never NULL. Thread-safe (each
/// thread has its own message).
#[no_mangle]
pub extern "C" fn elect_last_error() -> *const c_char {
    crate::guard::value("elect_last_error", c"".as_ptr(), || {
        LAST_ERROR
            .try_with(|last| last.borrow().as_ptr())
            .unwrap_or(c"".as_ptr())
    })
}

/// The stable short name of a status, e.g. `"invalid_argument"` for
/// `ELECT_ERR_INVALID_ARGUMENT`, `"ok"` for `ELECT_OK`, `"unknown"` for a value that is no status.
///
/// Ownership: a static string; never free it. Never NULL. Thread-safe.
#[no_mangle]
pub extern "C" fn elect_status_name(status: i32) -> *const c_char {
    crate::guard::value(
        "elect_status_name",
        c"unknown".as_ptr(),
        || match ErrorCode::from_i32(status) {
            Some(code) => crate::static_cstr(code.name()),
            None => c"unknown".as_ptr(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_code_maps_to_the_same_number_and_name() {
        for code in ErrorCode::ALL {
            let status = elect_status::from(code);
            assert_eq!(status as i32, code as i32);
            let want = match code {
                ErrorCode::Ok => "ELECT_OK".to_string(),
                _ => format!("ELECT_ERR_{}", code.name().to_uppercase()),
            };
            assert_eq!(format!("{status:?}"), want, "C name of {code:?}");
        }
    }
}
