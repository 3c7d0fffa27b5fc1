//! `elect_options`: options given in code rather than in the URI's query string.

use std::ffi::c_char;

use crate::error::elect_status;
use crate::guard::{self, str_arg};

/// A list of `key=value` options for `elect_open_with`, applied after the URI's own query
/// parameters (so they win), with exactly the validation of the query parameter of that name.
///
/// Created by `elect_options_new`, freed by `elect_options_free`. Not thread-safe: use one from
/// one thread at a time. It may be freed right after `elect_open_with` returns.
#[allow(non_camel_case_types)]
pub struct elect_options {
    pairs: Vec<(String, String)>,
}

impl elect_options {
    /// The options, in the order they were set (for `Config::parse_with`).
    pub(crate) fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// The name of the `index`-th option every store understands (`"ttl"`, `"renew"`, ...), or NULL
/// past the last: core's table, so that a binding's tests can check that it offers them all.
///
/// Ownership: a static string; never free it. Threading: any thread.
#[no_mangle]
pub extern "C" fn elect_option_name(index: usize) -> *const c_char {
    guard::value("elect_option_name", std::ptr::null(), || {
        elect_core::options::CommonOption::ALL
            .get(index)
            .map_or(std::ptr::null(), |o| crate::static_cstr(o.name()))
    })
}

/// A new, empty option list.
///
/// Ownership: the caller owns the result and frees it with `elect_options_free`. Never NULL.
/// Threading: any thread; the list is then used by one thread at a time.
#[no_mangle]
pub extern "C" fn elect_options_new() -> *mut elect_options {
    Box::into_raw(Box::new(elect_options { pairs: Vec::new() }))
}

/// Adds option `key` (e.g. `"ttl"`) with `value` (e.g. `"5s"`). Keys and values are checked
/// when the options are used by `elect_open_with` (unknown keys and bad values fail there with
/// a message naming the option), because which keys exist depends on the URI's store.
///
/// Ownership: `key` and `value` are copied; the caller keeps them. Threading: not concurrently
/// with other calls on the same list. NULL `opts`, `key` or `value` give
/// `ELECT_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `opts` is NULL or from `elect_options_new` and not freed; `key` and `value` are NULL or
/// NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn elect_options_set(
    opts: *mut elect_options,
    key: *const c_char,
    value: *const c_char,
) -> elect_status {
    guard::status("elect_options_set", || {
        guard::non_null(opts, "opts")?;
        // SAFETY: the caller passes NUL-terminated strings (or NULL, rejected by str_arg).
        let (key, value) = unsafe { (str_arg(key, "key")?, str_arg(value, "value")?) };
        // SAFETY: non-NULL and, per the contract, a live elect_options used by one thread.
        let opts = unsafe { &mut *opts };
        opts.pairs.push((key.to_string(), value.to_string()));
        Ok(())
    })
}

/// Frees an option list. NULL is a no-op. Threading: not concurrently with other calls on the
/// same list.
///
/// # Safety
/// `opts` is NULL or from `elect_options_new` and not freed yet; it must not be used after.
#[no_mangle]
pub unsafe extern "C" fn elect_options_free(opts: *mut elect_options) {
    guard::value("elect_options_free", (), || {
        if !opts.is_null() {
            // SAFETY: from Box::into_raw in elect_options_new, freed once (caller contract).
            drop(unsafe { Box::from_raw(opts) });
        }
    })
}
