//! `elect_election`: the opaque handle of one election, and its entry points.

use std::cell::Cell;
use std::ffi::{c_char, c_void, CString};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use elect_core::{Config, Election, Error, ErrorCode, Result};

use crate::error::elect_status;
use crate::event::{self, elect_callback};
use crate::guard::{self, str_arg};
use crate::options::elect_options;

/// One election on one store, campaigned (`elect_start`) or observed (`elect_observe`).
///
/// Opaque. Created by `elect_open`/`elect_open_with`, freed by `elect_close`. Every function
/// taking it may be called from any thread, concurrently, until `elect_close` is called; no
/// call may be made with it after (or during) `elect_close`.
#[allow(non_camel_case_types)]
pub struct elect_election {
    inner: Election,
    id: CString,
    /// Set by `elect_close` from inside this election's callback: events still queued are then
    /// not passed to the callback, so none runs after `elect_close` returned.
    muted: Arc<AtomicBool>,
}

thread_local! {
    /// The `muted` flag of the election whose callback runs on this thread, if any.
    static IN_CALLBACK: Cell<*const AtomicBool> = const { Cell::new(ptr::null()) };
}

/// Runs `f` (the host callback of the election owning `muted`) marked as "inside a callback".
pub(crate) fn in_callback(muted: &Arc<AtomicBool>, f: impl FnOnce()) {
    let previous = IN_CALLBACK.with(|c| c.replace(Arc::as_ptr(muted)));
    f();
    IN_CALLBACK.with(|c| c.set(previous));
}

/// The election behind `e`, or `InvalidArgument` when `e` is NULL.
///
/// # Safety
/// `e` is NULL or a live handle from `elect_open`, not closed.
pub(crate) unsafe fn election_ref<'a>(e: *const elect_election) -> Result<&'a Election> {
    guard::non_null(e, "e")?;
    // SAFETY: non-NULL and live per the caller's contract; only shared references are made.
    Ok(unsafe { &(*e).inner })
}

/// Opens an election named `name` on the store of `uri` (e.g. `"file:///var/lib/elect?ttl=5s"`)
/// and stores its handle in `*out`. The election is idle until `elect_start` or
/// `elect_observe`. `cb` (may be NULL) receives its events with `user_data`.
///
/// Ownership: `uri` and `name` are copied. The caller owns `*out` and frees it with
/// `elect_close`. `user_data` must stay valid until `elect_close` returns; the library never
/// frees it. Threading: `cb` runs on threads owned by the library (a pool of at most 64 that
/// serves every election), never concurrently with itself for one election, in order. The
/// threads the library starts block SIGPIPE (a store connection that breaks must not kill the
/// host); the host's own threads and signal handling are left as they are. On failure `*out`
/// is set to NULL. NULL `uri`, `name` or `out` give `ELECT_ERR_INVALID_ARGUMENT`; so do
/// malformed URIs, unknown options, bad durations, `renew >= ttl` and empty names, with a
/// message naming the bad part.
///
/// # Safety
/// `uri` and `name` are NULL or NUL-terminated strings; `out` is NULL or writable; `cb`, if not
/// NULL, may be called with `user_data` from another thread.
#[no_mangle]
pub unsafe extern "C" fn elect_open(
    uri: *const c_char,
    name: *const c_char,
    cb: elect_callback,
    user_data: *mut c_void,
    out: *mut *mut elect_election,
) -> elect_status {
    // SAFETY: same contract, with no options.
    unsafe { open("elect_open", uri, name, ptr::null(), cb, user_data, out) }
}

/// Like `elect_open`, with options given in code: each `key=value` of `opts` (may be NULL) is
/// applied after the URI's query parameters, with the same validation.
///
/// Ownership: `opts` stays the caller's; it may be freed as soon as this returns. Otherwise as
/// `elect_open`.
///
/// # Safety
/// As `elect_open`; `opts` is NULL or a live list from `elect_options_new`.
#[no_mangle]
pub unsafe extern "C" fn elect_open_with(
    uri: *const c_char,
    name: *const c_char,
    opts: *const elect_options,
    cb: elect_callback,
    user_data: *mut c_void,
    out: *mut *mut elect_election,
) -> elect_status {
    // SAFETY: same contract.
    unsafe { open("elect_open_with", uri, name, opts, cb, user_data, out) }
}

