//! Errors and panics of native methods, thrown as `io.elect.ElectException`s.
//!
//! The code-to-exception table exists once, in Java (`io.elect.ErrorCode`); this side only
//! passes core's numeric code and message to `ErrorCode.exceptionFor`. [`verify_table`] checks
//! at load time that the Java table names every code of core the same way.

use std::any::Any;

use elect_core::ErrorCode;
use jni::errors::ErrorPolicy;
use jni::objects::{JObject, JString, JThrowable};
use jni::signature::{JavaType, Primitive};
use jni::sys::jvalue;
use jni::{Env, JValue};

use crate::cache;

/// What a native method body can fail with.
#[derive(Debug)]
pub enum NativeError {
    /// An error of the election: thrown as the `ElectException` subclass of its code.
    Elect(elect_core::Error),
    /// A failed JNI call; if it left a Java exception pending, that one is kept.
    Jni(jni::errors::Error),
}

impl From<jni::errors::Error> for NativeError {
    fn from(e: jni::errors::Error) -> Self {
        NativeError::Jni(e)
    }
}

impl From<elect_core::Error> for NativeError {
    fn from(e: elect_core::Error) -> Self {
        NativeError::Elect(e)
    }
}

impl std::fmt::Display for NativeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NativeError::Elect(e) => write!(f, "{}: {}", e.code().name(), e.message()),
            NativeError::Jni(e) => write!(f, "JNI: {e}"),
        }
    }
}

/// The error policy of every native method: an error becomes the matching `ElectException`,
/// a panic an `ElectException.Internal`; the method then returns 0/null/false.
pub struct ThrowElect;

impl<T: Default> ErrorPolicy<T, NativeError> for ThrowElect {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut (),
        err: NativeError,
    ) -> jni::errors::Result<T> {
        if env.exception_check() {
            return Ok(T::default()); // a Java exception is already on its way
        }
        match err {
            NativeError::Elect(e) => throw(env, e.code(), e.message()),
            NativeError::Jni(e) => {
                throw(env, ErrorCode::Internal, &format!("JNI call failed: {e}"))
            }
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut (),
        payload: Box<dyn Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        if env.exception_check() {
            env.exception_clear();
        }
        let what = panic_message(payload.as_ref());
        throw(
            env,
            ErrorCode::Internal,
            &format!("panic in elect's native code: {what}"),
        );
        Ok(T::default())
    }
}

pub use elect_core::panic_message;

/// Throws the `ElectException` of `code` built by the Java table.
fn throw(env: &mut Env<'_>, code: ErrorCode, message: &str) {
    let built = (|| -> jni::errors::Result<JObject<'_>> {
        let message = JString::from_str(env, message)?;
        let c = cache::get();
        let args: [jvalue; 2] = [
            JValue::Int(code as i32).as_jni(),
            JValue::Object(&message).as_jni(),
        ];
        // SAFETY: `exception_for` was looked up on `error_code` with exactly this signature
        // `(ILjava/lang/String;)Lio/elect/ElectException;`, matching `args` and the return type.
        let exception = unsafe {
            env.call_static_method_unchecked(
                &c.error_code,
                c.exception_for,
                JavaType::Object,
                &args,
            )
        }?;
        exception.l()
    })();
    match built {
        Ok(exception) => {
            // SAFETY: `exceptionFor` is declared to return an ElectException, a Throwable.
            let throwable = unsafe { JThrowable::from_raw(env, exception.into_raw()) };
            let _ = env.throw(throwable); // Err(JavaException) just says it is now pending
        }
        Err(_) if env.exception_check() => {} // keep the exception the table itself threw
        Err(_) => {
            let _ = env.throw_new(
                jni::jni_str!("java/lang/IllegalStateException"),
                jni::strings::JNIString::from(message),
            );
        }
    }
}

/// Checks that `io.elect.ErrorCode` names every code of core, in the same order, and no more.
pub fn verify_table(env: &mut Env<'_>) -> Result<(), NativeError> {
    let c = cache::get();
    // SAFETY: `code_count` is `static int count()` on `error_code`.
    let count = unsafe {
        env.call_static_method_unchecked(
            &c.error_code,
            c.code_count,
            JavaType::Primitive(Primitive::Int),
            &[],
        )
    }?
    .i()?;
    let mismatch = |what: String| {
        NativeError::Elect(elect_core::Error::internal(format!(
            "io.elect.ErrorCode does not match elect-core's error codes: {what}"
        )))
    };
    if count as usize != ErrorCode::ALL.len() {
        return Err(mismatch(format!(
            "Java has {count} codes, core has {}",
            ErrorCode::ALL.len()
        )));
    }
    for code in ErrorCode::ALL {
        let args = [JValue::Int(code as i32).as_jni()];
        // SAFETY: `name_of` is `static String nameOf(int)` on `error_code`.
        let name = unsafe {
            env.call_static_method_unchecked(&c.error_code, c.name_of, JavaType::Object, &args)
        }?
        .l()?;
        let name = if name.is_null() {
            None
        } else {
            // SAFETY: `nameOf` returns a String.
            let name = unsafe { JString::from_raw(env, name.into_raw()) };
            let text = name.try_to_string(env)?;
            env.delete_local_ref(name);
            Some(text)
        };
        if name.as_deref() != Some(code.name()) {
            return Err(mismatch(format!(
                "code {} is `{}` in core but {:?} in Java",
                code as i32,
                code.name(),
                name
            )));
        }
    }
    Ok(())
}
