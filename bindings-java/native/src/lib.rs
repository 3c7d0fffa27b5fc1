//! elect-jni: the JNI binding behind the `io.elect` Java API.
//!
//! It calls `elect-core` directly (not the C ABI). Everything the JVM calls into is set up in
//! [`JNI_OnLoad`]: class references and method ids are cached once, the native methods of
//! `io.elect.NativeElection` are bound with `RegisterNatives` (so a Java declaration that does
//! not match fails `System.load`, not the first call), and the Java error-code table is checked
//! against core's [`elect_core::ErrorCode`].
//!
//! Module map: [`natives`] the methods Java calls, [`events`] the calls back into Java from the
//! election's dispatcher thread, [`attach`] the daemon attachment of that thread, [`errors`] the
//! mapping of errors and panics to Java exceptions, [`cache`] the load-time lookups, [`handle`]
//! the `long` a Java `LeaderElection` holds, [`observe`] core's log records to
//! `System.Logger` and the metrics snapshot, [`terms`] the `Term` methods, [`groups`] the `LeaderGroup` methods.

mod attach;
mod cache;
mod errors;
mod events;
mod groups;
mod handle;
mod natives;
mod observe;
mod terms;

use std::ffi::c_void;

use jni::sys::{jint, JNI_ERR, JNI_VERSION_1_8};
use jni::{jni_str, Env, EnvUnowned, JavaVM};

use crate::errors::NativeError;

/// Called by the JVM once, from `System.load`, on the loading Java thread.
///
/// On failure it leaves an `UnsatisfiedLinkError` pending, which `System.load` rethrows, so a
/// broken build fails at startup with a message that says what did not match.
///
/// # Safety
/// Only the JVM calls this, with its own valid `JavaVM` pointer, on a thread it attached.
#[no_mangle]
pub unsafe extern "system" fn JNI_OnLoad(
    vm: *mut jni::sys::JavaVM,
    _reserved: *mut c_void,
) -> jint {
    // SAFETY: the JVM passes its own valid JavaVM pointer to JNI_OnLoad.
    let vm = unsafe { JavaVM::from_raw(vm) };
    let Some(raw_env) = attach::current_env(&vm) else {
        return JNI_ERR;
    };
    // SAFETY: `raw_env` is the JNIEnv of this thread, which the JVM attached (it is running
    // System.load), and it stays valid for the whole call.
    let mut unowned = unsafe { EnvUnowned::from_raw(raw_env) };
    let outcome = unowned
        .with_env(|env| -> Result<bool, NativeError> {
            match load(env) {
                Ok(()) => Ok(true),
                Err(e) => {
                    fail_load(env, &e.to_string());
                    Ok(false)
                }
            }
        })
        .into_outcome();
    match outcome {
        jni::Outcome::Ok(true) => JNI_VERSION_1_8,
        _ => JNI_ERR,
    }
}

fn load(env: &mut Env<'_>) -> Result<(), NativeError> {
    cache::init(env)?;
    observe::init(env)?;
    natives::register(env)?;
    errors::verify_table(env)?;
    Ok(())
}

fn fail_load(env: &mut Env<'_>, message: &str) {
    if env.exception_check() {
        env.exception_clear();
    }
    let message = format!("elect: cannot initialize libelect_jni: {message}");
    let _ = env.throw_new(
        jni_str!("java/lang/UnsatisfiedLinkError"),
        jni::strings::JNIString::from(message),
    );
}
