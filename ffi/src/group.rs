//! `elect_group`: one instance of a group of K elections (shards) whose leaderships spread
//! evenly over the group's live instances (docs/group.md).

use std::ffi::{c_char, c_void};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use elect_core::{Event, Group, GroupHandler};

use crate::error::elect_status;
use crate::event::{elect_event, OwnedEvent, UserData};
use crate::guard;
use crate::options::elect_options;

/// One instance of a group of elections.
///
/// Opaque. Created by `elect_group_open`, freed by `elect_group_close`. Every function taking
/// it may be called from any thread, concurrently, until `elect_group_close`.
#[allow(non_camel_case_types)]
pub struct elect_group {
    inner: Group,
    /// Set by `elect_group_close`: no callback starts after it began.
    muted: Arc<AtomicBool>,
}

/// The host's event function for a group: `shard` (0 to shards-1) and one event of that
/// shard's election (`ELECTED`, `REVOKED`, `LEADER_CHANGED`, `ERROR`). Called on one thread
/// owned by the library, never concurrently with itself. A shard handed over to another
/// instance arrives as `REVOKED` with `ELECT_REASON_CLOSED`.
#[allow(non_camel_case_types)]
pub type elect_group_callback =
    Option<unsafe extern "C" fn(shard: usize, ev: *const elect_event, user_data: *mut c_void)>;

/// Joins group `name` on the store of `uri` with `shards` elections (named `<name>/<i>`) and
/// starts campaigning at once: the group's live instances share the shards' leaderships
/// evenly and hand them over without a gap as instances come and go. `cap` is the most
/// leaderships this instance takes (0: no cap). `opts` (may be NULL) as in `elect_open_with`.
///
/// Ownership: `uri`, `name` and `opts` stay the caller's. The caller owns `*out` and frees it
/// with `elect_group_close`; `user_data` must stay valid until then. On failure `*out` is NULL:
/// NULL `uri`, `name` or `out`, `shards` of 0 or above 1024, and every error of `elect_open`
/// give its status with a message naming the bad part.
///
/// # Safety
/// `uri` and `name` are NULL or NUL-terminated strings; `opts` is NULL or a live list; `out` is
/// NULL or writable; `cb`, if not NULL, may be called with `user_data` from another thread.
#[no_mangle]
pub unsafe extern "C" fn elect_group_open(
    uri: *const c_char,
    name: *const c_char,
    shards: usize,
    cap: usize,
    opts: *const elect_options,
    cb: elect_group_callback,
    user_data: *mut c_void,
    out: *mut *mut elect_group,
) -> elect_status {
    guard::status("elect_group_open", || {
        guard::non_null(out, "out")?;
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(ptr::null_mut()) };
        // SAFETY: same contract.
        let (config, name) = unsafe { crate::election::config_of(uri, name, opts) }?;
        let muted = Arc::new(AtomicBool::new(false));
        let handler = cb.map(|cb| handler(cb, user_data, muted.clone()));
        let cap = (cap > 0).then_some(cap);
        let inner = crate::signals::with_sigpipe_blocked(|| {
            Group::open_with(config, name, shards, cap, handler)
        })?;
        let handle = Box::new(elect_group { inner, muted });
        // SAFETY: as above.
        unsafe { out.write(Box::into_raw(handle)) };
        Ok(())
    })
}

fn handler(
    callback: unsafe extern "C" fn(usize, *const elect_event, *mut c_void),
    user_data: *mut c_void,
    muted: Arc<AtomicBool>,
) -> GroupHandler {
    let user_data = UserData(user_data);
    Box::new(move |shard: usize, event: &Event| {
        if muted.load(Ordering::SeqCst) {
            return;
        }
        let owned = OwnedEvent::new(event);
        let c_event = owned.as_c();
        // SAFETY: the host gave us this function pointer and user_data for exactly this call;
        // `c_event` and its strings live until after the call returns.
        unsafe { callback(shard, &c_event, user_data.get()) }
    })
}

/// # Safety
/// `g` is NULL or a live group.
unsafe fn group_ref<'a>(g: *const elect_group) -> elect_core::Result<&'a Group> {
    guard::non_null(g, "g")?;
    // SAFETY: non-NULL and live per the caller's contract; only shared references are made.
    Ok(unsafe { &(*g).inner })
}

/// Whether this instance leads `shard` now (lease deadline checked, no I/O). False for NULL
/// `g` or a shard out of range. Threading: any thread.
///
/// # Safety
/// `g` is NULL or a live group.
#[no_mangle]
pub unsafe extern "C" fn elect_group_is_leader(g: *const elect_group, shard: usize) -> bool {
    guard::value("elect_group_is_leader", false, || {
        // SAFETY: NULL or live per the contract.
        unsafe { group_ref(g) }.is_ok_and(|g| g.is_leader(shard))
    })
}

/// The fencing token of this instance's term in `shard`; 0 when it does not lead it (or `g`
/// is NULL, or the shard is out of range). Threading: any thread.
///
/// # Safety
/// `g` is NULL or a live group.
#[no_mangle]
pub unsafe extern "C" fn elect_group_fencing_token(g: *const elect_group, shard: usize) -> u64 {
    guard::value("elect_group_fencing_token", 0, || {
        // SAFETY: NULL or live per the contract.
        unsafe { group_ref(g) }.map_or(0, |g| g.fencing_token(shard).unwrap_or(0))
    })
}

/// The shards this instance leads now: writes up to `capacity` of them, in order, to `shards`
/// (may be NULL when `capacity` is 0) and returns how many it leads (which may exceed
/// `capacity`). 0 for NULL `g`. Threading: any thread.
///
/// # Safety
/// `g` is NULL or a live group; `shards` is NULL or has room for `capacity` values.
#[no_mangle]
pub unsafe extern "C" fn elect_group_leading(
    g: *const elect_group,
    shards: *mut usize,
    capacity: usize,
) -> usize {
    guard::value("elect_group_leading", 0, || {
        // SAFETY: NULL or live per the contract.
        let Ok(g) = (unsafe { group_ref(g) }) else {
            return 0;
        };
        let leading = g.leading();
        if !shards.is_null() {
            for (i, shard) in leading.iter().take(capacity).enumerate() {
                // SAFETY: i < capacity, and the caller gave room for `capacity` values.
                unsafe { shards.add(i).write(*shard) };
            }
        }
        leading.len()
    })
}

/// Leaves every shard (each leadership goes at once to an instance waiting for it), stops and
/// frees `g`. No callback starts after this began. NULL is a no-op.
///
/// Threading: any thread, including the group's callback. No other call with `g` may run
/// concurrently or follow.
///
/// # Safety
/// `g` is NULL or a live group, not used again after this call.
#[no_mangle]
pub unsafe extern "C" fn elect_group_close(g: *mut elect_group) {
    guard::value("elect_group_close", (), || {
        if g.is_null() {
            return;
        }
        // SAFETY: from Box::into_raw in elect_group_open, closed once (caller contract).
        let handle = unsafe { Box::from_raw(g) };
        handle.muted.store(true, Ordering::SeqCst);
        handle.inner.close();
    })
}
