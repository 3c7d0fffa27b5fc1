//! Events from core's callback threads to the Java `EventSink`, which calls the listeners.
//!
//! A listener that throws is handled here, the way core handles a panicking Rust callback: the
//! exception is cleared (it never unwinds into Rust), logged by the Java side with its stack
//! trace, and reported to the listeners as an `Error` event. An exception while handling that
//! `Error` event is only logged, so a listener that always throws cannot loop.

use elect_core::{Event, Handler};
use jni::objects::{JObject, JString};
use jni::refs::Global;
use jni::signature::{JavaType, Primitive};
use jni::sys::jvalue;
use jni::{Env, EnvUnowned, JValue, JavaVM, Outcome};

use crate::attach;
use crate::cache;
use crate::errors::{panic_message, NativeError};

/// A core event handler that forwards to `sink` (an `io.elect.EventSink`).
pub fn handler(sink: Global<JObject<'static>>) -> Handler {
    Box::new(move |event| deliver(&sink, event))
}

fn deliver(sink: &Global<JObject<'static>>, event: &Event) {
    let Ok(vm) = JavaVM::singleton() else {
        return;
    };
    // The first event attaches this thread as a daemon; later ones find it attached.
    let Some(raw) = attach::current_env(&vm) else {
        return; // the JVM is shutting down: nobody is left to tell
    };
    // SAFETY: `raw` is this thread's JNIEnv, attached just above or by an earlier event, and
    // valid until the thread detaches when it ends.
    let mut unowned = unsafe { EnvUnowned::from_raw(raw) };
    let outcome = unowned
        .with_env(|env| -> Result<(), NativeError> {
            // This thread never returns to Java, so local references must be freed per event.
            env.with_local_frame(16, |env| -> Result<(), NativeError> {
                notify(env, sink, event);
                Ok(())
            })
        })
        .into_outcome();
    match outcome {
        Outcome::Ok(()) => {}
        Outcome::Err(e) => eprintln!("elect: cannot deliver {event:?} to Java: {e}"),
        Outcome::Panic(p) => eprintln!(
            "elect: panic while delivering {event:?} to Java: {}",
            panic_message(p.as_ref())
        ),
    }
}

fn notify(env: &mut Env<'_>, sink: &Global<JObject<'static>>, event: &Event) {
    if dispatch(env, sink, event).is_ok() && !env.exception_check() {
        return;
    }
    let message = take_exception(env, sink, &describe(event));
    if matches!(event, Event::Error { .. }) {
        return;
    }
    if dispatch(env, sink, &Event::Error { message }).is_err() || env.exception_check() {
        take_exception(env, sink, "error");
    }
}

/// Calls `sink.dispatch(kind, term, a, b)`.
fn dispatch(
    env: &mut Env<'_>,
    sink: &Global<JObject<'static>>,
    event: &Event,
) -> Result<(), NativeError> {
    // `EventSink` switches on core's numbers of the kinds (checked by `TablesTest`).
    let kind = event.kind() as i32;
    let (term, a, b): (u64, Option<&str>, Option<&str>) = match event {
        Event::Elected { term } => (*term, None, None),
        Event::Revoked { term, reason } => (*term, Some(reason.name()), None),
        Event::LeaderChanged { leader: Some(l) } => (l.term, Some(&l.id), Some(&l.value)),
        Event::LeaderChanged { leader: None } => (0, None, None),
        Event::Error { message } => (0, Some(message), None),
        Event::MemberJoined { member } | Event::MemberLeft { member } => {
            (0, Some(&member.id), Some(&member.value))
        }
    };
    let a = optional_string(env, a)?;
    let b = optional_string(env, b)?;
    let args: [jvalue; 4] = [
        JValue::Int(kind).as_jni(),
        JValue::Long(term as i64).as_jni(),
        JValue::Object(&a).as_jni(),
        JValue::Object(&b).as_jni(),
    ];
    let c = cache::get();
    // SAFETY: `sink_dispatch` was looked up on io.elect.EventSink with the signature
    // `(IJLjava/lang/String;Ljava/lang/String;)V`, matching `args`; `sink` is an EventSink.
    unsafe {
        env.call_method_unchecked(
            sink,
            c.sink_dispatch,
            JavaType::Primitive(Primitive::Void),
            &args,
        )
    }?;
    Ok(())
}

fn optional_string<'local>(
    env: &mut Env<'local>,
    s: Option<&str>,
) -> Result<JObject<'local>, NativeError> {
    Ok(match s {
        Some(s) => JString::from_str(env, s)?.into(),
        None => JObject::null(),
    })
}

/// Clears the pending exception, has the Java side log it, and returns the message of the
/// `Error` event that reports it.
fn take_exception(env: &mut Env<'_>, sink: &Global<JObject<'static>>, event: &str) -> String {
    let fallback = format!("a listener failed while handling {event}");
    let Some(thrown) = env.exception_occurred() else {
        return fallback;
    };
    env.exception_clear();
    let described = (|| -> Result<String, NativeError> {
        let event = JString::from_str(env, event)?;
        let args: [jvalue; 2] = [
            JValue::Object(&thrown).as_jni(),
            JValue::Object(&event).as_jni(),
        ];
        let c = cache::get();
        // SAFETY: `sink_failed` is `String listenerFailed(Throwable, String)` on EventSink.
        let message =
            unsafe { env.call_method_unchecked(sink, c.sink_failed, JavaType::Object, &args) }?
                .l()?;
        // SAFETY: `listenerFailed` returns a String (checked non-null below).
        let message = unsafe { JString::from_raw(env, message.into_raw()) };
        if message.is_null() {
            return Ok(String::new());
        }
        Ok(message.try_to_string(env)?)
    })();
    match described {
        Ok(m) if !m.is_empty() => m,
        _ => {
            if env.exception_check() {
                env.exception_clear(); // logging failed too; the fallback still reports it
            }
            fallback
        }
    }
}

fn describe(event: &Event) -> String {
    match event {
        Event::Elected { term } => format!("elected {term}"),
        Event::Revoked { term, reason } => format!("revoked {term} {reason}"),
        Event::LeaderChanged { leader: Some(l) } => format!("leader {} {}", l.id, l.term),
        Event::LeaderChanged { leader: None } => "leader -".to_string(),
        Event::Error { .. } => "error".to_string(),
        Event::MemberJoined { member } => format!("member_joined {}", member.id),
        Event::MemberLeft { member } => format!("member_left {}", member.id),
    }
}
