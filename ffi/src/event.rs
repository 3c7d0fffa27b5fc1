//! `elect_event`: what the library passes to the host's callback, and the bridge from core's
//! `Handler` to a C function pointer.

use std::ffi::{c_char, c_void, CString};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use elect_core::{Event, EventKind, Handler, RevokeReason};

/// Which event an `elect_event` is.
#[allow(non_camel_case_types)]
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum elect_event_kind {
    /// This candidate leads, with fencing token `term`.
    ELECT_EVENT_ELECTED = 1,
    /// This candidate's leadership of `term` ended, for `reason`. Always delivered before the
    /// `ELECT_EVENT_ELECTED` of a later term.
    ELECT_EVENT_REVOKED = 2,
    /// The leader changed: `leader_id`, `leader_value` and `term` (the leader's token) describe
    /// it, or `leader_id` is NULL while nobody leads.
    ELECT_EVENT_LEADER_CHANGED = 3,
    /// Something went wrong that the election recovers from by itself; see `message`.
    ELECT_EVENT_ERROR = 4,
    /// A candidate joined the election: `member_id`, `member_value`. Every member present when
    /// following starts is reported as joined first.
    ELECT_EVENT_MEMBER_JOINED = 5,
    /// A candidate left (closed, or its record expired after a crash): `member_id`,
    /// `member_value`.
    ELECT_EVENT_MEMBER_LEFT = 6,
}

/// Why a leadership ended (`ELECT_EVENT_REVOKED`); `ELECT_REASON_NONE` for other events.
#[allow(non_camel_case_types)]
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum elect_revoke_reason {
    ELECT_REASON_NONE = 0,
    /// `elect_resign` was called.
    ELECT_REASON_RESIGNED = 1,
    /// The lease deadline passed without a confirmed renewal.
    ELECT_REASON_LEASE_EXPIRED = 2,
    /// The store says the lease or session is gone.
    ELECT_REASON_SESSION_LOST = 3,
    /// The connection to the store failed; the leader stepped down at once.
    ELECT_REASON_STORE_UNREACHABLE = 4,
    /// The election was closed.
    ELECT_REASON_CLOSED = 5,
    /// The leader handed the leadership to a named successor (`elect_hand_over_to`, or a
    /// candidate of higher priority under the `priority` option).
    ELECT_REASON_PREEMPTED = 6,
}

impl From<EventKind> for elect_event_kind {
    fn from(kind: EventKind) -> elect_event_kind {
        use elect_event_kind::*;
        match kind {
            EventKind::Elected => ELECT_EVENT_ELECTED,
            EventKind::Revoked => ELECT_EVENT_REVOKED,
            EventKind::LeaderChanged => ELECT_EVENT_LEADER_CHANGED,
            EventKind::Error => ELECT_EVENT_ERROR,
            EventKind::MemberJoined => ELECT_EVENT_MEMBER_JOINED,
            EventKind::MemberLeft => ELECT_EVENT_MEMBER_LEFT,
        }
    }
}

impl From<RevokeReason> for elect_revoke_reason {
    fn from(reason: RevokeReason) -> elect_revoke_reason {
        use elect_revoke_reason::*;
        match reason {
            RevokeReason::Resigned => ELECT_REASON_RESIGNED,
            RevokeReason::LeaseExpired => ELECT_REASON_LEASE_EXPIRED,
            RevokeReason::SessionLost => ELECT_REASON_SESSION_LOST,
            RevokeReason::StoreUnreachable => ELECT_REASON_STORE_UNREACHABLE,
            RevokeReason::Closed => ELECT_REASON_CLOSED,
            RevokeReason::Preempted => ELECT_REASON_PREEMPTED,
        }
    }
}

/// One event of one election, passed to the `elect_callback`.
///
/// Ownership: the event and every string in it belong to the library and are valid only
/// during the callback; copy what you keep. Strings are NUL-terminated UTF-8 or NULL.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct elect_event {
    pub kind: elect_event_kind,
    /// `ELECTED`/`REVOKED`: the term (fencing token). `LEADER_CHANGED`: the new leader's term,
    /// 0 while nobody leads. `ERROR`: 0.
    pub term: u64,
    /// `REVOKED`: why. Otherwise `ELECT_REASON_NONE`.
    pub reason: elect_revoke_reason,
    /// `LEADER_CHANGED`: the leader's id, NULL while nobody leads. Otherwise NULL.
    pub leader_id: *const c_char,
    /// `LEADER_CHANGED`: the leader's value ("" if it set none), NULL while nobody leads.
    /// Otherwise NULL.
    pub leader_value: *const c_char,
    /// `ERROR`: what went wrong. Otherwise NULL.
    pub message: *const c_char,
    /// `MEMBER_JOINED`/`MEMBER_LEFT`: the candidate's id. Otherwise NULL.
    pub member_id: *const c_char,
    /// `MEMBER_JOINED`/`MEMBER_LEFT`: the candidate's value ("" if it set none). Otherwise NULL.
    pub member_value: *const c_char,
}

