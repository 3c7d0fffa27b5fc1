//! `elect_leader_info` and `elect_member_list`: who leads and who campaigns, as the store sees
//! it, in library-allocated memory with matching free functions.

use std::ffi::c_char;
use std::ptr;

use crate::election::{elect_election, election_ref};
use crate::error::elect_status;
use crate::guard;

/// Who leads an election, filled by `elect_leader`.
///
/// Ownership: `id` and `value` are allocated by the library; release them with
/// `elect_leader_info_free` (which also accepts a zeroed struct).
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct elect_leader_info {
    /// The leader's id, or NULL when nobody leads.
    pub id: *mut c_char,
    /// The leader's value ("" if it set none), or NULL when nobody leads.
    pub value: *mut c_char,
    /// The leader's term (fencing token), 0 when nobody leads.
    pub term: u64,
}

/// One live candidate of an election.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct elect_member {
    pub id: *mut c_char,
    pub value: *mut c_char,
}

/// The live candidates of an election, filled by `elect_members`.
///
/// Ownership: allocated by the library; release with `elect_members_free` (which also accepts
/// a zeroed struct).
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct elect_member_list {
    /// `len` members, or NULL when `len` is 0.
    pub items: *mut elect_member,
    pub len: usize,
}

/// Reads who leads the election now from the store and fills `*out`; `out->id` is NULL when
/// nobody leads. Blocks for at most the `connect_timeout` option.
///
/// Ownership: the caller owns the strings put in `*out` and releases them with
/// `elect_leader_info_free`. On failure `*out` is zeroed. Threading: any thread. NULL `e` or
/// `out` give `ELECT_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `e` is NULL or a live election; `out` is NULL or points to writable memory for one
/// `elect_leader_info` (its previous contents are overwritten, not freed).
#[no_mangle]
pub unsafe extern "C" fn elect_leader(
    e: *mut elect_election,
    out: *mut elect_leader_info,
) -> elect_status {
    guard::status("elect_leader", || {
        guard::non_null(out, "out")?;
        // SAFETY: non-NULL and writable per the contract.
        unsafe {
            out.write(elect_leader_info {
                id: ptr::null_mut(),
                value: ptr::null_mut(),
                term: 0,
            })
        };
        // SAFETY: NULL or a live election per the contract.
        let election = unsafe { election_ref(e)? };
        if let Some(leader) = election.leader()? {
            // SAFETY: as above.
            unsafe {
                out.write(elect_leader_info {
                    id: crate::cstring(&leader.id).into_raw(),
                    value: crate::cstring(&leader.value).into_raw(),
                    term: leader.term,
                })
            };
        }
        Ok(())
    })
}

/// Frees the strings of `*info` filled by `elect_leader` and zeroes it, so a second call is a
/// no-op. NULL `info` is a no-op. Threading: any thread, not concurrently on the same struct.
///
/// # Safety
/// `info` is NULL, zeroed, or filled by `elect_leader` and not freed since.
#[no_mangle]
pub unsafe extern "C" fn elect_leader_info_free(info: *mut elect_leader_info) {
    guard::value("elect_leader_info_free", (), || {
        if info.is_null() {
            return;
        }
        // SAFETY: non-NULL; its strings come from CString::into_raw in elect_leader or are NULL.
        unsafe {
            let info = &mut *info;
            crate::free_cstring(info.id);
            crate::free_cstring(info.value);
            info.id = ptr::null_mut();
            info.value = ptr::null_mut();
            info.term = 0;
        }
    })
}

/// Reads the live candidates of the election from the store into `*out` (`len` 0 when there
/// are none). Blocks for at most the `connect_timeout` option.
///
/// Ownership: the caller owns the list and releases it with `elect_members_free`. On failure
/// `*out` is zeroed. Threading: any thread. NULL `e` or `out` give
/// `ELECT_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `e` is NULL or a live election; `out` is NULL or points to writable memory for one
/// `elect_member_list` (its previous contents are overwritten, not freed).
#[no_mangle]
pub unsafe extern "C" fn elect_members(
    e: *mut elect_election,
    out: *mut elect_member_list,
) -> elect_status {
    guard::status("elect_members", || {
        guard::non_null(out, "out")?;
        // SAFETY: non-NULL and writable per the contract.
        unsafe {
            out.write(elect_member_list {
                items: ptr::null_mut(),
                len: 0,
            })
        };
        // SAFETY: NULL or a live election per the contract.
        let election = unsafe { election_ref(e)? };
        let members = election.members()?;
        if members.is_empty() {
            return Ok(());
        }
        let items: Box<[elect_member]> = members
            .iter()
            .map(|m| elect_member {
                id: crate::cstring(&m.id).into_raw(),
                value: crate::cstring(&m.value).into_raw(),
            })
            .collect();
        let len = items.len();
        // SAFETY: as above; the boxed slice is reclaimed in elect_members_free with this len.
        unsafe {
            out.write(elect_member_list {
                items: Box::into_raw(items) as *mut elect_member,
                len,
            })
        };
        Ok(())
    })
}

/// Frees a list filled by `elect_members` and zeroes it, so a second call is a no-op. NULL
/// `list` is a no-op. Threading: any thread, not concurrently on the same list.
///
/// # Safety
/// `list` is NULL, zeroed, or filled by `elect_members` and not freed since.
#[no_mangle]
pub unsafe extern "C" fn elect_members_free(list: *mut elect_member_list) {
    guard::value("elect_members_free", (), || {
        if list.is_null() {
            return;
        }
        // SAFETY: non-NULL; items/len come from elect_members (a boxed slice of exactly len
        // members whose strings come from CString::into_raw), or are NULL/0.
        unsafe {
            let list = &mut *list;
            if !list.items.is_null() {
                let items = Box::from_raw(ptr::slice_from_raw_parts_mut(list.items, list.len));
                for m in items.iter() {
                    crate::free_cstring(m.id);
                    crate::free_cstring(m.value);
                }
            }
            list.items = ptr::null_mut();
            list.len = 0;
        }
    })
}
