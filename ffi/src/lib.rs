//! elect-ffi: the C ABI of elect (`libelect.so`, header `include/elect.h`).
//!
//! One file per C "class": `election` (the handle), `event` (callbacks), `leader` (leader and
//! member lists), `options`, `error` (status codes and `elect_last_error`), `logger` (the
//! library's log records), `stats` (metrics snapshots), `term` (work in a term), `group` (many elections spread over instances). Every entry point
//! runs its body through `guard`, so no panic crosses into C and NULL pointers are errors.
//! The header is generated from these files by cbindgen; `tests/header.rs` fails when the
//! committed header differs.

use std::collections::HashMap;
use std::ffi::{c_char, CString};
use std::sync::{Mutex, OnceLock};

pub mod election;
pub mod error;
pub mod event;
mod fork;
pub mod group;
mod guard;
pub mod leader;
pub mod logger;
pub mod options;
mod signals;
pub mod stats;
pub mod term;

/// The library version, e.g. `"0.1.0"`.
///
/// Ownership: a static string; never free it. Never NULL. Thread-safe.
#[no_mangle]
pub extern "C" fn elect_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// `s` as a C string; NUL bytes (which C would read as the end) become spaces.
pub(crate) fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).expect("NUL bytes were replaced")
}

/// Frees a string made by `cstring(..).into_raw()`. NULL is a no-op.
///
/// # Safety
/// `s` is NULL or from `CString::into_raw`, not freed yet.
pub(crate) unsafe fn free_cstring(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: from CString::into_raw (caller contract), freed once.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// A NUL-terminated copy of a static name, made once and kept for the life of the process.
pub(crate) fn static_cstr(s: &'static str) -> *const c_char {
    static NAMES: OnceLock<Mutex<HashMap<&'static str, CString>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    // The CString's buffer does not move when the map grows, so the pointer stays valid.
    names.entry(s).or_insert_with(|| cstring(s)).as_ptr()
}