/// The host's event function. Called on a thread owned by the library (a bounded pool that serves
/// every election; one election's events may come on different threads), never concurrently
/// for the same election, in order. It may call any elect function,
/// including `elect_close` on its own election.
#[allow(non_camel_case_types)]
pub type elect_callback =
    Option<unsafe extern "C" fn(ev: *const elect_event, user_data: *mut c_void)>;

/// The name of a revoke reason, e.g. `"lease_expired"`; `"none"` for `ELECT_REASON_NONE` and
/// `"unknown"` for a value that is no reason.
///
/// Ownership: a static string; never free it. Never NULL. Thread-safe.
#[no_mangle]
pub extern "C" fn elect_reason_name(reason: i32) -> *const c_char {
    crate::guard::value(
        "elect_reason_name",
        c"unknown".as_ptr(),
        || match RevokeReason::from_i32(reason) {
            Some(reason) => crate::static_cstr(reason.name()),
            None if reason == 0 => c"none".as_ptr(),
            None => c"unknown".as_ptr(),
        },
    )
}

/// The caller's `user_data`, handed back to its callback on a callback thread.
pub(crate) struct UserData(pub(crate) *mut c_void);

// SAFETY: the pointer is opaque to us and only passed back to the host's callback; the host
// promises (in `elect_open`'s docs) that it may be used from the library's callback thread.
unsafe impl Send for UserData {}

impl UserData {
    /// A method (not `.0`) so closures capture the whole `Send` wrapper, not the raw field.
    pub(crate) fn get(&self) -> *mut c_void {
        self.0
    }
}

/// A core handler calling `callback(event, user_data)`, skipped once `muted` is set (by
/// `elect_close` from inside a callback, so that no callback starts after `elect_close`
/// returned, even for events that were already queued).
pub(crate) fn handler(
    callback: unsafe extern "C" fn(*const elect_event, *mut c_void),
    user_data: *mut c_void,
    muted: Arc<AtomicBool>,
) -> Handler {
    let user_data = UserData(user_data);
    Box::new(move |event: &Event| {
        if muted.load(Ordering::SeqCst) {
            return;
        }
        let owned = OwnedEvent::new(event);
        let c_event = owned.as_c();
        crate::election::in_callback(&muted, || {
            // SAFETY: the host gave us this function pointer and user_data for exactly this
            // call; `c_event` and the strings it points to live until after the call returns.
            unsafe { callback(&c_event, user_data.get()) }
        });
    })
}

/// An event with its strings as C strings, alive while the callback runs.
pub(crate) struct OwnedEvent {
    kind: elect_event_kind,
    term: u64,
    reason: elect_revoke_reason,
    leader_id: Option<CString>,
    leader_value: Option<CString>,
    message: Option<CString>,
    member_id: Option<CString>,
    member_value: Option<CString>,
}

impl OwnedEvent {
    pub(crate) fn new(event: &Event) -> OwnedEvent {
        let mut owned = OwnedEvent {
            kind: event.kind().into(),
            term: 0,
            reason: elect_revoke_reason::ELECT_REASON_NONE,
            leader_id: None,
            leader_value: None,
            message: None,
            member_id: None,
            member_value: None,
        };
        match event {
            Event::Elected { term } => owned.term = *term,
            Event::Revoked { term, reason } => {
                owned.term = *term;
                owned.reason = (*reason).into();
            }
            Event::LeaderChanged { leader } => {
                if let Some(leader) = leader {
                    owned.term = leader.term;
                    owned.leader_id = Some(crate::cstring(&leader.id));
                    owned.leader_value = Some(crate::cstring(&leader.value));
                }
            }
            Event::Error { message } => owned.message = Some(crate::cstring(message)),
            Event::MemberJoined { member } | Event::MemberLeft { member } => {
                owned.member_id = Some(crate::cstring(&member.id));
                owned.member_value = Some(crate::cstring(&member.value));
            }
        }
        owned
    }

    pub(crate) fn as_c(&self) -> elect_event {
        let ptr = |s: &Option<CString>| s.as_ref().map_or(ptr::null(), |s| s.as_ptr());
        elect_event {
            kind: self.kind,
            term: self.term,
            reason: self.reason,
            leader_id: ptr(&self.leader_id),
            leader_value: ptr(&self.leader_value),
            message: ptr(&self.message),
            member_id: ptr(&self.member_id),
            member_value: ptr(&self.member_value),
        }
    }
}

#[cfg(test)]
mod table_tests {
    use super::*;

    /// The C ABI's event kinds and revoke reasons are core's, by number and by name.
    #[test]
    fn c_tables_match_core() {
        for kind in EventKind::ALL {
            let c = elect_event_kind::from(kind);
            assert_eq!(c as i32, kind as i32, "{kind:?}");
            let name = format!("ELECT_EVENT_{}", kind.name().to_uppercase());
            assert_eq!(format!("{c:?}"), name);
        }
        for reason in RevokeReason::ALL {
            let c = elect_revoke_reason::from(reason);
            assert_eq!(c as i32, reason as i32, "{reason:?}");
            let name = format!("ELECT_REASON_{}", reason.name().to_uppercase());
            assert_eq!(format!("{c:?}"), name);
        }
        assert_eq!(elect_revoke_reason::ELECT_REASON_NONE as i32, 0);
    }
}
