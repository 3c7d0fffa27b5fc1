//! `elect_set_logger`: the library's log records, handed to one C function of the host.

use std::ffi::{c_char, c_void, CString};
use std::ptr;

use elect_core::log_bridge::{self, Level, Record};
use elect_core::Error;

use crate::error::elect_status;

/// Severity of a log record; also the `min_level` of `elect_set_logger`.
#[allow(non_camel_case_types)]
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum elect_log_level {
    /// Not a record's level: as `min_level`, no record at all.
    ELECT_LOG_OFF = 0,
    ELECT_LOG_ERROR = 1,
    /// Lost leaderships (other than resigned or closed), store errors, lost connections.
    ELECT_LOG_WARN = 2,
    /// Elected, revoked (resigned or closed), leader changed.
    ELECT_LOG_INFO = 3,
    ELECT_LOG_DEBUG = 4,
    ELECT_LOG_TRACE = 5,
}

/// One log record, passed to the `elect_log_fn`.
///
/// Ownership: the record and every string in it belong to the library and are valid only
/// during the call; copy what you keep. Strings are NUL-terminated UTF-8; those that may be
/// absent are NULL then. No record holds a password.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct elect_log_record {
    pub level: elect_log_level,
    /// The library module that wrote it, e.g. `"elect_core::event_log"`. Never NULL.
    pub target: *const c_char,
    /// What happened. Never NULL.
    pub message: *const c_char,
    /// The election's name, or NULL.
    pub election: *const c_char,
    /// The store's connection string with the password as `***`, or NULL.
    pub store: *const c_char,
    /// This candidate's id, or NULL.
    pub id: *const c_char,
    /// The term (fencing token) the record is about, 0 when none.
    pub term: u64,
    /// Every field as `key=value` pairs separated by spaces (values with spaces quoted), the
    /// ones above included; `""` when there is none. Never NULL.
    pub fields: *const c_char,
}

/// The host's log function.
///
/// Threading: called on one thread owned by the library (`elect-log`), never concurrently,
/// in the order the records were written. It may call any elect function, `elect_set_logger`
/// included; records it causes itself are queued, never delivered from inside the call.
/// A slow function does not slow elections down: records then wait in a bounded queue, and
/// those that do not fit are dropped, counted, and reported in a later WARN record.
#[allow(non_camel_case_types)]
pub type elect_log_fn =
    Option<unsafe extern "C" fn(record: *const elect_log_record, user_data: *mut c_void)>;

/// Sends the library's log records at `min_level` and more severe (an `elect_log_level`) to
/// `callback` with `user_data`, replacing any logger set before. A NULL `callback` (or
/// `ELECT_LOG_OFF`) removes it. Without a logger nothing is formatted: the filter is applied
/// where records are written, at the cost of one atomic load.
///
/// Leadership changes are logged for every election: `Elected` and `LeaderChanged` at INFO,
/// `Revoked` at INFO (resigned, closed) or WARN, store errors at WARN, each with the election,
/// this candidate's id, the store and the term.
///
/// Once it returns, the logger set before is not called again (unless `elect_set_logger` is
/// called from inside that logger, which it cannot wait for). `user_data` must stay valid
/// until then. One logger per process; a forked child keeps it.
///
/// Threading: any thread. `ELECT_ERR_INVALID_ARGUMENT` for a `min_level` outside 0-5.
#[no_mangle]
pub extern "C" fn elect_set_logger(
    callback: elect_log_fn,
    user_data: *mut c_void,
    min_level: i32,
) -> elect_status {
    crate::guard::status("elect_set_logger", || {
        if !(0..=5).contains(&min_level) {
            return Err(Error::invalid(format!(
                "min_level: {min_level} is not an elect_log_level (0-5)"
            )));
        }
        match (callback, Level::from_i32(min_level)) {
            (Some(callback), Some(level)) => {
                log_bridge::set_sink(Some(sink(callback, user_data)), level)
            }
            _ => log_bridge::set_sink(None, Level::Error),
        }
        Ok(())
    })
}

/// The caller's `user_data`, handed back to its logger on the `elect-log` thread.
struct UserData(*mut c_void);

// SAFETY: the pointer is opaque to us and only passed back to the host's logger; the host
// promises (in `elect_set_logger`'s docs) that it may be used from the library's log thread.
unsafe impl Send for UserData {}
// SAFETY: as above; the library calls the logger from one thread at a time.
unsafe impl Sync for UserData {}

impl UserData {
    /// A method (not `.0`) so closures capture the whole wrapper, not the raw field.
    fn get(&self) -> *mut c_void {
        self.0
    }
}

fn sink(
    callback: unsafe extern "C" fn(*const elect_log_record, *mut c_void),
    user_data: *mut c_void,
) -> log_bridge::Sink {
    let user_data = UserData(user_data);
    Box::new(move |record: &Record| {
        let owned = OwnedRecord::new(record);
        let c_record = owned.as_c();
        // SAFETY: the host gave us this function pointer and user_data for exactly these
        // calls; `c_record` and the strings it points to live until after the call returns.
        unsafe { callback(&c_record, user_data.get()) }
    })
}

/// A record with its strings as C strings, alive while the logger runs.
struct OwnedRecord {
    level: elect_log_level,
    target: CString,
    message: CString,
    election: Option<CString>,
    store: Option<CString>,
    id: Option<CString>,
    term: u64,
    fields: CString,
}

impl OwnedRecord {
    fn new(r: &Record) -> OwnedRecord {
        let c = |s: &Option<String>| s.as_deref().map(crate::cstring);
        OwnedRecord {
            level: match r.level {
                Level::Error => elect_log_level::ELECT_LOG_ERROR,
                Level::Warn => elect_log_level::ELECT_LOG_WARN,
                Level::Info => elect_log_level::ELECT_LOG_INFO,
                Level::Debug => elect_log_level::ELECT_LOG_DEBUG,
                Level::Trace => elect_log_level::ELECT_LOG_TRACE,
            },
            target: crate::cstring(&r.target),
            message: crate::cstring(&r.message),
            election: c(&r.election),
            store: c(&r.store),
            id: c(&r.id),
            term: r.term.unwrap_or(0),
            fields: crate::cstring(&r.fields_text()),
        }
    }

    fn as_c(&self) -> elect_log_record {
        let ptr = |s: &Option<CString>| s.as_ref().map_or(ptr::null(), |s| s.as_ptr());
        elect_log_record {
            level: self.level,
            target: self.target.as_ptr(),
            message: self.message.as_ptr(),
            election: ptr(&self.election),
            store: ptr(&self.store),
            id: ptr(&self.id),
            term: self.term,
            fields: self.fields.as_ptr(),
        }
    }
}