/// # Safety
/// As `elect_open_with`.
unsafe fn open(
    func: &str,
    uri: *const c_char,
    name: *const c_char,
    opts: *const elect_options,
    cb: elect_callback,
    user_data: *mut c_void,
    out: *mut *mut elect_election,
) -> elect_status {
    guard::status(func, || {
        guard::non_null(out, "out")?;
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(ptr::null_mut()) };
        // SAFETY: same contract.
        let (config, name) = unsafe { config_of(uri, name, opts) }?;
        let muted = Arc::new(AtomicBool::new(false));
        let handler = cb.map(|cb| event::handler(cb, user_data, muted.clone()));
        let inner =
            crate::signals::with_sigpipe_blocked(|| Election::open_with(config, name, handler))?;
        let id = crate::cstring(inner.id());
        let handle = Box::new(elect_election { inner, id, muted });
        // SAFETY: as above.
        unsafe { out.write(Box::into_raw(handle)) };
        Ok(())
    })
}

/// The config of `uri` with `opts` applied, and `name`; registers the fork handler (every
/// open does).
///
/// # Safety
/// `uri` and `name` are NULL or NUL-terminated strings; `opts` is NULL or a live list.
pub(crate) unsafe fn config_of<'a>(
    uri: *const c_char,
    name: *const c_char,
    opts: *const elect_options,
) -> Result<(Config, &'a str)> {
    // SAFETY: NULL or NUL-terminated per the contract.
    let (uri, name) = unsafe { (str_arg(uri, "uri")?, str_arg(name, "name")?) };
    crate::fork::register_handler();
    let pairs = if opts.is_null() {
        &[][..]
    } else {
        // SAFETY: non-NULL and a live elect_options per the contract.
        unsafe { &*opts }.pairs()
    };
    Ok((
        Config::parse_with(uri, pairs.iter().map(|(k, v)| (k, v)))?,
        name,
    ))
}

/// Begins campaigning in the background; `ELECT_EVENT_ELECTED` tells when this candidate leads.
/// Returns at once.
///
/// Threading: any thread. NULL `e` gives `ELECT_ERR_INVALID_ARGUMENT`; a second `elect_start`
/// or one after `elect_observe` gives `ELECT_ERR_WRONG_STATE`.
///
/// # Safety
/// `e` is NULL or a live election.
#[no_mangle]
pub unsafe extern "C" fn elect_start(e: *mut elect_election) -> elect_status {
    // SAFETY: NULL or live per the contract.
    guard::status("elect_start", || unsafe { election_ref(e) }?.start())
}

/// Follows the leader without campaigning: only `ELECT_EVENT_LEADER_CHANGED` events.
///
/// Threading: any thread. NULL `e` gives `ELECT_ERR_INVALID_ARGUMENT`; after `elect_start`
/// (or a second time) `ELECT_ERR_WRONG_STATE`.
///
/// # Safety
/// `e` is NULL or a live election.
#[no_mangle]
pub unsafe extern "C" fn elect_observe(e: *mut elect_election) -> elect_status {
    // SAFETY: NULL or live per the contract.
    guard::status("elect_observe", || unsafe { election_ref(e) }?.observe())
}

/// Whether this candidate leads now: it was elected and its lease deadline has not passed.
/// Lock-free (atomic loads and one monotonic clock read): call it before every protected action.
///
/// Threading: any thread. NULL `e` gives false.
///
/// # Safety
/// `e` is NULL or a live election.
#[no_mangle]
pub unsafe extern "C" fn elect_is_leader(e: *const elect_election) -> bool {
    guard::value("elect_is_leader", false, || {
        // SAFETY: NULL or live per the contract.
        unsafe { election_ref(e) }.is_ok_and(|e| e.is_leader())
    })
}

/// The fencing token of the current term, to hand to every resource this leader writes; 0 when
/// not leading.
///
/// Threading: any thread. NULL `e` gives 0.
///
/// # Safety
/// `e` is NULL or a live election.
#[no_mangle]
pub unsafe extern "C" fn elect_fencing_token(e: *const elect_election) -> u64 {
    guard::value("elect_fencing_token", 0, || {
        // SAFETY: NULL or live per the contract.
        unsafe { election_ref(e) }.map_or(0, |e| e.fencing_token().unwrap_or(0))
    })
}

/// Blocks the calling thread until this candidate leads (`ELECT_OK`) or `timeout_ms`
/// milliseconds pass (`ELECT_ERR_TIMEOUT`); a negative `timeout_ms` waits forever.
///
/// Threading: any thread, except this election's own callback (it would wait for itself).
/// `ELECT_ERR_WRONG_STATE` before `elect_start`; `ELECT_ERR_CLOSED` if the election is closed
/// meanwhile. NULL `e` gives `ELECT_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `e` is NULL or a live election.
#[no_mangle]
pub unsafe extern "C" fn elect_wait_leader(
    e: *mut elect_election,
    timeout_ms: i64,
) -> elect_status {
    guard::status("elect_wait_leader", || {
        // SAFETY: NULL or live per the contract.
        let election = unsafe { election_ref(e) }?;
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        if election.wait_leader(timeout)? {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::Timeout,
                format!("not elected within {timeout_ms} ms"),
            ))
        }
    })
}

