//! Every string that enters through the C ABI, as a C caller passes it: bytes up to the first
//! NUL. `elect_options_set` gets arbitrary keys and values, `elect_open` and `elect_open_with`
//! arbitrary connection strings and election names; `elect_last_error` must then be a valid
//! string. Nothing may panic across the boundary or crash.
//!
//! A connection string that parses into a server store, or into a directory outside this run's
//! own, is not opened: the fuzzer must not connect to hosts it made up or create directories
//! anywhere. Those that fail to parse, and `file://` ones under the run's directory, are.
#![no_main]

use std::ffi::{c_char, CStr};
use std::ptr;
use std::sync::OnceLock;

use elect::election::{elect_close, elect_open, elect_open_with};
use elect::error::{elect_last_error, elect_status, elect_status_name};
use elect::options::{elect_options_free, elect_options_new, elect_options_set};
use elect_core::uri::Scheme;
use elect_core::Config;
use libfuzzer_sys::fuzz_target;

/// `bytes` as a C string: what a C caller's buffer holds, cut at the first NUL.
fn c_string(bytes: &[u8]) -> Vec<u8> {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    let mut v = bytes[..end].to_vec();
    v.push(0);
    v
}

fn base_dir() -> &'static str {
    static DIR: OnceLock<String> = OnceLock::new();
    DIR.get_or_init(|| format!("/tmp/elect-fuzz-{}", std::process::id()))
}

/// Whether `uri` may be handed to `elect_open`: it fails to parse, or it is a directory under
/// this run's own.
fn safe_to_open(uri: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(&uri[..uri.len() - 1]) else {
        return true; // elect_open refuses non-UTF-8 before parsing
    };
    match Config::parse(text) {
        Err(_) => true,
        Ok(c) => {
            c.scheme == Scheme::File
                && c.path.starts_with(&format!("{}/", base_dir()))
                && !c.path.contains("..")
        }
    }
}

fn last_error_is_a_string() {
    let p = elect_last_error();
    if !p.is_null() {
        // SAFETY: elect_last_error returns NULL or a NUL-terminated string valid until the next
        // call on this thread.
        let s = unsafe { CStr::from_ptr(p) };
        assert!(s.to_str().is_ok(), "elect_last_error is not UTF-8");
    }
}

fuzz_target!(|input: (&[u8], &[u8], Vec<(&[u8], &[u8])>, bool)| {
    let (uri, name, options, with_options) = input;
    let (uri, name) = (c_string(uri), c_string(name));
    let opts = elect_options_new();
    for (k, v) in options.iter().take(8) {
        let (k, v) = (c_string(k), c_string(v));
        // SAFETY: `opts` is live; `k` and `v` are NUL-terminated.
        let status = unsafe { elect_options_set(opts, k.as_ptr().cast(), v.as_ptr().cast()) };
        assert!(!elect_status_name(status as i32).is_null());
        last_error_is_a_string();
    }
    if safe_to_open(&uri) {
        let mut e = ptr::null_mut();
        let (u, n) = (uri.as_ptr() as *const c_char, name.as_ptr() as *const c_char);
        // SAFETY: `u` and `n` are NUL-terminated, `opts` is live, `e` is writable.
        let status = unsafe {
            if with_options {
                elect_open_with(u, n, opts, None, ptr::null_mut(), &mut e)
            } else {
                elect_open(u, n, None, ptr::null_mut(), &mut e)
            }
        };
        if status == elect_status::ELECT_OK {
            // SAFETY: `e` is the live election elect_open just returned.
            unsafe { elect_close(e) };
        } else {
            assert!(e.is_null(), "a failed open returned an election");
            last_error_is_a_string();
        }
    }
    // SAFETY: `opts` is live and freed once.
    unsafe { elect_options_free(opts) };
});
