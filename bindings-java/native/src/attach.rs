//! The daemon attachment of core's callback threads to the JVM.
//!
//! jni 0.22 only offers non-daemon attachments, and a non-daemon thread keeps `main` from
//! returning: an election a program forgot to close would hang its exit. So each callback
//! thread (core's pool serves every election) attaches itself with the raw `AttachCurrentThreadAsDaemon`, once (later events find
//! it attached through `GetEnv`), and a thread-local guard detaches it when the thread ends.

use std::cell::Cell;
use std::ffi::{c_void, CString};
use std::ptr;

use jni::sys::{self, JNI_OK, JNI_VERSION_1_8};
use jni::JavaVM;

/// Detaches the thread when its thread-locals are destroyed, if this module attached it.
struct Detach {
    vm: Cell<*mut sys::JavaVM>,
}

impl Drop for Detach {
    fn drop(&mut self) {
        let vm = self.vm.get();
        if vm.is_null() {
            return;
        }
        // SAFETY: `vm` is the JavaVM this thread attached to in `current_env` and the thread is
        // ending, so no JNI reference of it is used after this call.
        unsafe {
            ((*(*vm)).v1_1.DetachCurrentThread)(vm);
        }
    }
}

thread_local! {
    static DETACH: Detach = const { Detach { vm: Cell::new(ptr::null_mut()) } };
}

/// The JNIEnv of the current thread, attaching it as a daemon first if it is not attached.
/// `None` if the JVM refuses (it is shutting down).
pub fn current_env(vm: &JavaVM) -> Option<*mut sys::JNIEnv> {
    let raw = vm.get_raw();
    let mut env: *mut c_void = ptr::null_mut();
    // SAFETY: `raw` is the live JavaVM (from JNI_OnLoad or the singleton); GetEnv only writes
    // the env pointer of the calling thread.
    let rc = unsafe { ((*(*raw)).v1_2.GetEnv)(raw, &mut env, JNI_VERSION_1_8) };
    if rc == JNI_OK && !env.is_null() {
        return Some(env.cast());
    }
    // A Java-visible name makes the thread recognizable in thread dumps.
    let name = std::thread::current()
        .name()
        .and_then(|n| CString::new(n).ok())
        .unwrap_or_else(|| CString::from(c"elect-events"));
    let mut args = sys::JavaVMAttachArgs {
        version: JNI_VERSION_1_8,
        name: name.as_ptr() as *mut _,
        group: ptr::null_mut(),
    };
    // SAFETY: as above; `args` and the name it points to outlive the call, which copies them.
    let rc = unsafe {
        ((*(*raw)).v1_4.AttachCurrentThreadAsDaemon)(
            raw,
            &mut env,
            &mut args as *mut sys::JavaVMAttachArgs as *mut c_void,
        )
    };
    if rc != JNI_OK || env.is_null() {
        return None;
    }
    DETACH.with(|d| d.vm.set(raw));
    Some(env.cast())
}
