//! `elect_term`: a handle on one term of leadership for the work done in it (token, lease
//! remaining, cancellation when the term ends), and the lease remaining of an election.

use std::time::Duration;

use elect_core::{Error, ErrorCode, Term};

use crate::election::{elect_election, election_ref};
use crate::error::elect_status;
use crate::guard;

/// One term of leadership, held by the work done in it.
///
/// Opaque. Created by `elect_term_begin`, freed by `elect_term_free`. Holding it says "work of
/// this term is running": with the `drain` option, `elect_resign` and `elect_close` cancel the
/// term and wait (never past the lease deadline) until every `elect_term` of it is freed
/// before they give up the lease. Every function taking it may be called from any thread,
/// concurrently, until `elect_term_free`; it may outlive its election.
#[allow(non_camel_case_types)]
pub struct elect_term {
    inner: Term,
}

/// Milliseconds of lease left to this leader (until its deadline), or -1 when not leading.
/// Lock-free, no I/O.
///
/// Threading: any thread. NULL `e` gives -1.
///
/// # Safety
/// `e` is NULL or a live election.
#[no_mangle]
pub unsafe extern "C" fn elect_lease_remaining_ms(e: *const elect_election) -> i64 {
    guard::value("elect_lease_remaining_ms", -1, || {
        // SAFETY: NULL or live per the contract.
        unsafe { election_ref(e) }
            .ok()
            .and_then(|e| e.lease_remaining())
            .map_or(-1, millis)
    })
}

/// Begins work in the current term: stores a new term handle in `*out` if this candidate leads
/// with at least `min_lease_ms` milliseconds of lease left (0: any), so that a run which could
/// not finish before the deadline is not started.
///
/// Ownership: the caller owns `*out` and frees it with `elect_term_free` when the work ends.
/// On failure `*out` is set to NULL: `ELECT_ERR_NOT_LEADER` when not leading or when less than
/// `min_lease_ms` is left (the message says which). Threading: any thread. NULL `e` or `out`,
/// or a negative `min_lease_ms`, give `ELECT_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `e` is NULL or a live election; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn elect_term_begin(
    e: *mut elect_election,
    min_lease_ms: i64,
    out: *mut *mut elect_term,
) -> elect_status {
    guard::status("elect_term_begin", || {
        guard::non_null(out, "out")?;
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(std::ptr::null_mut()) };
        // SAFETY: NULL or live per the contract.
        let election = unsafe { election_ref(e) }?;
        let min = u64::try_from(min_lease_ms)
            .map_err(|_| Error::invalid("`min_lease_ms` is negative"))?;
        let Some(term) = election.term() else {
            return Err(Error::new(ErrorCode::NotLeader, "not leading"));
        };
        let left = term.remaining().unwrap_or_default();
        if left < Duration::from_millis(min) {
            return Err(Error::new(
                ErrorCode::NotLeader,
                format!(
                    "only {} ms of lease left, less than min_lease_ms {min}",
                    left.as_millis()
                ),
            ));
        }
        let handle = Box::new(elect_term { inner: term });
        // SAFETY: as above.
        unsafe { out.write(Box::into_raw(handle)) };
        Ok(())
    })
}

/// The fencing token of the term. NULL `t` gives 0.
///
/// # Safety
/// `t` is NULL or a live term handle.
#[no_mangle]
pub unsafe extern "C" fn elect_term_token(t: *const elect_term) -> u64 {
    // SAFETY: NULL or live per the contract.
    guard::value("elect_term_token", 0, || {
        unsafe { t.as_ref() }.map_or(0, |t| t.inner.token())
    })
}

/// Whether the work of the term must stop: the term ended (whatever the reason), its lease
/// deadline passed, or a draining `elect_resign`/`elect_close` asked it to stop. NULL `t`
/// gives true.
///
/// # Safety
/// `t` is NULL or a live term handle.
#[no_mangle]
pub unsafe extern "C" fn elect_term_cancelled(t: *const elect_term) -> bool {
    guard::value("elect_term_cancelled", true, || {
        // SAFETY: NULL or live per the contract.
        unsafe { t.as_ref() }.is_none_or(|t| t.inner.is_cancelled())
    })
}

/// Milliseconds of lease left to the term, or -1 once it is over. NULL `t` gives -1.
///
/// # Safety
/// `t` is NULL or a live term handle.
#[no_mangle]
pub unsafe extern "C" fn elect_term_remaining_ms(t: *const elect_term) -> i64 {
    guard::value("elect_term_remaining_ms", -1, || {
        // SAFETY: NULL or live per the contract.
        unsafe { t.as_ref() }
            .and_then(|t| t.inner.remaining())
            .map_or(-1, millis)
    })
}

/// Blocks until the term is cancelled (`ELECT_OK`) or `timeout_ms` milliseconds pass
/// (`ELECT_ERR_TIMEOUT`); a negative `timeout_ms` waits as long as it takes.
///
/// Threading: any thread; several threads may wait on one handle. NULL `t` gives
/// `ELECT_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `t` is NULL or a live term handle, not freed while this call runs.
#[no_mangle]
pub unsafe extern "C" fn elect_term_wait(t: *const elect_term, timeout_ms: i64) -> elect_status {
    guard::status("elect_term_wait", || {
        guard::non_null(t, "t")?;
        // SAFETY: non-NULL and live per the contract.
        let term = unsafe { &(*t).inner };
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        if term.wait_cancelled(timeout) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::Timeout,
                format!("the term was not cancelled within {timeout_ms} ms"),
            ))
        }
    })
}

/// Ends the work in the term and frees `t` (a draining resign or close waits for this). NULL
/// is a no-op.
///
/// # Safety
/// `t` is NULL or from `elect_term_begin`, freed once, with no call on it running.
#[no_mangle]
pub unsafe extern "C" fn elect_term_free(t: *mut elect_term) {
    guard::value("elect_term_free", (), || {
        if !t.is_null() {
            // SAFETY: from Box::into_raw in elect_term_begin, freed once (caller contract).
            drop(unsafe { Box::from_raw(t) });
        }
    })
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