/// Gives up the leadership now (the next candidate is woken by the store) and campaigns again
/// after the `silence` option. Returns once the store has the leadership back. A no-op when not
/// leading.
///
/// Threading: any thread, including a callback. NULL `e` gives `ELECT_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `e` is NULL or a live election.
#[no_mangle]
pub unsafe extern "C" fn elect_resign(e: *mut elect_election) -> elect_status {
    // SAFETY: NULL or live per the contract.
    guard::status("elect_resign", || unsafe { election_ref(e) }?.resign())
}

/// Publishes `value` as this leader's value without a new election: observers get
/// `ELECT_EVENT_LEADER_CHANGED` with the new value and the same term. The store writes it only
/// while this candidate holds the leadership: otherwise (not leading, term ended)
/// `ELECT_ERR_NOT_LEADER` and nothing changes. `ELECT_ERR_TIMEOUT`/`ELECT_ERR_UNREACHABLE`:
/// unknown whether it was published; proclaiming again is safe.
///
/// Threading: any thread, including a callback of another election. NULL `e` or `value`, or a
/// value with control characters, gives `ELECT_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `e` is NULL or a live election; `value` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn elect_proclaim(
    e: *mut elect_election,
    value: *const c_char,
) -> elect_status {
    guard::status("elect_proclaim", || {
        // SAFETY: NULL or live / NUL-terminated per the contract.
        let (e, value) = unsafe { (election_ref(e)?, str_arg(value, "value")?) };
        e.proclaim(value)
    })
}

/// Hands the leadership to the member `successor` (its id) without a gap or an overlap: the
/// term's work is asked to stop (as by `elect_resign`, with the `drain` option), then one store
/// operation gives the leadership up and reserves it for `successor`, which takes it at once
/// while the other candidates keep waiting (the reservation lapses after one ttl). This
/// candidate gets `ELECT_EVENT_REVOKED` with `ELECT_REASON_PREEMPTED` and campaigns again after
/// the `silence` option. Returns once the store has the leadership back.
///
/// `ELECT_ERR_NOT_LEADER` (nothing changed) when this candidate does not lead;
/// `ELECT_ERR_INVALID_ARGUMENT` when `successor` is not a member of the election as this
/// candidate last saw them, or is this candidate's own id. If the store refuses the hand-off
/// after the work was stopped, the leadership is released as by `elect_resign` and the store's
/// error returned.
///
/// Threading: any thread, including a callback of another election. NULL `e` or `successor`
/// gives `ELECT_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `e` is NULL or a live election; `successor` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn elect_hand_over_to(
    e: *mut elect_election,
    successor: *const c_char,
) -> elect_status {
    guard::status("elect_hand_over_to", || {
        // SAFETY: NULL or live / NUL-terminated per the contract.
        let (e, successor) = unsafe { (election_ref(e)?, str_arg(successor, "successor")?) };
        e.hand_over_to(successor)
    })
}

/// This candidate's id (the `id` option, or the generated `hostname-pid-random`).
///
/// Ownership: the string belongs to the election and is valid until `elect_close`. Threading:
/// any thread. NULL `e` gives "".
///
/// # Safety
/// `e` is NULL or a live election.
#[no_mangle]
pub unsafe extern "C" fn elect_id(e: *const elect_election) -> *const c_char {
    guard::value("elect_id", c"".as_ptr(), || {
        guard::non_null(e, "e").map_or(c"".as_ptr(), |()| {
            // SAFETY: non-NULL and live per the contract.
            unsafe { (*e).id.as_ptr() }
        })
    })
}

/// Resigns if leading, leaves the election, stops its background work and frees `e`. Events
/// queued before are delivered first (e.g. `ELECT_EVENT_REVOKED` with `ELECT_REASON_CLOSED`);
/// no callback of this election starts after `elect_close` returns. NULL is a no-op.
///
/// Threading: any thread, including this election's own callback (it then returns without
/// waiting for the callback to finish; the handle must not be used after). No other call with
/// `e` may run concurrently or follow.
///
/// # Safety
/// `e` is NULL or a live election, not used again after this call.
#[no_mangle]
pub unsafe extern "C" fn elect_close(e: *mut elect_election) {
    guard::value("elect_close", (), || {
        if e.is_null() {
            return;
        }
        // SAFETY: from Box::into_raw in elect_open, closed once (caller contract).
        let handle = unsafe { Box::from_raw(e) };
        let inside = IN_CALLBACK.with(|c| c.get()) == Arc::as_ptr(&handle.muted);
        if inside {
            handle.muted.store(true, Ordering::SeqCst);
        }
        handle.inner.close();
    })
}
