//! The wrapper every `extern "C"` entry point runs its body in.
//!
//! No panic may unwind into C (that is undefined behaviour), so each body runs under
//! `catch_unwind`; a caught panic becomes `ELECT_ERR_INTERNAL` with a message for
//! `elect_last_error()`. Failures are recorded in the calling thread's last error.

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use elect_core::{Error, Result};

use crate::error::{elect_status, set_last_error};

/// Runs `body` for the entry point `func`: `Ok` gives `ELECT_OK`, an error or a panic gives its
/// status and leaves the message, prefixed with `func`, for `elect_last_error()`.
pub(crate) fn status(func: &str, body: impl FnOnce() -> Result<()>) -> elect_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => elect_status::ELECT_OK,
        Ok(Err(e)) => fail(func, e),
        Err(panic) => fail(func, panic_error(panic)),
    }
}

/// Runs `body` for an entry point that cannot report failure (getters): a panic yields
/// `fallback` (and is recorded like any failure).
pub(crate) fn value<T>(func: &str, fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(panic) => {
            fail(func, panic_error(panic));
            fallback
        }
    }
}

fn fail(func: &str, e: Error) -> elect_status {
    let status = elect_status::from(e.code());
    set_last_error(&format!("{func}: {}", e.message()));
    status
}

fn panic_error(panic: Box<dyn std::any::Any + Send>) -> Error {
    Error::from_panic(panic.as_ref())
}

/// The NUL-terminated UTF-8 string at `ptr`, or `InvalidArgument` naming `what` when the
/// pointer is NULL or the bytes are not UTF-8.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that lives for `'a`.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, what: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(Error::invalid(format!("`{what}` is NULL")));
    }
    // SAFETY: non-NULL, and the caller promises a NUL-terminated string alive for 'a.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes
        .to_str()
        .map_err(|_| Error::invalid(format!("`{what}` is not valid UTF-8")))
}

/// `Err(InvalidArgument)` naming `what` when `ptr` is NULL.
pub(crate) fn non_null<T>(ptr: *const T, what: &str) -> Result<()> {
    if ptr.is_null() {
        Err(Error::invalid(format!("`{what}` is NULL")))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last_error() -> String {
        // SAFETY: elect_last_error never returns NULL and its string lives until the next failure.
        unsafe { CStr::from_ptr(crate::error::elect_last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_internal_with_its_message() {
        let status = status("elect_test", || panic!("boom {}", 42));
        assert_eq!(status, elect_status::ELECT_ERR_INTERNAL);
        assert_eq!(
            last_error(),
            "elect_test: internal error (a bug in elect): boom 42"
        );
        assert!(value("elect_getter", true, || -> bool {
            panic!("static boom")
        }));
        assert!(last_error().ends_with("static boom"), "{}", last_error());
    }

    #[test]
    fn errors_keep_their_code_and_name_the_entry_point() {
        let status = status("elect_x", || Err(Error::invalid("`e` is NULL")));
        assert_eq!(status, elect_status::ELECT_ERR_INVALID_ARGUMENT);
        assert_eq!(last_error(), "elect_x: `e` is NULL");
        assert_eq!(super::status("elect_y", || Ok(())), elect_status::ELECT_OK);
        assert_eq!(
            last_error(),
            "elect_x: `e` is NULL",
            "success leaves the message"
        );
    }
}
